"""Agent V1: one model call with a system prompt.

prepare (system prompt, the project's chunks) → answer (streamed). The cheapest agent: one
model call, nothing checked.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from routeur_grpc.domain.completion import AgentStep
from routeur_grpc.services.agents.context import retrieve, system_prompt, with_system_prompt
from routeur_grpc.services.agents.registry import AgentDefinition
from routeur_grpc.services.agents.run import AgentRun, AgentState

INSTRUCTIONS = "You are a helpful assistant. Answer clearly and concisely."


async def prepare(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    chunks = await retrieve(run)
    detail = f"{len(chunks)} chunks" if run.request.project_id else ""
    run.trace.steps.append(AgentStep("prepare", detail=detail))
    return {"messages": with_system_prompt(run, system_prompt(run, INSTRUCTIONS, chunks))}


async def answer(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    reply = await run.models.call(state["messages"], writer=runtime.stream_writer)
    run.trace.steps.append(AgentStep("answer", model=reply.model))
    run.trace.answer_model = reply.model
    return {"answer": reply.text}


def build_graph() -> object:
    graph = StateGraph(AgentState, context_schema=AgentRun)
    graph.add_node("prepare", prepare)
    graph.add_node("answer", answer)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "answer")
    graph.add_edge("answer", END)
    return graph.compile(name="V1")


AGENT = AgentDefinition(
    type="V1",
    name="V1",
    description="One model call with a system prompt (grounded in the project's documents "
    "when `project_id` is given).",
    build_graph=build_graph,
)
