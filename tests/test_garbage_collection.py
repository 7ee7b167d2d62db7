"""The collector's settings for a running server: what lives from the start is left out of
collections, and what requests leave behind in cycles is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from routeur_grpc.garbage_collection import (
    MIDDLE_COLLECTION_THRESHOLD,
    YOUNG_COLLECTION_THRESHOLD,
    freeze_startup_objects,
)


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.mark.usefixtures("restored_collector")
def test_objects_alive_at_start_are_left_out_and_later_cycles_are_still_collected() -> None:
    started_with = Node()
    freeze_startup_objects()
    assert gc.get_freeze_count() > 0
    assert not any(o is started_with for o in gc.get_objects())
    young, middle, _ = gc.get_threshold()
    assert (young, middle) == (YOUNG_COLLECTION_THRESHOLD, MIDDLE_COLLECTION_THRESHOLD)

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: reference counting cannot free it
    watched = weakref.ref(first)
    del first, second
    gc.collect()
    assert watched() is None
