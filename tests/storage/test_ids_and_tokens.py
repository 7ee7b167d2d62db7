"""Ids and page tokens, without a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routeur_grpc.errors import InvalidArgument, NotFound
from routeur_grpc.storage.ids import ID_LENGTH, IdGenerator, check_id, from_millis, to_millis
from routeur_grpc.storage.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    encode_token,
    id_page,
    page_limit,
    seq_page,
)


def test_ids_increase_strictly_even_within_one_millisecond() -> None:
    generator = IdGenerator()
    moment = datetime(2026, 5, 1, tzinfo=UTC)

    ids = [generator.new_id(moment) for _ in range(1000)]
    ids.append(generator.new_id(moment - timedelta(seconds=1)))  # the clock stepped back

    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == ID_LENGTH and check_id("thing", i) == i for i in ids)


def test_ids_sort_by_creation_time_across_generators() -> None:
    earlier = IdGenerator().new_id(datetime(2026, 5, 1, tzinfo=UTC))
    later = IdGenerator().new_id(datetime(2026, 5, 1, 0, 0, 0, 1000, tzinfo=UTC))

    assert earlier < later


def test_a_malformed_id_is_not_found_and_not_echoed() -> None:
    with pytest.raises(NotFound) as raised:
        check_id("conversation", {"$ne": None})

    assert "$ne" not in str(raised.value)


def test_timestamps_round_trip_through_milliseconds() -> None:
    moment = datetime(2026, 5, 1, 12, 30, 45, 123_000, tzinfo=UTC)

    assert from_millis(to_millis(moment)) == moment


def test_page_sizes_default_to_fifty_and_stop_at_a_thousand() -> None:
    assert page_limit(0) == DEFAULT_PAGE_SIZE == 50
    assert page_limit(7) == 7
    assert page_limit(10**9) == MAX_PAGE_SIZE == 1000


def test_a_token_carries_its_position_for_its_own_listing_only() -> None:
    token = encode_token(("conversations.list", "alice"), "01m815w5w387cg9zxjtp4rfpss")

    assert id_page(("conversations.list", "alice"), 10, token).after == "01m815w5w387cg9zxjtp4rfpss"
    with pytest.raises(InvalidArgument):
        id_page(("conversations.list", "bob"), 10, token)


def test_a_token_whose_key_is_not_an_id_is_refused() -> None:
    for key in ({"$gt": ""}, "not an id"):
        token = encode_token(("scope",), key)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            id_page(("scope",), 10, token)
    with pytest.raises(InvalidArgument):
        seq_page(("scope",), 10, encode_token(("scope",), "3"))
    assert seq_page(("scope",), 10, encode_token(("scope",), 3)).after == 3
