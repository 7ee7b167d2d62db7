"""Agent TOOLS: a model that may call a calculator and a clock through its provider's tool calls.

prepare → model ⇄ tools → end. The model is offered the tools in its provider's own format
(OpenAI, Mistral, Anthropic, Gemini); when it asks for calls, the `tools` node runs them and
the model is called again with their results, at most `MAX_TOOL_ROUNDS` times. Every call
(arguments, result, whether the tool refused the arguments) is noted in the metadata's
`tool_calls`. Text the model writes is streamed as it comes, on every round.

The embedded model and Ollama have no tool calls here: a request for this agent on a model
they serve is refused before anything runs (INVALID_ARGUMENT naming the providers that can).
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from routeur_grpc.domain.completion import AgentStep, ChatMessage, ToolStep
from routeur_grpc.domain.model_entry import TOOL_CALLING_PROVIDERS
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.agents.context import retrieve, system_prompt, with_system_prompt
from routeur_grpc.services.agents.registry import AgentDefinition
from routeur_grpc.services.agents.run import AgentRun, AgentState
from routeur_grpc.services.agents.tools import TOOLS, run_tool

#: Provider types whose tool calls Routeur speaks.
#: Most model ⇄ tools round trips in one answer.
MAX_TOOL_ROUNDS = 4

INSTRUCTIONS = (
    "You are a precise assistant. Use the calculator for any arithmetic and the clock for "
    "the current date or time, then answer the user directly."
)


class ToolState(AgentState, total=False):
    pending: list[tuple[str, str, str]]  # (id, name, arguments) of calls to run
    rounds: int


async def prepare(state: ToolState, runtime: Runtime[AgentRun]) -> ToolState:
    run = runtime.context
    if run.provider_of is not None:
        provider = await run.provider_of(run.request.model)
        if provider not in TOOL_CALLING_PROVIDERS:
            raise InvalidArgument(
                f"Agent TOOLS needs a model that can call tools; {run.request.model!r} is "
                f"served by {provider!r}, which cannot here. Use a model of "
                f"{', '.join(sorted(TOOL_CALLING_PROVIDERS))}, or agent V2."
            )
    chunks = await retrieve(run)
    run.trace.steps.append(AgentStep("prepare", detail=f"tools: {', '.join(TOOLS)}"))
    messages = with_system_prompt(run, system_prompt(run, INSTRUCTIONS, chunks))
    return {"messages": messages, "rounds": 0}


async def model(state: ToolState, runtime: Runtime[AgentRun]) -> ToolState:
    run = runtime.context
    reply = await run.models.call(
        state["messages"],
        writer=runtime.stream_writer,
        tools=[tool.spec for tool in TOOLS.values()] if state["rounds"] < MAX_TOOL_ROUNDS else (),
    )
    run.trace.answer_model = reply.model
    detail = f"{len(reply.tool_calls)} tool calls" if reply.tool_calls else ""
    run.trace.steps.append(AgentStep("model", model=reply.model, detail=detail))
    messages = [
        *state["messages"],
        ChatMessage("assistant", reply.text, tool_calls=reply.tool_calls),
    ]
    pending = [(call.id, call.name, call.arguments) for call in reply.tool_calls]
    return {"messages": messages, "answer": reply.text, "pending": pending}


async def after_model(state: ToolState) -> Literal["tools", "__end__"]:
    # A coroutine, as every step of an agent (see `registry`).
    return "tools" if state.get("pending") else END


async def tools(state: ToolState, runtime: Runtime[AgentRun]) -> ToolState:
    run = runtime.context
    results = []
    for call_id, name, arguments in state["pending"]:
        result, failed = run_tool(name, arguments, run.now)
        run.trace.tool_calls.append(ToolStep(name, arguments, result, failed))
        results.append(ChatMessage("tool", result, tool_call_id=call_id, name=name))
    run.trace.steps.append(AgentStep("tools", detail=f"{len(results)} calls"))
    return {
        "messages": [*state["messages"], *results],
        "pending": [],
        "rounds": state["rounds"] + 1,
    }


def build_graph() -> object:
    graph = StateGraph(ToolState, context_schema=AgentRun)
    graph.add_node("prepare", prepare)
    graph.add_node("model", model)
    graph.add_node("tools", tools)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "model")
    graph.add_conditional_edges("model", after_model)
    graph.add_edge("tools", "model")
    return graph.compile(name="TOOLS")


AGENT = AgentDefinition(
    type="TOOLS",
    name="TOOLS",
    description="A model that calls tools (calculator, clock) through its provider's tool "
    "calls: OpenAI, Mistral, Anthropic or Gemini models, not the embedded model.",
    build_graph=build_graph,
    repeatable=False,
)
