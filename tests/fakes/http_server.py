"""A small HTTP/1.1 server on asyncio streams, the base of every fake upstream.

Why not a framework: a fake must be able to hang, drop a connection half-way through a
chunked body, trickle bytes, send broken protocol data, and notice the very moment a client closes its socket; a few hundred lines over
`asyncio.start_server` give that control and add no dependency.

A subclass implements `route(request)` and returns a `Reply`: a JSON body, or a stream of
frames (SSE events or NDJSON lines) sent with chunked encoding. Faults queued with
`fail_next`, `hang_next`, `drop_next`, `slow_next`, `reset_next`, `garble_next` (or made
permanent with `always`) apply to the next requests to a route the subclass marks as
`faultable`. Protocol-shaped bad data (an event that is not JSON, a frame cut in the middle,
an empty answer) comes from the subclass (`malformed_frame`, `broken_frame`,
`empty_reply`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

FaultKind = Literal[
    "status",  # an HTTP error status (with Retry-After if given)
    "hang",  # accept the request, never answer
    "drop",  # cut the connection after `after_frames` frames
    "slow",  # pause `delay_s` before each frame
    "stall",  # `after_frames` frames at once, then a pause of `delay_s` before each other
    "reset",  # cut the connection before answering anything
    "malformed",  # after `after_frames` frames, an event that is not valid JSON
    "broken",  # after `after_frames` frames, half an event, then the body ends cleanly
    "empty",  # a well-formed answer without any text (`variant`: which kind)
    "content_type",  # 200 with an HTML page instead of the protocol's content
    "trickle",  # the answer one byte at a time, `delay_s` apart (slow-loris)
    "stream_body",  # a JSON answer sent as one SSE event instead (text/event-stream)
]
_Outcome = Literal["done", "gone", "cut"]


@dataclass(frozen=True, slots=True)
class Fault:
    """How the fake should misbehave for one request."""

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    body: Any = None
    after_frames: int = 1  # drop: frames sent before the connection is cut
    delay_s: float = 0.0  # slow: pause before each frame (or before a JSON body)
    variant: str = ""  # empty: which empty answer (see the subclass's `empty_reply`)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class ClientClose:
    """A client closed its connection (`mid_response`: before the reply was complete)."""

    at: float
    path: str
    mid_response: bool


@dataclass(slots=True)
class Reply:
    """What a route answers: a JSON document, or frames streamed with chunked encoding."""

    status: int = 200
    json_body: Any = None
    frames: Sequence[bytes] | None = None
    raw_body: bytes | None = None  # sent as is (instead of `json_body`)
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class _Connection:
    """One client connection: a read buffer and a watch for the client going away."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.closed = asyncio.Event()
        self.closed_at: float | None = None

    async def fill(self) -> bool:
        try:
            data = await self.reader.read(65536)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            if self.closed_at is None:
                self.closed_at = time.monotonic()
            self.closed.set()
            return False
        self.buffer += data
        return True

    async def watch(self) -> None:
        """Read (and keep) whatever arrives until the client closes its side."""
        while await self.fill():
            pass

    async def read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not await self.fill():
                return None
        head, _, rest = bytes(self.buffer).partition(marker)
        self.buffer = bytearray(rest)
        return head

    async def read_exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not await self.fill():
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def write(self, data: bytes) -> bool:
        """Write and drain; False when the client has gone."""
        if self.closed.is_set() or self.writer.is_closing():
            return False
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError):
            if self.closed_at is None:
                self.closed_at = time.monotonic()
            self.closed.set()
            return False
        return True


