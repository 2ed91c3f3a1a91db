"""Limits on what one request may carry. Documented in docs/limits.md; enforced by the domain."""

from __future__ import annotations

# Names (tags, hyperparameters, runs, projects): see tracker_client.validation.
from tracker_client.validation import (
    MAX_HPARAM_STRING_LENGTH,
    MAX_HPARAMS_PER_REQUEST,
    MAX_NAME_LENGTH,
    MAX_STEP,
)

MAX_WRITER_ID_LENGTH = 64
MAX_POINTS_PER_BATCH = 1_000_000
MAX_COLUMNS_PER_BATCH = 10_000
MAX_HISTOGRAM_BUCKETS = 16_384
MAX_PR_THRESHOLDS = 10_000
MAX_TEXT_LENGTH = 1_048_576  # characters per text summary
MAX_CUSTOM_SCALARS_BYTES = 65_536
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
# Server receive limit: the client keeps batches under 3 MiB; gRPC answers RESOURCE_EXHAUSTED above this.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_COLUMNS_PER_BATCH",
    "MAX_CUSTOM_SCALARS_BYTES",
    "MAX_HISTOGRAM_BUCKETS",
    "MAX_HPARAMS_PER_REQUEST",
    "MAX_HPARAM_STRING_LENGTH",
    "MAX_MESSAGE_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_PAGE_SIZE",
    "MAX_POINTS_PER_BATCH",
    "MAX_PR_THRESHOLDS",
    "MAX_STEP",
    "MAX_TEXT_LENGTH",
    "MAX_WRITER_ID_LENGTH",
]
