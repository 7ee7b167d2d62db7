"""A small client for one `RunSession` stream, for the realtime tests."""

from __future__ import annotations

import asyncio

import grpc
from routeur.v1 import realtime_service_pb2 as pb
from routeur.v1 import realtime_service_pb2_grpc as pb_grpc

SESSION_CAP = 3  # the realtime test server's realtime_max_sessions_per_caller
EVENT_TIMEOUT_S = 20.0


class SessionClient:
    """One RunSession call: write events, read the next one (bounded wait)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call = pb_grpc.RealtimeServiceStub(channel).RunSession()

    async def ping(self, nonce: str) -> None:
        await self.call.write(pb.RunSessionRequest(ping=pb.RealtimePing(nonce=nonce)))

    async def say(self, text: str, message_id: str = "", model: str = "") -> None:
        await self.call.write(
            pb.RunSessionRequest(
                message=pb.RealtimeUserMessage(message_id=message_id, text=text, model=model)
            )
        )

    async def cancel(self, message_id: str = "") -> None:
        await self.call.write(
            pb.RunSessionRequest(cancel=pb.RealtimeCancel(message_id=message_id))
        )

    async def next(self) -> pb.RunSessionResponse:
        response = await asyncio.wait_for(self.call.read(), EVENT_TIMEOUT_S)
        assert response is not grpc.aio.EOF, "the session ended"
        return response

    async def started(self) -> pb.RealtimeSessionStarted:
        event = await self.next()
        assert event.WhichOneof("event") == "started", event
        return event.started

    async def reply(self) -> tuple[str, pb.RealtimeReplyDone, int]:
        """Read deltas until a `done`: the text, the done, and how many deltas came."""
        parts: list[str] = []
        while True:
            event = await self.next()
            kind = event.WhichOneof("event")
            if kind == "delta":
                parts.append(event.delta.content)
            elif kind == "done":
                return "".join(parts), event.done, len(parts)
            else:
                raise AssertionError(f"unexpected {kind} during a reply: {event}")

    async def close(self) -> None:
        """End our side and read what is left, up to the end of the call."""
        await self.call.done_writing()
        while await asyncio.wait_for(self.call.read(), EVENT_TIMEOUT_S) is not grpc.aio.EOF:
            pass
