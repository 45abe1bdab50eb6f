"""The declaration pipeline: intake job → extract → parse → validate → number → replies.

``PipelineWorker`` is imported on first use: the worker processes import this package for
``process`` and ``pool`` alone, and must not pay for the store and the replies they never use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.pipeline.worker import DEFAULT_CHANNEL_SEED, PipelineWorker

__all__ = ["DEFAULT_CHANNEL_SEED", "PipelineWorker"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gateway.pipeline import worker

        return getattr(worker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
