"""Agent V1: one model call with a system prompt.

One step: the system prompt (with the project's chunks) is prepared
(`context.prepared_messages`), then the answer is streamed. The cheapest agent: one model
call, nothing checked.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from routeur_grpc.domain.completion import AgentStep
from routeur_grpc.services.agents.context import prepared_messages
from routeur_grpc.services.agents.registry import AgentDefinition
from routeur_grpc.services.agents.run import AgentRun, AgentState

INSTRUCTIONS = "You are a helpful assistant. Answer clearly and concisely."


async def answer(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    messages = await prepared_messages(run, INSTRUCTIONS)
    reply = await run.models.call(messages, writer=runtime.stream_writer)
    run.trace.steps.append(AgentStep("answer", model=reply.model))
    run.trace.answer_model = reply.model
    return {"messages": messages, "answer": reply.text}


def build_graph() -> object:
    graph = StateGraph(AgentState, context_schema=AgentRun)
    graph.add_node("answer", answer)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph.compile(name="V1")


AGENT = AgentDefinition(
    type="V1",
    name="V1",
    description="One model call with a system prompt (grounded in the project's documents "
    "when `project_id` is given).",
    build_graph=build_graph,
)
