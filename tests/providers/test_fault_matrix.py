"""The upstream fault matrix, asserted: for every provider's fake and every fault, what the
client sees over gRPC, REST SSE and the OpenAI-compatible SSE, what is retried (never
anything after the first piece of text) and how the request is accounted (always `failed`,
never billed as a success). See `fault_matrix.py` for the set-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fault_matrix import (
    ATTEMPTS,
    FACES,
    FAULTS,
    PROVIDERS,
    FaultCase,
    ProviderUnderTest,
    Stack,
    expected_status,
    run_case,
    start_stack,
)

pytestmark = pytest.mark.slow  # a real Envoy


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    started = await start_stack(tmp_path_factory.mktemp("fault-matrix"))
    yield started
    await started.aclose()


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("case", FAULTS, ids=[c.name.replace(" ", "-") for c in FAULTS])
@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.id for p in PROVIDERS])
async def test_what_the_client_sees(
    stack: Stack, provider: ProviderUnderTest, case: FaultCase, face: str
) -> None:
    seen = await run_case(stack, provider, case, face)
    assert seen.outcome == "failed", seen
    if case.phase == "before":
        assert seen.pieces == 0 and seen.status == expected_status(case, face), seen
        assert seen.upstream_requests == ATTEMPTS, f"retried before any text: {seen}"
    else:
        assert seen.status in ("OK", "200") and seen.pieces > 0, seen
        assert seen.final_error, f"the last chunk carries the error: {seen}"
        if face == "grpc":
            assert seen.final_error == case.code.name, seen
        if face == "openai_sse":
            assert seen.final_error.startswith("UPSTREAM_"), seen
        assert seen.upstream_requests == 1, f"nothing retried after the first token: {seen}"
