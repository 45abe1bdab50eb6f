"""Mailbox requests by mail: the form, its limits, the letters, the desk that files them."""
