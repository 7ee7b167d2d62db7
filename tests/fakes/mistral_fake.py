"""Fake Mistral La Plateforme server: `POST /v1/chat/completions` (JSON or SSE), `GET /v1/models`.

Mistral's stream is OpenAI-like, but the usage rides on the last content chunk and there is
no `stream_options`.
"""

from __future__ import annotations

from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, sse


class FakeMistral(FakeUpstream):
    models = ("mistral-large-latest", "mistral-small-latest")
    prompt_tokens = 9

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "GET" and request.path == "/v1/models":
            data = [
                {
                    "id": m,
                    "object": "model",
                    "created": 0,
                    "owned_by": "mistralai",
                    "type": "base",
                    "capabilities": {"completion_chat": True},
                    "max_context_length": 131072,
                    "description": f"fake {m}",
                }
                for m in self.models
            ]
            return Reply(json_body={"object": "list", "data": data}), False
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return self._chat(request.json()), True
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        if body is None:
            body = {
                "object": "error",
                "message": f"fake error {status}",
                "type": "invalid_request_error" if status < 500 else "internal_error",
                "param": None,
                "code": str(status),
            }
        return Reply(status=status, json_body=body)

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """`{}`; streamed: `[DONE]` alone."""
        if not streaming:
            return Reply(json_body={})
        return Reply(frames=[sse("[DONE]")], content_type="text/event-stream")

    def _chat(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        words = self.words()
        usage = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": self.prompt_tokens + len(words),
        }
        if not body.get("stream"):
            return Reply(
                json_body={
                    "id": "cmpl-fake",
                    "object": "chat.completion",
                    "model": model,
                    "created": 0,
                    "usage": usage,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(words)},
                            "finish_reason": "stop",
                        }
                    ],
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
            return sse(
                {
                    "id": "cmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra,
                }
            )

        frames = [chunk({"role": "assistant", "content": ""}, None)]
        frames += [chunk({"content": word}, None) for word in words]
        frames.append(chunk({"content": ""}, "stop", usage=usage))
        frames.append(sse("[DONE]"))
        return Reply(frames=frames, content_type="text/event-stream")
