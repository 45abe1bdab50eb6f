"""IMAP for offices and agents: pymap's protocol engine on our store.

pymap parses and answers IMAP; this package supplies its storage backend
(``gateway.imap.backend`` and ``gateway.imap.mailbox``, over ``mailboxes.folders``) and the
listener the node starts (``gateway.imap.server``). The office-side client that IDLEs and
prints each accepted declaration is a client: ``gateway.clients.office_watch``.
"""

from gateway.imap import pymap_fixes
from gateway.mail import header_classes

pymap_fixes.install()  # before any module below can make pymap parse a command
header_classes.install()  # pymap's parse of header fields leaves no garbage for the collector

from gateway.imap import extensions, shape  # noqa: E402

shape.install()  # answers shaped as Dovecot gives them (see gateway.imap.shape)
extensions.install()

from gateway.imap.server import ImapServer, start_imap_server  # noqa: E402

__all__ = ["ImapServer", "start_imap_server"]
