"""SMTP submission and local delivery on aiosmtpd."""

from gateway.smtp.handler import SubmissionHandler
from gateway.smtp.server import SmtpServer, start_smtp_server

__all__ = ["SmtpServer", "SubmissionHandler", "start_smtp_server"]
