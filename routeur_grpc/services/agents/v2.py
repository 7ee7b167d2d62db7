"""Agent V2 (the default): prepare, answer and self-check → revise once if the check fails.

The preparation (`context.prepared_messages`: system prompt, language, project chunks) and
the self-check (deterministic, `checks.check_answer`: empty, looping, or wrong-language
answers) run within the answering step, as a LangGraph step costs more than either of them.
So a passing answer costs one step and one model call, like V1; only a failing one costs a
second step and a second call, the revision, which is told what was wrong. The metadata's
`steps` still lists the preparation, the answer and the check. A stream has already shown
the first answer, so the revision follows it (after a blank line); a whole answer is the
revision alone.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from routeur_grpc.domain.completion import AgentStep, ChatMessage
from routeur_grpc.services.agents.checks import LANGUAGE_NAMES, check_answer
from routeur_grpc.services.agents.context import prepared_messages
from routeur_grpc.services.agents.events import AnswerRestarted
from routeur_grpc.services.agents.registry import AgentDefinition
from routeur_grpc.services.agents.run import AgentRun, AgentState

INSTRUCTIONS = (
    "You are a careful assistant. Read the question, answer it directly and accurately, "
    "and keep the answer concise."
)


async def answer(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    """The prepared prompt, the model's answer, and its self-check, in one step."""
    run = runtime.context
    messages = await prepared_messages(run, INSTRUCTIONS, note_language=True)
    reply = await run.models.call(messages, writer=runtime.stream_writer)
    run.trace.steps.append(AgentStep("answer", model=reply.model))
    run.trace.answer_model = reply.model
    problem = check_answer(run.request.message, reply.text) or ""
    run.trace.steps.append(AgentStep("check", detail=problem or "passed"))
    return {"messages": messages, "answer": reply.text, "problem": problem}


async def after_answer(state: AgentState) -> Literal["revise", "__end__"]:
    # A coroutine, as every step of an agent (see `registry`).
    return "revise" if state.get("problem") else END


async def revise(state: AgentState, runtime: Runtime[AgentRun]) -> AgentState:
    run = runtime.context
    runtime.stream_writer(AnswerRestarted())
    request = (
        f"Your previous answer was {state['problem']}. Answer my question again, directly"
    )
    request += f", in {LANGUAGE_NAMES[run.language]}." if run.language else "."
    messages = [
        *state["messages"],
        ChatMessage("assistant", state["answer"]),
        ChatMessage("user", f"{request}\n\nMy question: {run.request.message}"),
    ]
    reply = await run.models.call(messages, writer=runtime.stream_writer)
    run.trace.steps.append(AgentStep("revise", model=reply.model, detail=state["problem"]))
    run.trace.answer_model = reply.model
    return {"answer": reply.text}


def build_graph() -> object:
    graph = StateGraph(AgentState, context_schema=AgentRun)
    graph.add_node("answer", answer)
    graph.add_node("revise", revise)
    graph.add_edge(START, "answer")
    graph.add_conditional_edges("answer", after_answer)
    graph.add_edge("revise", END)
    return graph.compile(name="V2")


AGENT = AgentDefinition(
    type="V2",
    name="V2",
    description="Default workflow: prepares the context (language, project documents), "
    "answers, then checks the answer and revises it once if it is empty, looping or in "
    "the wrong language.",
    build_graph=build_graph,
)
