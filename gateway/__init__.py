"""The node: SMTP, POP3 and IMAP servers on the store, the declaration pipeline, the CLI."""