class FakeUpstream:
    """Base class of the fakes: lifecycle, fault queue, recording, HTTP plumbing."""

    #: The text every completion answers with; split into one frame per word.
    reply_text = "Hello from the fake upstream, one word at a time."

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.client_closes: list[ClientClose] = []
        self.reply_text = type(self).reply_text
        self.stream_delay_s = 0.0
        self._faults: deque[Fault] = deque()
        self._permanent: Fault | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._close_signal = asyncio.Condition()
        self._release = asyncio.Event()
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def __aenter__(self) -> FakeUpstream:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control -----------------------------------------------------------------------------

    def fail_next(
        self, status: int, *, retry_after: str | None = None, body: Any = None, times: int = 1
    ) -> None:
        """Answer the next `times` requests with `status` (and `Retry-After` if given)."""
        self._faults.extend(
            [Fault("status", status=status, retry_after=retry_after, body=body)] * times
        )

    def hang_next(self, times: int = 1) -> None:
        """Accept the next requests and never answer them (until the client gives up)."""
        self._faults.extend([Fault("hang")] * times)

    def drop_next(self, after_frames: int = 1, times: int = 1) -> None:
        """Cut the connection after `after_frames` frames of the reply."""
        self._faults.extend([Fault("drop", after_frames=after_frames)] * times)

    def slow_next(self, delay_s: float, times: int = 1) -> None:
        """Pause `delay_s` before each frame of the next replies."""
        self._faults.extend([Fault("slow", delay_s=delay_s)] * times)

    def reset_next(self, times: int = 1) -> None:
        """Cut the connection of the next requests before sending anything."""
        self._faults.extend([Fault("reset")] * times)

    def garble_next(self, fault: Fault, times: int = 1) -> None:
        """Apply a protocol fault (`malformed`, `broken`, `empty`, `content_type`,
        `trickle`) to the next requests."""
        self._faults.extend([fault] * times)

    def always(self, fault: Fault | None) -> None:
        """Apply `fault` to every request until called again with None."""
        self._permanent = fault

    def reset(self) -> None:
        self._faults.clear()
        self._permanent = None
        self.requests.clear()
        self.client_closes.clear()
        self.reply_text = type(self).reply_text
        self.stream_delay_s = 0.0

    # --- observation -------------------------------------------------------------------------

    def requests_to(self, path_fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path_fragment in r.path]

    async def wait_client_close(self, timeout: float = 5.0) -> ClientClose:
        """The first client close in the middle of a reply (waiting for one if needed)."""
        async with self._close_signal:
            await asyncio.wait_for(
                self._close_signal.wait_for(
                    lambda: any(c.mid_response for c in self.client_closes)
                ),
                timeout,
            )
        return next(c for c in self.client_closes if c.mid_response)

    async def wait_requests(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} requests, got {len(self.requests)}")
            await asyncio.sleep(0.005)

    # --- for subclasses ----------------------------------------------------------------------

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        """The reply to `request`, and whether faults apply to it."""
        raise NotImplementedError

    def error_reply(self, status: int, body: Any) -> Reply:
        """A protocol-shaped error document for `status`."""
        return Reply(status=status, json_body=body or {"error": HTTPStatus(status).phrase})

    def malformed_frame(self) -> bytes:
        """An event of this protocol whose data is not valid JSON."""
        return b"data: {this is not json\n\n"

    def broken_frame(self) -> bytes:
        """The first half of an event of this protocol, without its end."""
        return b'data: {"id": "cut", "choi'

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """A well-formed answer of this protocol that carries no text."""
        return Reply(json_body={})

    def words(self) -> list[str]:
        """The reply text split so that joining the pieces gives it back exactly."""
        parts = self.reply_text.split(" ")
        return [part if i == 0 else " " + part for i, part in enumerate(parts)]

    # --- HTTP plumbing -----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        connection = _Connection(reader, writer)
        try:
            while True:
                request = await self._read_request(connection)
                if request is None:
                    break
                self.requests.append(request)
                keep_alive = await self._respond(connection, request)
                if not keep_alive:
                    break
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _read_request(self, connection: _Connection) -> RecordedRequest | None:
        head = await connection.read_until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked(connection)
        elif "content-length" in headers:
            body = await connection.read_exactly(int(headers["content-length"])) or b""
        parts = urlsplit(target)
        return RecordedRequest(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=headers,
            body=body,
            received_at=time.monotonic(),
        )

    async def _read_chunked(self, connection: _Connection) -> bytes:
        body = bytearray()
        while True:
            size_line = await connection.read_until(b"\r\n")
            if size_line is None:
                return bytes(body)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                await connection.read_until(b"\r\n")
                return bytes(body)
            body += await connection.read_exactly(size) or b""
            await connection.read_exactly(2)

    def _next_fault(self) -> Fault | None:
        if self._faults:
            return self._faults.popleft()
        return self._permanent

    async def _respond(self, connection: _Connection, request: RecordedRequest) -> bool:
        reply, faultable = self.route(request)
        fault = self._next_fault() if faultable else None
        watcher = asyncio.ensure_future(connection.watch())
        try:
            outcome = await self._send(connection, request, reply, fault)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if outcome == "gone":
            await self._record_close(connection, request.path, mid_response=True)
            return False
        if outcome == "cut":
            return False
        if connection.closed.is_set():
            await self._record_close(connection, request.path, mid_response=False)
            return False
        return request.headers.get("connection", "").lower() != "close"

    async def _record_close(self, connection: _Connection, path: str, mid_response: bool) -> None:
        at = connection.closed_at if connection.closed_at is not None else time.monotonic()
        async with self._close_signal:
            self.client_closes.append(ClientClose(at=at, path=path, mid_response=mid_response))
            self._close_signal.notify_all()

    async def _send(
        self,
        connection: _Connection,
        request: RecordedRequest,
        reply: Reply,
        fault: Fault | None,
    ) -> _Outcome:
        """Send the reply (bent by `fault`): `done`, the client `gone`, or `cut` by us."""
        if fault is not None and fault.kind == "status":
            reply = self.error_reply(fault.status, fault.body)
            if fault.retry_after is not None:
                reply.headers["retry-after"] = fault.retry_after
        if fault is not None and fault.kind == "reset":
            self._cut(connection)
            return "cut"
        if fault is not None:
            reply = self._bend(request, reply, fault)
        if fault is not None and fault.kind == "trickle":
            return await self._trickle(connection, reply, fault.delay_s)
        if fault is not None and fault.kind == "hang":
            # Never answer: wait for the client to give up (or for the fake to stop).
            closed = asyncio.ensure_future(connection.closed.wait())
            released = asyncio.ensure_future(self._release.wait())
            try:
                await asyncio.wait({closed, released}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                closed.cancel()
                released.cancel()
            return "gone" if connection.closed.is_set() else "cut"
        delay = fault.delay_s if fault is not None and fault.kind == "slow" else self.stream_delay_s
        drop_after = fault.after_frames if fault is not None and fault.kind == "drop" else None

        if reply.frames is None:
            payload = _payload(reply)
            if delay and not await self._pause(connection, delay):
                return "gone"
            head = self._head(reply, {"content-length": str(len(payload))})
            if drop_after is not None:
                await connection.write(head + payload[: len(payload) // 2])
                self._cut(connection)
                return "cut"
            return "done" if await connection.write(head + payload) else "gone"

        if not await connection.write(self._head(reply, {"transfer-encoding": "chunked"})):
            return "gone"
        stall_from = fault.after_frames if fault is not None and fault.kind == "stall" else None
        for index, frame in enumerate(reply.frames):
            if drop_after is not None and index >= drop_after:
                self._cut(connection)
                return "cut"
            if stall_from is not None and index >= stall_from:
                delay = fault.delay_s if fault is not None else 0.0
            if delay and not await self._pause(connection, delay):
                return "gone"
            if not await connection.write(b"%x\r\n%s\r\n" % (len(frame), frame)):
                return "gone"
        return "done" if await connection.write(b"0\r\n\r\n") else "gone"

    def _bend(self, request: RecordedRequest, reply: Reply, fault: Fault) -> Reply:
        """The reply as a protocol fault changes it."""
        if fault.kind == "content_type":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return Reply(raw_body=page, content_type="text/html")
        if fault.kind == "stream_body" and reply.frames is None:
            return Reply(frames=[sse(reply.json_body)], content_type="text/event-stream")
        if fault.kind == "empty":
            return self.empty_reply(request, reply.frames is not None, fault.variant)
        if fault.kind not in ("malformed", "broken"):
            return reply
        if reply.frames is None:
            text = _payload(reply)
            bad = b"{this is not json" if fault.kind == "malformed" else text[: len(text) // 2]
            return Reply(status=reply.status, raw_body=bad, content_type=reply.content_type)
        frames = list(reply.frames)
        keep = fault.after_frames
        if fault.kind == "malformed":
            frames = [*frames[:keep], self.malformed_frame(), *frames[keep:]]
        else:
            frames = [*frames[:keep], self.broken_frame()]
        return Reply(
            status=reply.status,
            frames=frames,
            content_type=reply.content_type,
            headers=reply.headers,
        )

    async def _trickle(self, connection: _Connection, reply: Reply, delay: float) -> _Outcome:
        """Send the head at once, then the body one byte at a time (a slow-loris)."""
        body = b"".join(reply.frames) if reply.frames is not None else _payload(reply)
        if not await connection.write(self._head(reply, {"content-length": str(len(body))})):
            return "gone"
        for index in range(len(body)):
            if not await self._pause(connection, delay):
                return "gone"
            if not await connection.write(body[index : index + 1]):
                return "gone"
        return "done"

    @staticmethod
    async def _pause(connection: _Connection, delay: float) -> bool:
        """Sleep `delay`, returning early (False) if the client closes meanwhile."""
        try:
            await asyncio.wait_for(asyncio.shield(connection.closed.wait()), delay)
        except TimeoutError:
            return True
        return False

    @staticmethod
    def _cut(connection: _Connection) -> None:
        transport = connection.writer.transport
        transport.abort()

    @staticmethod
    def _head(reply: Reply, extra: dict[str, str]) -> bytes:
        status = HTTPStatus(reply.status)
        headers = {"content-type": reply.content_type, **extra, **reply.headers}
        lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _payload(reply: Reply) -> bytes:
    return reply.raw_body if reply.raw_body is not None else json.dumps(reply.json_body).encode()


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event frame."""
    text = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def ndjson(data: Any) -> bytes:
    """One NDJSON line."""
    return (json.dumps(data) + "\n").encode()
