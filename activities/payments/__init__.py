"""Payment side effects: the Razorpay adapter, the local gateway, the Order workflow's activities."""
