"""Fake Ollama server: native `/api/chat` (NDJSON), `/api/tags`, `/api/pull`, `/api/delete`.

`required_api_key`, when set, makes every route answer 401 unless the request carries
`Authorization: Bearer <key>` (as a remote Ollama behind a proxy would).
"""

from __future__ import annotations

from typing import Any

from .http_server import FakeUpstream, RecordedRequest, Reply, ndjson

_CREATED_AT = "2025-01-01T00:00:00Z"


class FakeOllama(FakeUpstream):
    prompt_tokens = 5

    def __init__(self) -> None:
        super().__init__()
        self.installed: list[str] = ["llama3:8b"]
        self.required_api_key: str | None = None

    def reset(self) -> None:
        super().reset()
        self.installed = ["llama3:8b"]
        self.required_api_key = None

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if self.required_api_key is not None:
            if request.headers.get("authorization") != f"Bearer {self.required_api_key}":
                return self.error_reply(401, {"error": "unauthorized"}), False
        if request.method == "POST" and request.path == "/api/chat":
            return self._chat(request.json()), True
        if request.method == "GET" and request.path == "/api/tags":
            return Reply(json_body={"models": [self._tag(m) for m in self.installed]}), False
        if request.method == "POST" and request.path == "/api/pull":
            return self._pull(request.json()), True
        if request.method == "DELETE" and request.path == "/api/delete":
            model = request.json()["model"]
            if model not in self.installed:
                return self.error_reply(404, {"error": f"model '{model}' not found"}), False
            self.installed.remove(model)
            return Reply(json_body=None), False
        return self.error_reply(404, None), False

    def error_reply(self, status: int, body: Any) -> Reply:
        return Reply(status=status, json_body=body or {"error": f"fake error {status}"})

    def malformed_frame(self) -> bytes:
        return b"{this is not json\n"

    def broken_frame(self) -> bytes:
        return b'{"model": "llama3:8b", "mess'

    def empty_reply(self, request: RecordedRequest, streaming: bool, variant: str) -> Reply:
        """The final `done` line alone (whole or streamed): no text at all."""
        final = {
            "model": "llama3:8b", "created_at": _CREATED_AT,
            "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
            "prompt_eval_count": self.prompt_tokens, "eval_count": 0,
        }
        if not streaming:
            return Reply(json_body=final)
        return Reply(frames=[ndjson(final)], content_type="application/x-ndjson")

    @staticmethod
    def _tag(model: str) -> dict[str, Any]:
        return {
            "name": model,
            "model": model,
            "modified_at": _CREATED_AT,
            "size": 4_661_224_676,
            "digest": "sha256:" + "0" * 64,
            "details": {
                "format": "gguf",
                "family": "llama",
                "parameter_size": "8.0B",
                "quantization_level": "Q4_0",
            },
        }

    def _chat(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        if model not in self.installed:
            return self.error_reply(404, {"error": f"model '{model}' not found, try pulling it first"})
        words = self.words()
        final = {
            "model": model,
            "created_at": _CREATED_AT,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 1000,
            "prompt_eval_count": self.prompt_tokens,
            "prompt_eval_duration": 1000,
            "eval_count": len(words),
            "eval_duration": 1000,
        }
        if body.get("stream") is False:
            final["message"]["content"] = "".join(words)
            return Reply(json_body=final)
        frames = [
            ndjson(
                {
                    "model": model,
                    "created_at": _CREATED_AT,
                    "message": {"role": "assistant", "content": w},
                    "done": False,
                }
            )
            for w in words
        ]
        frames.append(ndjson(final))
        return Reply(frames=frames, content_type="application/x-ndjson")

    def _pull(self, body: dict[str, Any]) -> Reply:
        model = body["model"]
        digest = "sha256:" + "1" * 64
        frames = [ndjson({"status": "pulling manifest"})]
        frames += [
            ndjson({"status": f"pulling {digest[7:19]}", "digest": digest, "total": 100, "completed": done})
            for done in (0, 50, 100)
        ]
        frames += [ndjson({"status": "verifying sha256 digest"}), ndjson({"status": "success"})]
        if model not in self.installed:
            self.installed.append(model)
        if body.get("stream") is False:
            return Reply(json_body={"status": "success"})
        return Reply(frames=frames, content_type="application/x-ndjson")
