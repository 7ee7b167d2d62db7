"""OpenAI's audio transcription API through the official SDK (`AsyncOpenAI`).

Serves OpenAI itself (`whisper-1`, `gpt-4o-transcribe`, `gpt-4o-mini-transcribe`) and any
server that speaks the same `/audio/transcriptions` protocol (faster-whisper-server,
vLLM, LocalAI, …) by base URL. Whisper models are asked for `verbose_json` (segments with
timestamps, the language and the duration); the gpt-4o models only answer `json` (text).
The SDK's own retries (capped exponential backoff honouring `Retry-After`) are kept, a few
at most, because one failed piece would fail a whole long recording.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI

from routeur_grpc.providers.upstream_errors import (
    ErrorTable,
    bad_request,
    by_status,
    credentials_rejected,
    model_not_found,
    rate_limited,
    timed_out,
    unavailable,
)
from routeur_grpc.transcription.engine import TranscriptSegment
from routeur_grpc.transcription.pieces import PieceTranscript
from routeur_grpc.transcription.remote import (
    RemoteLimits,
    RemoteTranscriptionEngine,
    SentFile,
    too_large,
)

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
#: Sent when a compatible server needs no key (the SDK insists on one).
NO_KEY = "not-needed"


def _detail(error: openai.APIStatusError) -> object:
    body = error.body
    return body.get("message") if isinstance(body, Mapping) else None


def _by_status(error: openai.APIStatusError, provider: str, model: str) -> Any:
    if error.status_code == 413:
        return too_large(provider)
    return by_status(provider, model, error.status_code, error.response.headers, _detail(error))


ERRORS = ErrorTable(
    [
        (openai.RateLimitError, lambda e, p, m: rate_limited(p, e.response.headers)),
        (
            (openai.AuthenticationError, openai.PermissionDeniedError),
            lambda e, p, m: credentials_rejected(p, e.status_code),
        ),
        (openai.NotFoundError, lambda e, p, m: model_not_found(p, m)),
        (
            (openai.BadRequestError, openai.UnprocessableEntityError),
            lambda e, p, m: bad_request(p, e.status_code, _detail(e)),
        ),
        (openai.InternalServerError, lambda e, p, m: unavailable(p, e.status_code)),
        (openai.APIStatusError, _by_status),
        (openai.APITimeoutError, lambda e, p, m: timed_out(p)),
        (openai.APIConnectionError, lambda e, p, m: unavailable(p, what="connection failed")),
        (openai.APIResponseValidationError, lambda e, p, m: unavailable(p, what="malformed answer")),
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection lost")),
    ]
)


class OpenAITranscriptionEngine(RemoteTranscriptionEngine):
    """Transcriptions from OpenAI or any server speaking its audio protocol."""

    def __init__(
        self,
        name: str = "openai",
        *,
        api_key: str | None,
        base_url: str = OPENAI_BASE_URL,
        models: tuple[str, ...] = OPENAI_MODELS,
        limits: RemoteLimits,
        timeout_s: float = 600.0,
        max_retries: int = 2,
    ) -> None:
        super().__init__(name, models, limits)
        self._client = AsyncOpenAI(
            api_key=api_key or NO_KEY, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    async def _send(
        self, sent: SentFile, model: str, language: str | None, prompt: str,
        temperature: float | None,
    ) -> PieceTranscript:
        verbose = model.startswith("whisper")
        params: dict[str, Any] = {
            "model": model,
            "response_format": "verbose_json" if verbose else "json",
        }
        if verbose:
            params["timestamp_granularities"] = ["segment"]
        if language:
            params["language"] = language
        if prompt:
            params["prompt"] = prompt
        if temperature is not None:
            params["temperature"] = temperature
        try:
            with sent.path.open("rb") as audio:
                response = await self._client.audio.transcriptions.create(
                    file=(sent.filename, audio), **params
                )
        except Exception as error:
            mapped = ERRORS.map(error, self.name, model)
            if mapped is None:
                raise
            raise mapped from error
        segments = tuple(
            TranscriptSegment(float(s.start), float(s.end), s.text.strip())
            for s in (getattr(response, "segments", None) or ())
        )
        return PieceTranscript(
            text=response.text,
            language=getattr(response, "language", "") or "",
            segments=segments,
        )

    async def aclose(self) -> None:
        await self._client.close()
