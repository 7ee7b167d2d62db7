"""Sampling parameters reach each upstream in its own API's names, or are refused up front."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import FakeUpstream

from routeur_grpc.domain.completion import ChatMessage, Sampling
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.providers.base import ChatRequest
from routeur_grpc.providers.sampling import REASON_UNSUPPORTED_PARAMETER

from .conftest import ProviderCase
from .streams import collect

EVERY_PARAMETER = Sampling(
    top_p=0.5, stop=("END", "\n\n"), seed=42, presence_penalty=0.25, frequency_penalty=-0.5
)


def request_for(case: ProviderCase, sampling: Sampling) -> ChatRequest:
    return ChatRequest(
        model=case.model, messages=(ChatMessage("user", "Say hello."),), sampling=sampling
    )


def sent_parameters(case_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The sampling parameters as the upstream received them, under OpenAI's names."""
    if case_id == "gemini":
        config = body["generationConfig"]
        names = {
            "topP": "top_p", "stopSequences": "stop", "seed": "seed",
            "presencePenalty": "presence_penalty", "frequencyPenalty": "frequency_penalty",
        }
        return {ours: config[theirs] for theirs, ours in names.items() if theirs in config}
    if case_id == "ollama":
        options = body["options"]
        names = ("top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
        return {name: options[name] for name in names if name in options}
    if case_id == "anthropic":
        return {"top_p": body.get("top_p"), "stop": body.get("stop_sequences")}
    sent = {
        name: body[name]
        for name in ("top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
        if name in body
    }
    if case_id == "mistral":
        sent["seed"] = body["random_seed"]
    return sent


@pytest.mark.parametrize("unary", [False, True], ids=["stream", "unary"])
async def test_every_parameter_the_api_has_is_sent_in_its_own_format(
    case: ProviderCase, provider: Any, upstream: FakeUpstream, unary: bool
) -> None:
    sampling = (
        Sampling(top_p=0.5, stop=("END", "\n\n")) if case.id == "anthropic" else EVERY_PARAMETER
    )
    request = request_for(case, sampling)
    if unary:
        await provider.complete_chat(request)
    else:
        await collect(provider.stream_chat(request))
    expected = {
        "top_p": 0.5, "stop": ["END", "\n\n"], "seed": 42,
        "presence_penalty": 0.25, "frequency_penalty": -0.5,
    }
    if case.id == "anthropic":
        expected = {"top_p": 0.5, "stop": ["END", "\n\n"]}
    assert sent_parameters(case.id, upstream.requests[-1].json()) == expected


async def test_nothing_is_sent_when_no_parameter_is_given(
    case: ProviderCase, provider: Any, upstream: FakeUpstream
) -> None:
    await collect(provider.stream_chat(request_for(case, Sampling())))
    body = upstream.requests[-1].json()
    if case.id == "gemini":
        assert sent_parameters(case.id, {"generationConfig": body.get("generationConfig", {})}) == {}
    elif case.id == "ollama":
        assert sent_parameters(case.id, {"options": body.get("options") or {}}) == {}
    elif case.id == "anthropic":
        assert "top_p" not in body and "stop_sequences" not in body
    else:
        assert not set(body) & {"top_p", "stop", "seed", "random_seed", "presence_penalty"}


@pytest.mark.parametrize(
    ("sampling", "named"),
    [
        (Sampling(seed=1), "seed"),
        (Sampling(presence_penalty=0.5), "presence_penalty"),
        (Sampling(top_p=0.9, frequency_penalty=0.5), "frequency_penalty"),
    ],
)
async def test_a_parameter_the_messages_api_lacks_is_refused_before_any_request(
    fake_anthropic: FakeUpstream, token_counter: Any, sampling: Sampling, named: str
) -> None:
    from .conftest import PROVIDER_CASES

    case = next(case for case in PROVIDER_CASES if case.id == "anthropic")
    provider = case.build(fake_anthropic, token_counter)
    try:
        with pytest.raises(InvalidArgument) as caught:
            await collect(provider.stream_chat(request_for(case, sampling)))
    finally:
        await provider.aclose()
    assert f"`{named}` is not supported by {case.model}" in caught.value.message
    assert caught.value.reason == REASON_UNSUPPORTED_PARAMETER
    assert fake_anthropic.requests == []
