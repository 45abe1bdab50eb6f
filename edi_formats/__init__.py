"""Declaration models and their wire formats."""
