"""Signalling rooms without the transport: who receives a relayed message."""

from __future__ import annotations

from routeur_grpc.services.realtime_signalling import SignallingRooms


async def test_a_message_reaches_the_other_participants_of_the_room_only() -> None:
    rooms = SignallingRooms()
    inboxes: dict[str, list[str]] = {name: [] for name in ("alice", "bob", "carol", "eve")}

    def inbox(name: str):  # type: ignore[no-untyped-def]
        async def deliver(text: str) -> None:
            inboxes[name].append(text)

        return deliver

    with (
        rooms.join("owner-1", "call", inbox("alice")) as alice,
        rooms.join("owner-1", "call", inbox("bob")),
        rooms.join("owner-1", "other-call", inbox("carol")),
        rooms.join("owner-2", "call", inbox("eve")),  # same id, another owner
    ):
        assert await rooms.relay(alice, '{"type": "offer"}') == 1
    assert inboxes == {"alice": [], "bob": ['{"type": "offer"}'], "carol": [], "eve": []}


async def test_a_gone_participant_does_not_stop_the_others() -> None:
    rooms = SignallingRooms()
    received: list[str] = []

    async def gone(text: str) -> None:
        raise ConnectionError("closed")

    async def present(text: str) -> None:
        received.append(text)

    with (
        rooms.join("o", "s", present) as sender,
        rooms.join("o", "s", gone),
        rooms.join("o", "s", present),
    ):
        assert await rooms.relay(sender, "ice") == 1
    assert received == ["ice"]
