"""Mail for other nodes: who hosts what, the relay queue's sender, delivery status notices."""

from gateway.routing.relay import RelayWorker
from gateway.routing.router import Router

__all__ = ["RelayWorker", "Router"]
