"""Personal data: what a client may take away (export), have erased, and what they agreed to."""
