"""Payments: money, prices with coupons and GST, orders and their workflow's contracts, refunds.

Pure rules only (no I/O): the API, the Order workflow and the payment activities share them.
Money is always an integer number of minor units (paise) with an ISO 4217 currency code.
"""
