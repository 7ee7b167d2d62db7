"""Text analysis: ask a model for a JSON analysis of a text, check it, keep it.

The model is asked through `CompletionService.complete`, like any completion, so routing,
fallbacks, limits and usage recording apply to each call. Its answer goes through
`analysis_output.parse_analysis`; when it is not a usable analysis, the model is asked once
more with the problem explained (the conversation so far as history). A second unusable
answer is the model's failure, reported as UNAVAILABLE (`MODEL_OUTPUT_INVALID`) — never as
the caller's mistake. Both calls are billed, so the metadata returned and stored sums them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from routeur_grpc.accounting.combined import combine
from routeur_grpc.domain.analysis import AnalysisRequest, TextAnalysis
from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import ChatMessage, CompletionMetadata, CompletionRequest
from routeur_grpc.domain.records import MAX_ANALYSIS_TEXT_BYTES
from routeur_grpc.domain.repositories import AnalysisRepository, Page
from routeur_grpc.errors import InvalidArgument, Unavailable
from routeur_grpc.services.analysis_documents import stored_document, text_analysis
from routeur_grpc.services.analysis_output import InvalidModelOutput, parse_analysis
from routeur_grpc.services.completion import CompletionService

log = logging.getLogger(__name__)

MAX_INSTRUCTIONS_CHARS = 4000
MODEL_OUTPUT_INVALID = "MODEL_OUTPUT_INVALID"

SYSTEM_PROMPT = """You analyse the text the user sends. Answer with one JSON object and \
nothing else, with exactly these keys:
"summary": two or three sentences saying what the text says, in the text's language;
"sentiment": one of "positive", "neutral", "negative", "mixed";
"language": the ISO 639-1 code of the text's language, such as "en" or "fr";
"keywords": a list of up to 10 keywords, most important first;
"entities": a list of the people, organizations, places, dates, products and events the \
text names, each as {"text": "...", "type": "person|organization|location|date|product|\
event|other"}.
Example: {"summary": "...", "sentiment": "neutral", "language": "en", "keywords": ["..."], \
"entities": [{"text": "...", "type": "person"}]}"""

# One worked example before the real text: small models follow an example far more
# reliably than a description of the format.
EXAMPLE_TEXT = "Ada Lovelace wrote the first program in London in 1843. What a brilliant mind!"
EXAMPLE_ANSWER = json.dumps(
    {
        "summary": "Ada Lovelace wrote the first computer program, in London in 1843.",
        "sentiment": "positive",
        "language": "en",
        "keywords": ["Ada Lovelace", "first program", "1843"],
        "entities": [
            {"text": "Ada Lovelace", "type": "person"},
            {"text": "London", "type": "location"},
            {"text": "1843", "type": "date"},
        ],
    }
)

RETRY_PROMPT = """That answer cannot be used: {problem}. Answer again with only the JSON \
object, with the keys summary, sentiment, language, keywords and entities."""


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """How analyses are asked for."""

    default_model: str
    max_tokens: int
    max_text_chars: int


class AnalysisService:
    """Analyses texts and keeps the analyses of each owner."""

    def __init__(
        self,
        completions: CompletionService,
        analyses: AnalysisRepository,
        settings: AnalysisSettings,
    ) -> None:
        self._completions = completions
        self._analyses = analyses
        self._settings = settings

    async def analyze(self, request: AnalysisRequest, caller: Caller) -> TextAnalysis:
        """Analyse `request.text` with its model (or the default), save and return it."""
        self._validate(request)
        model = request.model.strip() or self._settings.default_model
        if not model:
            raise InvalidArgument(
                "`model` is empty and no default analysis model is configured "
                "(ROUTEUR_ANALYSIS_MODEL): name a model from ListModels."
            )
        system = SYSTEM_PROMPT
        if request.instructions.strip():
            system += (
                "\nAlso follow these instructions, adding any extra keys they ask for: "
                + request.instructions.strip()
            )
        history: tuple[ChatMessage, ...] = (
            ChatMessage("system", system),
            ChatMessage("user", EXAMPLE_TEXT),
            ChatMessage("assistant", EXAMPLE_ANSWER),
        )
        accounts: list[CompletionMetadata] = []
        answer = await self._ask(model, history, request.text, caller, accounts)
        try:
            output = parse_analysis(answer)
        except InvalidModelOutput as problem:
            log.info("analysis answer unusable, asking again", extra={"problem": str(problem)})
            history = (
                *history,
                ChatMessage("user", request.text),
                ChatMessage("assistant", answer or "(empty answer)"),
            )
            retry = RETRY_PROMPT.format(problem=problem)
            answer = await self._ask(model, history, retry, caller, accounts)
            try:
                output = parse_analysis(answer)
            except InvalidModelOutput as second:
                raise Unavailable(
                    f"The model {accounts[-1].model!r} did not produce a usable analysis "
                    f"in two attempts ({second}). Choose a more capable model with `model`.",
                    reason=MODEL_OUTPUT_INVALID,
                ) from None
        metadata = combine(accounts)
        record = await self._analyses.create(
            caller.owner_id,
            text=request.text,
            model=metadata.model,
            result=stored_document(output.model_dump(mode="json"), metadata),
        )
        return text_analysis(record)

    async def _ask(
        self,
        model: str,
        history: tuple[ChatMessage, ...],
        message: str,
        caller: Caller,
        accounts: list[CompletionMetadata],
    ) -> str:
        result = await self._completions.complete(
            CompletionRequest(
                message=message,
                model=model,
                temperature=0.0,
                max_tokens=self._settings.max_tokens,
                history=history,
            ),
            caller,
        )
        accounts.append(result.metadata)
        return result.response

    async def get(self, caller: Caller, analysis_id: str) -> TextAnalysis:
        _require_id(analysis_id)
        return text_analysis(await self._analyses.get(caller.owner_id, analysis_id))

    async def list(self, caller: Caller, page_size: int, page_token: str) -> Page[TextAnalysis]:
        page = await self._analyses.list(
            caller.owner_id, page_size=page_size, page_token=page_token
        )
        return Page(tuple(text_analysis(r) for r in page.items), page.next_page_token)

    async def delete(self, caller: Caller, analysis_id: str) -> None:
        _require_id(analysis_id)
        await self._analyses.delete(caller.owner_id, analysis_id)

    def _validate(self, request: AnalysisRequest) -> None:
        if not request.text.strip():
            raise InvalidArgument("`text` is empty: give the text to analyse.")
        limit = self._settings.max_text_chars
        if len(request.text) > limit:
            raise InvalidArgument(
                f"`text` is {len(request.text)} characters long; the limit is {limit}."
            )
        if len(request.text.encode()) > MAX_ANALYSIS_TEXT_BYTES:
            raise InvalidArgument(
                f"`text` is longer than {MAX_ANALYSIS_TEXT_BYTES} bytes in UTF-8."
            )
        if len(request.instructions) > MAX_INSTRUCTIONS_CHARS:
            raise InvalidArgument(
                f"`instructions` is {len(request.instructions)} characters long; the limit "
                f"is {MAX_INSTRUCTIONS_CHARS}."
            )


def _require_id(analysis_id: str) -> None:
    if not analysis_id:
        raise InvalidArgument("`analysis_id` is empty: give the id AnalyzeText returned.")
