"""The tools the tools agent offers: a calculator and a clock.

Each tool is a `ToolSpec` (what the model is told) and a function from the model's JSON
arguments to a text result. A tool never raises on bad arguments: it answers with what was
wrong, so the model can correct itself, and the step is marked as an error.

The calculator evaluates arithmetic by walking Python's `ast` with a whitelist of number
literals and operators: no names, no calls, no attributes, so nothing but arithmetic can
run; exponents and results are bounded so that `9**9**9` cannot eat the machine.
"""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routeur_grpc.domain.completion import ToolSpec

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e300

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


class ToolInputError(ValueError):
    """The arguments a model gave a tool are wrong; the message says how."""


@dataclass(frozen=True, slots=True)
class Tool:
    spec: ToolSpec
    run: Callable[[dict[str, object], datetime], str]


def evaluate(expression: str) -> float | int:
    """The value of an arithmetic expression (+ - * / // % **, parentheses)."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolInputError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ToolInputError(f"{expression!r} is not an arithmetic expression.") from None
    return _value(tree.body)


def _value(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolInputError(f"Exponents are limited to {MAX_EXPONENT}.")
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ToolInputError("Division by zero.") from None
        except OverflowError:
            raise ToolInputError("The result is too large.") from None
        if isinstance(result, complex) or abs(result) > MAX_MAGNITUDE:
            raise ToolInputError("The result is too large or not a real number.")
        return result
    raise ToolInputError("Only numbers, + - * / // % ** and parentheses are allowed.")


def _calculator(arguments: dict[str, object], now: datetime) -> str:
    expression = arguments.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise ToolInputError("Give `expression`, e.g. \"(2 + 3) * 4\".")
    value = evaluate(expression)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    elif isinstance(value, float):
        value = float(f"{value:.12g}") if math.isfinite(value) else value
    return str(value)


def _clock(arguments: dict[str, object], now: datetime) -> str:
    zone = arguments.get("timezone") or "UTC"
    if not isinstance(zone, str):
        raise ToolInputError("`timezone` must be an IANA name such as \"Europe/Paris\".")
    try:
        local = now.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolInputError(f"Unknown time zone {zone!r}: use an IANA name such as \"Europe/Paris\".") from None
    return json.dumps(
        {"datetime": local.isoformat(timespec="seconds"), "weekday": local.strftime("%A"),
         "timezone": zone}
    )


CALCULATOR = Tool(
    ToolSpec(
        name="calculator",
        description="Evaluates an arithmetic expression exactly: + - * / // % ** and parentheses.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "description": "e.g. (2 + 3) * 4"}},
            "required": ["expression"],
        },
    ),
    _calculator,
)
CLOCK = Tool(
    ToolSpec(
        name="clock",
        description="The current date, time and weekday, in a time zone (UTC by default).",
        parameters={
            "type": "object",
            "properties": {"timezone": {"type": "string", "description": "IANA name, e.g. Europe/Paris"}},
        },
    ),
    _clock,
)
TOOLS: dict[str, Tool] = {tool.spec.name: tool for tool in (CALCULATOR, CLOCK)}


def run_tool(name: str, arguments: str, now: datetime) -> tuple[str, bool]:
    """The tool's answer and whether it is an error (unknown tool, bad arguments)."""
    tool = TOOLS.get(name)
    if tool is None:
        return f"There is no tool named {name!r}; use one of {', '.join(TOOLS)}.", True
    try:
        parsed = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return "The arguments are not valid JSON.", True
    if not isinstance(parsed, dict):
        return "The arguments must be a JSON object.", True
    try:
        return tool.run(parsed, now), False
    except ToolInputError as error:
        return str(error), True
