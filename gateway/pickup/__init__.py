"""Picking up mail waiting in third-party mailboxes (an ISP's, the agents' association's)."""

from gateway.pickup.worker import PickupWorker

__all__ = ["PickupWorker"]
