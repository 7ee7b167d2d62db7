"""RealtimeService servicer: the client's stream in, session events out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from routeur.v1 import realtime_service_pb2 as pb
from routeur.v1 import realtime_service_pb2_grpc as pb_grpc

from routeur_grpc.api import realtime_convert as convert
from routeur_grpc.api.caller import caller_of
from routeur_grpc.domain.realtime import ClientEvent
from routeur_grpc.services.realtime import RealtimeService


class RealtimeServicer(pb_grpc.RealtimeServiceServicer):
    def __init__(self, realtime: RealtimeService) -> None:
        self._realtime = realtime

    async def RunSession(
        self,
        request_iterator: AsyncIterator[pb.RunSessionRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.RunSessionResponse]:
        async with self._realtime.open_session(caller_of(context)) as session:
            events = session.run(_client_events(request_iterator))
            async with aclosing(events):
                async for event in events:
                    yield convert.session_response(event)


async def _client_events(
    requests: AsyncIterator[pb.RunSessionRequest],
) -> AsyncIterator[ClientEvent]:
    async for request in requests:
        yield convert.client_event(request)
