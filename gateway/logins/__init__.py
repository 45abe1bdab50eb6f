"""Logins: one penalty, one cache and one set of password-check threads for every protocol."""

from gateway.logins.checks import LoginChecks, LoginRefused

__all__ = ["LoginChecks", "LoginRefused"]
