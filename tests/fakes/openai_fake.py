"""Fake OpenAI Chat Completions server (and any OpenAI-compatible server: vLLM, LM Studio…).

Serves `POST /v1/chat/completions` (JSON, or SSE with `data: [DONE]`, with a usage chunk when
`stream_options.include_usage` is set) and `GET /v1/models`. `report_usage = False` imitates
a compatible server that never reports usage.
"""

from __future__ import annotations

from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, sse

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


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
            return self._chat(request.json()), True
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        if body is None:
            body = {
                "error": {
                    "message": f"fake error {status}",
                    "type": _ERROR_TYPES.get(status, "server_error"),
                    "param": None,
                    "code": None,
                }
            }
        return Reply(status=status, json_body=body)

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
