"""Fake Gemini API server (Google AI, v1beta).

Serves `POST /v1beta/models/{model}:generateContent`, `POST
/v1beta/models/{model}:streamGenerateContent?alt=sse` and `GET /v1beta/models`.
"""

from __future__ import annotations

from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, sse

_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class FakeGemini(FakeUpstream):
    models = ("gemini-2.5-flash", "gemini-2.5-pro")
    prompt_tokens = 7

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "GET" and request.path == "/v1beta/models":
            data = [
                {
                    "name": f"models/{m}",
                    "displayName": m,
                    "description": f"fake {m}",
                    "inputTokenLimit": 1048576,
                    "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for m in self.models
            ]
            return Reply(json_body={"models": data}), False
        if request.method == "POST" and request.path.startswith("/v1beta/models/"):
            model, _, method = request.path.removeprefix("/v1beta/models/").partition(":")
            if method == "generateContent":
                return self._generate(model, stream=False), True
            if method == "streamGenerateContent":
                return self._generate(model, stream=True), True
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        if body is None:
            body = {
                "error": {
                    "code": status,
                    "message": f"fake error {status}",
                    "status": _STATUSES.get(status, "UNKNOWN"),
                }
            }
        return Reply(status=status, json_body=body)

    def broken_frame(self) -> bytes:
        return b'data: {"candidates": [{"content": {"par'

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """`{}`; streamed: one `{}` event."""
        if not streaming:
            return Reply(json_body={})
        return Reply(frames=[sse({})], content_type="text/event-stream")

    def _response(self, model: str, text: str, finish: bool, completion_tokens: int) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        return {
            "candidates": [candidate],
            "usageMetadata": {
                "promptTokenCount": self.prompt_tokens,
                "candidatesTokenCount": completion_tokens,
                "totalTokenCount": self.prompt_tokens + completion_tokens,
            },
            "modelVersion": model,
            "responseId": "fake-response",
        }

    def _generate(self, model: str, stream: bool) -> Reply:
        words = self.words()
        if not stream:
            return Reply(json_body=self._response(model, "".join(words), True, len(words)))
        frames = [
            sse(self._response(model, word, i == len(words) - 1, i + 1))
            for i, word in enumerate(words)
        ]
        return Reply(frames=frames, content_type="text/event-stream")
