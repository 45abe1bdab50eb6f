"""The store: accounts, mailboxes, messages, intake jobs."""
