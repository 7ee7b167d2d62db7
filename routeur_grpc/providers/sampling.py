"""Parameters a provider's API has no equivalent for are refused, never dropped.

Dropping one silently would answer a different request than the one asked (a `seed` that
does not make answers repeatable, a penalty that does nothing, tools never called); the
caller is told which parameter to remove, or to choose another model.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from routeur_grpc.domain.completion import Sampling, ToolSpec
from routeur_grpc.domain.model_entry import TOOL_CALLING_PROVIDERS
from routeur_grpc.errors import InvalidArgument

REASON_UNSUPPORTED_PARAMETER = "UNSUPPORTED_PARAMETER"


def refuse_unsupported(
    sampling: Sampling, supported: Collection[str], provider: str, model: str
) -> None:
    """Raise `InvalidArgument` naming the first parameter of `sampling` not in `supported`."""
    for name in sampling.given():
        if name not in supported:
            raise InvalidArgument(
                f"`{name}` is not supported by {model} ({provider}'s API has no such "
                "parameter): remove it, or ask for another model.",
                reason=REASON_UNSUPPORTED_PARAMETER,
            )


def openai_sampling(sampling: Sampling) -> dict[str, Any]:
    """The parameters set, with the OpenAI chat API's names (which Ollama's options share)."""
    params: dict[str, Any] = {}
    for name in sampling.given():
        value = getattr(sampling, name)
        params[name] = list(value) if name == "stop" else value
    return params


def refuse_tools(tools: Collection[ToolSpec], provider: str, model: str) -> None:
    """Raise `InvalidArgument` when `tools` are offered to a provider that cannot call them."""
    if tools:
        raise InvalidArgument(
            f"`tools` is not supported by {model} ({provider} cannot call tools here): remove "
            f"them, or ask for a model of {', '.join(sorted(TOOL_CALLING_PROVIDERS))}.",
            reason=REASON_UNSUPPORTED_PARAMETER,
        )
