"""The declaration pipeline: intake job → extract → parse → validate → number → replies."""

from __future__ import annotations

from gateway.pipeline.worker import DEFAULT_CHANNEL_SEED, PipelineWorker

__all__ = ["DEFAULT_CHANNEL_SEED", "PipelineWorker"]
