"""Preparing what the answering model is sent: a system prompt, and the project's chunks.

Shared by the built-in agents. The caller's own system message, if its history starts with
one, is kept and ours is appended to it. With a `project_id`, the chunks of the caller's
project most relevant to the message (restricted to `sources` when given) are put in the
system prompt and noted in the trace, so the metadata names them.
"""

from __future__ import annotations

from routeur_grpc.domain.completion import AgentStep, ChatMessage, SourceChunk
from routeur_grpc.domain.documents import ScoredChunk
from routeur_grpc.services.agents.checks import LANGUAGE_NAMES
from routeur_grpc.services.agents.run import AgentRun

#: Chunks put in the prompt for a project completion.
CHUNKS_PER_ANSWER = 5


async def retrieve(run: AgentRun) -> list[ScoredChunk]:
    """The project's chunks for this request (none without a `project_id`)."""
    request = run.request
    if not request.project_id:
        return []
    if run.documents is None:
        return []
    found = await run.documents.retrieve(
        run.owner_id,
        request.project_id,
        request.message,
        sources=request.sources,
        limit=CHUNKS_PER_ANSWER,
    )
    run.trace.chunks.extend(
        SourceChunk(c.document_id, c.offset, len(c.text), round(c.score, 6), c.title)
        for c in found
    )
    return found


def excerpts_block(chunks: list[ScoredChunk]) -> str:
    """The chunks as numbered excerpts for a prompt."""
    return "\n\n".join(
        f"[{index}] ({chunk.title or chunk.document_id}, offset {chunk.offset})\n{chunk.text}"
        for index, chunk in enumerate(chunks, start=1)
    )


def system_prompt(run: AgentRun, instructions: str, chunks: list[ScoredChunk]) -> str:
    lines = [instructions, f"Today is {run.now.date().isoformat()}."]
    if run.language is not None:
        lines.append(f"Answer in {LANGUAGE_NAMES[run.language]}.")
    if chunks:
        lines.append(
            "Ground your answer in these excerpts of the user's project documents and cite "
            "them as [1], [2]…; say so if they do not contain the answer.\n\n"
            + excerpts_block(chunks)
        )
    elif run.request.project_id:
        lines.append("The user's project documents contain nothing relevant to this message.")
    return "\n".join(lines)


def with_system_prompt(run: AgentRun, prompt: str) -> list[ChatMessage]:
    """The request's messages with `prompt` in the system message, after the caller's own
    system text if it gave one (one system message: some providers take only one)."""
    history = list(run.request.history)
    user = ChatMessage("user", run.request.message)
    if history and history[0].role == "system":
        merged = ChatMessage("system", f"{history[0].content}\n\n{prompt}")
        return [merged, *history[1:], user]
    return [ChatMessage("system", prompt), *history, user]


async def prepared_messages(
    run: AgentRun, instructions: str, *, note_language: bool = False
) -> list[ChatMessage]:
    """What the answering model is sent: `instructions` as the system prompt, with the
    project's chunks. Noted in the trace as the `prepare` step (with the question's language
    when `note_language`), although it runs within the answering step: a LangGraph step
    costs about 0.7 ms of the server's CPU under load, more than the preparation."""
    chunks = await retrieve(run)
    details = []
    if note_language:
        details.append(f"language={run.language or 'unknown'}")
    if run.request.project_id:
        details.append(f"{len(chunks)} chunks")
    run.trace.steps.append(AgentStep("prepare", detail="; ".join(details)))
    return with_system_prompt(run, system_prompt(run, instructions, chunks))
