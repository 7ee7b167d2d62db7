"""A stream read ahead by a task of its own, with the pieces that are ready together joined.

A model streams one token per event, and every layer an event crosses (the provider's
parsing, the attempt's timeouts, the agent, the servicer, the gRPC write) costs a little per
event. Here the source is read by its own task into a small buffer while the consumer is
busy with the previous item: whatever joinable items arrived meanwhile are joined into one.
The first joinable item is never held back nor joined (it goes on as soon as it arrives),
items that come one at a time go on one at a time, and only a burst, or a consumer slower
than the source, gets fewer, longer items. Items that cannot be joined (the end of an answer,
errors, tool calls) go on as they are, in order.

An exception of the source (a cancellation from inside it included) is raised to the
consumer in its turn, after the items read before it. Closing the joined stream (the caller went away) cancels the reading task, which
closes the source at once: a cancellation still reaches the upstream without delay.

Used twice: on the provider's events, inside an attempt (`routing.attempt_runner`), and on
the chunks a servicer writes (`services.coalescing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")

#: Items read ahead of the consumer at most; beyond, the reader waits (bounded memory).
READ_AHEAD = 256

_END = object()


class _Ahead:
    """What the reader has read and the consumer not yet taken, with at most one waiter on
    each side. An `asyncio.Queue` would do, but it holds four deques (about 2.5 KB), and a
    server holds two of these per stream in flight."""

    __slots__ = ("_items", "_next", "_room", "_taker")

    def __init__(self) -> None:
        self._items: list[object] = []
        self._next = 0  # index of the first item not taken yet
        self._taker: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items) - self._next

    async def put(self, item: object) -> None:
        while len(self) >= READ_AHEAD:
            self._room = asyncio.get_running_loop().create_future()
            try:
                await self._room
            finally:
                self._room = None
        self._items.append(item)
        _wake(self._taker)

    def take_nowait(self) -> object:
        """The next item; there must be one."""
        item, self._items[self._next] = self._items[self._next], None
        self._next += 1
        if self._next == len(self._items) or self._next >= READ_AHEAD:
            del self._items[: self._next]  # taken items go, the list stays small
            self._next = 0
        _wake(self._room)
        return item

    async def take(self) -> object:
        while not len(self):
            self._taker = asyncio.get_running_loop().create_future()
            try:
                await self._taker
            finally:
                self._taker = None
        return self.take_nowait()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def joined_when_ready(
    items: AsyncIterator[T],
    joinable: Callable[[T], bool],
    join: Callable[[list[T]], T],
    same_run: Callable[[T, T], bool] = lambda first, following: True,
) -> AsyncIterator[T]:
    """`items`, with consecutive joinable items that are ready together joined by `join`.

    `same_run(first, following)`: whether `following` may be joined to a run that begins
    with `first` (both joinable).
    """
    ahead = _Ahead()
    closing = False

    async def read() -> None:
        first = True
        try:
            async for item in items:
                await ahead.put(item)
                if first and joinable(item):
                    first = False
                    await asyncio.sleep(0)  # let the consumer take it before reading on
        except asyncio.CancelledError as cancelled:
            if closing:
                raise  # the consumer closed the stream: nobody is left to tell
            await ahead.put(cancelled)  # cancelled inside the source: the consumer's, as before
            raise
        except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
            await ahead.put(error)
            return
        await ahead.put(_END)

    reader = asyncio.get_running_loop().create_task(read())
    held: object = None

    def with_ready_followers(item: T) -> T:
        """`item` joined with the joinable items of its run already waiting."""
        nonlocal held
        run = [item]
        while ahead:
            following = ahead.take_nowait()
            if (
                following is not _END
                and not isinstance(following, BaseException)
                and joinable(following)
                and same_run(item, following)
            ):
                run.append(following)
                continue
            held = following  # not joinable here: the next item on its own
            break
        return join(run) if len(run) > 1 else item

    joinable_sent = False
    try:
        while True:
            item = await ahead.take() if held is None else held
            held = None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            if joinable(item):
                if joinable_sent:  # the first goes alone, as soon as it is there
                    item = with_ready_followers(item)
                joinable_sent = True
            yield item
    finally:
        closing = True
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
