"""The rule engine and the customs rules."""
