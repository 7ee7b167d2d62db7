"""Datetimes as protobuf Timestamps."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The Timestamp of a timezone-aware datetime (None stays unset)."""
    if moment is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message
