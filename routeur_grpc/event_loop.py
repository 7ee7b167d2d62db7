"""The event loop the server runs on: uvloop by default, the standard library's on request.

uvloop (libuv) runs the same asyncio code with less CPU per callback and per socket
operation; grpc.aio, aiosqlite and the HTTP clients work on it unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

import uvloop

T = TypeVar("T")


def loop_factory(kind: Literal["uvloop", "asyncio"]) -> Callable[[], asyncio.AbstractEventLoop]:
    return uvloop.new_event_loop if kind == "uvloop" else asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], kind: Literal["uvloop", "asyncio"]) -> T:
    """`asyncio.run(main)` on a loop of the given kind."""
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
