"""The caller's gRPC deadline, on the monotonic clock the domain uses."""

from __future__ import annotations

import time

import grpc


def deadline_of(context: grpc.aio.ServicerContext) -> float | None:
    """Absolute `time.monotonic()` deadline of the call, or None when it has none."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining
