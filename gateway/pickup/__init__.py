"""Picking up mail waiting in third-party mailboxes (an ISP's, the agents' association's).

The server's side of it: the worker that files each new message into the intake, and the
evidence of who wrote it. Reading the outside mailbox is a client's job
(``gateway.clients.pickup_readers``).
"""

from gateway.pickup.worker import PickupWorker

__all__ = ["PickupWorker"]
