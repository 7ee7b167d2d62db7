"""WebRTC signalling between the participants of a realtime session.

Browsers that set up a WebRTC call exchange `offer`, `answer` and `ice` messages through a
server they can both reach. Routeur relays them untouched to every other connection that
joined the same session id, without reading them. Rooms are per owner: a session id names
a room only among one owner's connections, so nobody can listen in on another owner's
signalling by guessing an id.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

SIGNALLING_TYPES: frozenset[str] = frozenset({"offer", "answer", "ice"})

Deliver = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Participant:
    """One connection in a room."""

    room: tuple[str, str]  # (owner id, session id)
    number: int


class SignallingRooms:
    """Who is in each room, and relaying a message to the others."""

    def __init__(self) -> None:
        self._rooms: dict[tuple[str, str], dict[int, Deliver]] = {}
        self._numbers = itertools.count(1)

    @contextlib.contextmanager
    def join(self, owner_id: str, session_id: str, deliver: Deliver) -> Iterator[Participant]:
        """Be in the room for the time of the `with` block; `deliver` receives relayed text."""
        room = (owner_id, session_id)
        participant = Participant(room, next(self._numbers))
        self._rooms.setdefault(room, {})[participant.number] = deliver
        try:
            yield participant
        finally:
            members = self._rooms.get(room, {})
            members.pop(participant.number, None)
            if not members:
                self._rooms.pop(room, None)

    async def relay(self, sender: Participant, text: str) -> int:
        """Send `text` as-is to every other participant of the sender's room; how many got
        it. A participant that has gone meanwhile is skipped."""
        delivered = 0
        for number, deliver in list(self._rooms.get(sender.room, {}).items()):
            if number == sender.number:
                continue
            try:
                await deliver(text)
            except Exception:  # noqa: BLE001 - one closed peer must not stop the others
                log.debug("signalling peer gone", extra={"participant": number})
                continue
            delivered += 1
        return delivered
