"""Mistral's transcription models (Voxtral) through the official SDK's audio API.

`client.audio.transcriptions.complete_async` posts the file as multipart to
`/v1/audio/transcriptions` and answers the text, the language, segments with timestamps
(when asked for) and usage. Mistral takes no free-text prompt: the sliding prompt that
carries context between pieces of a long recording is not sent (its `context_bias` is a
word list, not a text). `server_url` is the bare origin; the SDK adds `/v1/...` itself.

The SDK raises `MistralError` subclasses carrying the HTTP status for every error answer,
and raw `httpx2` exceptions for transport failures: the table below maps them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from mistralai.client import Mistral, errors
from mistralai.client.utils import BackoffStrategy, RetryConfig

from routeur_grpc.providers.upstream_errors import (
    ErrorTable,
    bad_request,
    by_status,
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

MISTRAL_SERVER_URL = "https://api.mistral.ai"
MISTRAL_MODELS = ("voxtral-mini-latest",)


def _detail(error: errors.MistralError) -> object:
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return None
    return body.get("message") if isinstance(body, dict) else None


def _by_status(error: errors.MistralError, provider: str, model: str) -> Any:
    if error.status_code == 413:
        return too_large(provider)
    return by_status(provider, model, error.status_code, error.headers, _detail(error))


ERRORS = ErrorTable(
    [
        (errors.HTTPValidationError, lambda e, p, m: bad_request(p, 422, _detail(e))),
        (errors.ResponseValidationError, lambda e, p, m: unavailable(p, what="malformed answer")),
        (errors.MistralError, _by_status),
        (errors.NoResponseError, lambda e, p, m: unavailable(p, what="no response")),
        (httpx2.TimeoutException, lambda e, p, m: timed_out(p)),
        (httpx2.TransportError, lambda e, p, m: unavailable(p, what="connection failed")),
    ]
)


class MistralTranscriptionEngine(RemoteTranscriptionEngine):
    """Transcriptions from Mistral's API."""

    def __init__(
        self,
        name: str = "mistral",
        *,
        api_key: str | None,
        server_url: str = MISTRAL_SERVER_URL,
        models: tuple[str, ...] = MISTRAL_MODELS,
        limits: RemoteLimits,
        timeout_s: float = 600.0,
        max_retries: int = 2,
    ) -> None:
        super().__init__(name, models, limits)
        self._http = httpx2.AsyncClient(follow_redirects=True, timeout=timeout_s)
        retry = (
            RetryConfig(
                "backoff",
                BackoffStrategy(500, 8000, 2.0, int(timeout_s * 1000)),
                retry_connection_errors=True,
            )
            if max_retries > 0
            else None
        )
        self._client = Mistral(
            api_key=api_key,
            server_url=server_url.rstrip("/").removesuffix("/v1"),
            async_client=self._http,
            retry_config=retry,
            timeout_ms=int(timeout_s * 1000),
        )

    async def _send(
        self, sent: SentFile, model: str, language: str | None, prompt: str,
        temperature: float | None,
    ) -> PieceTranscript:
        params: dict[str, Any] = {"model": model, "timestamp_granularities": ["segment"]}
        if language:
            params["language"] = language
        if temperature is not None:
            params["temperature"] = temperature
        try:
            with sent.path.open("rb") as audio:
                response = await self._client.audio.transcriptions.complete_async(
                    file={"file_name": sent.filename, "content": audio}, **params
                )
        except Exception as error:
            mapped = ERRORS.map(error, self.name, model)
            if mapped is None:
                raise
            raise mapped from error
        segments = tuple(
            TranscriptSegment(float(s.start or 0.0), float(s.end or 0.0), s.text.strip())
            for s in response.segments or ()
        )
        return PieceTranscript(response.text, response.language or "", segments)

    async def aclose(self) -> None:
        await self._http.aclose()
