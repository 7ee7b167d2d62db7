"""Fake OpenAI Chat Completions server (and any OpenAI-compatible server: vLLM, LM Studio…).

Serves `POST /v1/chat/completions` (JSON, or SSE with `data: [DONE]`, with a usage chunk when
`stream_options.include_usage` is set) and `GET /v1/models`. `report_usage = False` imitates
a compatible server that never reports usage. A body OpenAI could not use (not a JSON object,
no `model`, no `messages`) gets OpenAI's 400 and error JSON, never a fault.
"""

from __future__ import annotations

import json
from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, sse

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


# OpenAI's answer to a body that is not a JSON object, word for word.
_UNPARSABLE_BODY = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)


def _error_document(
    message: str,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """OpenAI's error JSON: `{"error": {message, type, param, code}}`."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


class FakeOpenAI(FakeUpstream):
    models = ("gpt-4o", "gpt-4o-mini")
    prompt_tokens = 11

    def __init__(self) -> None:
        super().__init__()
        self.report_usage = True

    def reset(self) -> None:
        super().reset()
        self.report_usage = True

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "GET" and request.path.endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            return Reply(json_body={"object": "list", "data": data}), False
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            refusal = self._invalid_body(request.body)
            if refusal is not None:
                return refusal, False
            return self._chat(request.json()), True
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        if body is None:
            body = _error_document(f"fake error {status}", _ERROR_TYPES.get(status, "server_error"))
        return Reply(status=status, json_body=body)

    def _invalid_body(self, raw: bytes) -> Reply | None:
        """OpenAI's 400 for a body it cannot use, with its wording; None when the body is usable."""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return Reply(status=400, json_body=_error_document(_UNPARSABLE_BODY))
        if not isinstance(body.get("model"), str):
            missing_model = _error_document("you must provide a model parameter")
            return Reply(status=400, json_body=missing_model)
        if not isinstance(body.get("messages"), list) or not all(
            isinstance(message, dict) for message in body["messages"]
        ):
            return Reply(
                status=400,
                json_body=_error_document(
                    "Missing required parameter: 'messages'.",
                    param="messages",
                    code="missing_required_parameter",
                ),
            )
        return None

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """`{}`; streamed: `[DONE]` alone, or (`no_choices`) chunks without choices."""
        if not streaming:
            return Reply(json_body={})
        frames = [sse("[DONE]")]
        if variant == "no_choices":
            bare = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                    "model": "gpt-4o", "choices": []}
            frames = [sse(bare), sse(bare), sse("[DONE]")]
        return Reply(frames=frames, content_type="text/event-stream")

    def _chat(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        has_result = any(m.get("role") == "tool" for m in body["messages"])
        wanted = self.tool_call_for(bool(body.get("tools")), has_result)
        if wanted is not None and body.get("stream"):
            return self._tool_call_stream(model, *wanted)
        words = self.words()
        usage = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": self.prompt_tokens + len(words),
        }
        if not body.get("stream"):
            document = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(words)},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
            }
            if self.report_usage:
                document["usage"] = usage
            return Reply(json_body=document)

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }

        frames = [sse(chunk({"role": "assistant", "content": ""}, None))]
        frames += [sse(chunk({"content": word}, None)) for word in words]
        frames.append(sse(chunk({}, "stop")))
        include_usage = (body.get("stream_options") or {}).get("include_usage")
        if include_usage and self.report_usage:
            frames.append(
                sse(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
        frames.append(sse("[DONE]"))
        return Reply(frames=frames, content_type="text/event-stream")

    def _tool_call_stream(self, model: str, name: str, arguments: dict[str, Any]) -> Reply:
        """A streamed tool call as OpenAI sends it: id and name, then the arguments in pieces."""

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            return sse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                }
            )

        text = json.dumps(arguments)
        pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
        frames = [
            chunk({"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": "call_fake1", "type": "function",
                 "function": {"name": name, "arguments": ""}}]}, None)
        ]
        frames += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, None)
            for piece in pieces
        ]
        frames.append(chunk({}, "tool_calls"))
        frames.append(
            sse({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                 "model": model, "choices": [],
                 "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": 9,
                           "total_tokens": self.prompt_tokens + 9}})
        )
        frames.append(sse("[DONE]"))
        return Reply(frames=frames, content_type="text/event-stream")
