"""Shared fixtures: the real Routeur server on port 0 with a temporary data directory, and
a real MongoDB wire-protocol server for the MongoDB store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from support import RunningServer, open_channel, server_settings, start_server

MONGODB_URI_VARIABLE = "ROUTEUR_TEST_MONGODB_URI"

# The session Envoys (tests/gateway's, tests/transcription's): every test that uses one
# is `slow` (pyproject's definition).
ENVOY_FIXTURES = frozenset({"gateway", "stt_gateway"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` what starts Envoy, from what a test uses rather than from a mark each
    module must remember: a session Envoy fixture, or `start_envoy` imported by its
    module."""
    for item in items:
        module = getattr(item, "module", None)
        if ENVOY_FIXTURES & set(getattr(item, "fixturenames", ())) or hasattr(module, "start_envoy"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
async def routeur(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """One real server for the whole session (the local model loads once)."""
    running = await start_server(server_settings(tmp_path_factory.mktemp("routeur-data")))
    yield running
    await running.server.stop(grace=1.0)


@pytest.fixture(scope="session")
async def channel(routeur: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with open_channel(routeur.address) as channel:
        yield channel


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB server: a real `mongod` when ROUTEUR_TEST_MONGODB_URI names one, otherwise
    SecantusDB (a MongoDB wire-protocol server from PyPI) started in-process on port 0."""
    configured = os.environ.get(MONGODB_URI_VARIABLE)
    if configured:
        yield configured
        return
    from secantus import SecantusDBServer

    server = SecantusDBServer(
        host="127.0.0.1",
        port=0,  # the OS picks a free port; server.uri names it
        storage_path=str(tmp_path_factory.mktemp("secantusdb")),
        # A single node without the replica-set oplog: nothing here reads change streams,
        # and every write is cheaper without it.
        replica_set_name=None,
    )
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()
