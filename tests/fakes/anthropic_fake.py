"""Fake Anthropic Messages server: `POST /v1/messages` (JSON or named SSE events), `GET /v1/models`."""

from __future__ import annotations

from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, sse

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class FakeAnthropic(FakeUpstream):
    models = ("claude-haiku-4-5", "claude-opus-4-5")
    prompt_tokens = 13

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method == "GET" and request.path == "/v1/models":
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m.replace("-", " ").title(),
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for m in self.models
            ]
            return Reply(
                json_body={
                    "data": data,
                    "has_more": False,
                    "first_id": self.models[0],
                    "last_id": self.models[-1],
                }
            ), False
        if request.method == "POST" and request.path == "/v1/messages":
            return self._messages(request.json()), True
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        if body is None:
            body = {
                "type": "error",
                "error": {
                    "type": _ERROR_TYPES.get(status, "api_error"),
                    "message": f"fake error {status}",
                },
            }
        return Reply(status=status, json_body=body, headers={"request-id": "req_fake"})

    def malformed_frame(self) -> bytes:
        return b"event: content_block_delta\ndata: {this is not json\n\n"

    def broken_frame(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_del'

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """A message without content blocks (whole, or as its start and stop events)."""
        message = {
            "id": "msg_fake", "type": "message", "role": "assistant",
            "model": "claude-haiku-4-5", "content": [], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": self.prompt_tokens, "output_tokens": 0},
        }
        if not streaming:
            return Reply(json_body=message)
        frames = [
            sse({"type": "message_start", "message": message}, "message_start"),
            sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                 "usage": {"output_tokens": 0}}, "message_delta"),
            sse({"type": "message_stop"}, "message_stop"),
        ]
        return Reply(frames=frames, content_type="text/event-stream")

    def _messages(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        words = self.words()
        if not body.get("stream"):
            return Reply(
                json_body={
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": "".join(words)}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": self.prompt_tokens, "output_tokens": len(words)},
                }
            )
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": self.prompt_tokens, "output_tokens": 1},
            },
        }
        frames = [
            sse(start, "message_start"),
            sse(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            ),
            sse({"type": "ping"}, "ping"),
        ]
        frames += [
            sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}},
                "content_block_delta",
            )
            for w in words
        ]
        frames += [
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(words)},
                },
                "message_delta",
            ),
            sse({"type": "message_stop"}, "message_stop"),
        ]
        return Reply(frames=frames, content_type="text/event-stream")
