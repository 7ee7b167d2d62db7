"""Agent RAG: answers from the project's documents only, and says which ones.

retrieve (the chunks of the caller's project most relevant to the message, within
`sources` when given) → answer (told to use only those excerpts and cite them) → cite (a
"Sources" line naming each document used, written by the graph itself, so the citation is
right whatever the model wrote). Needs a `project_id`.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from routeur_grpc.domain.completion import AgentStep
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.agents.context import retrieve, system_prompt, with_system_prompt
from routeur_grpc.services.agents.events import AnswerText
from routeur_grpc.services.agents.registry import AgentDefinition
from routeur_grpc.services.agents.run import AgentRun, AgentState

INSTRUCTIONS = (
    "You answer questions from the user's project documents only. If the excerpts below do "
    "not contain the answer, say that the documents do not say."
)


async def prepare(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    if not run.request.project_id:
        raise InvalidArgument(
            "Agent RAG answers from a project's documents: give `project_id` (and optionally "
            "`sources`), or use agent V2."
        )
    chunks = await retrieve(run)
    run.trace.steps.append(AgentStep("retrieve", detail=f"{len(chunks)} chunks"))
    return {"messages": with_system_prompt(run, system_prompt(run, INSTRUCTIONS, chunks))}


async def answer(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    reply = await run.models.call(state["messages"], writer=runtime.stream_writer)
    run.trace.steps.append(AgentStep("answer", model=reply.model))
    run.trace.answer_model = reply.model
    return {"answer": reply.text}


async def cite(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    used: dict[str, str] = {}
    for chunk in run.trace.chunks:
        used.setdefault(chunk.document_id, chunk.title)
    if used:
        names = "; ".join(f"{title or doc_id} ({doc_id})" for doc_id, title in used.items())
        runtime.stream_writer(
            AnswerText(f"\n\nSources: {names}", run.trace.answer_model or run.request.model)
        )
    run.trace.steps.append(AgentStep("cite", detail=f"{len(used)} documents"))
    return {}


def build_graph() -> object:
    graph = StateGraph(AgentState, context_schema=AgentRun)
    graph.add_node("retrieve", prepare)
    graph.add_node("answer", answer)
    graph.add_node("cite", cite)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "answer")
    graph.add_edge("answer", "cite")
    graph.add_edge("cite", END)
    return graph.compile(name="RAG")


AGENT = AgentDefinition(
    type="RAG",
    name="RAG",
    description="Answers from the project's documents only (`project_id`, optionally "
    "restricted to `sources`) and ends with the documents it used.",
    build_graph=build_graph,
    is_available=lambda environment: environment.documents,
)
