"""The gateway's clients: programs that talk to a mail server, not part of one.

- ``agent``: the customs agent's reference client (submit by SMTP, fetch by POP3/IMAP),
  directly or dialled through the modem simulator;
- ``mail_files``: the agent's mail as files (a submission from declaration files, fetched
  messages saved under names from the message itself);
- ``office_watch``: the office clerk's live feed of acceptances (IMAP IDLE);
- ``pickup_readers``: how the node's pickup worker reads an outside mailbox (IMAP, POP3);
- ``pop3``: a POP3 session on a socket the caller already holds (a dialled line);
- ``responses``: the one place where what POP3 and IMAP servers answer is parsed.
"""
