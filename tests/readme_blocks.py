"""README.md's examples, read as the commands a reader would type.

`tests/test_readme_examples.py` runs what this module finds; keeping the reading apart keeps
the rules (what is a command, what is skipped and why) in one short place.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

# Fenced blocks in these languages are run: shell lines one by one, Python as one script.
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console", "zsh"})
PYTHON_LANGUAGES = frozenset({"python", "py"})

# The README's two top-level commands: `make test` is what runs this very test, and
# `make run` starts the server the examples are run against (settings may come first).
TOP_LEVEL_COMMAND = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*make (?:run|test)")

# `<!-- not run: reason -->` on the line before a fence (blank lines allowed between).
NOT_RUN_MARKER = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->", re.DOTALL)
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)[^`]*$")
# A `<placeholder>` the reader would have to fill in: examples must not need one.
PLACEHOLDER = re.compile(r"<[a-z][a-z0-9_-]*>")


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, text, first line and not-run reason if any."""

    language: str
    text: str
    line: int
    heading: str
    not_run: str | None


@dataclass(frozen=True)
class Example:
    """One runnable example: a shell command (continuations joined) or a Python script."""

    kind: str  # "shell" or "python"
    text: str
    line: int
    heading: str

    @property
    def test_id(self) -> str:
        """A readable pytest id: line number, then the start of the command."""
        if self.kind == "python":
            return f"L{self.line} python ({self.heading})"
        first = " ".join(self.text.replace("\\\n", " ").split())
        return f"L{self.line} {first[:70]}"


def blocks(markdown: str) -> list[Block]:
    """Every fenced code block of `markdown`, with the section heading it sits under."""
    lines = markdown.splitlines()
    found: list[Block] = []
    heading = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        opening = FENCE.match(line)
        if not opening:
            index += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end])
            end += 1
        found.append(
            Block(
                language=opening["info"].lower(),
                text="\n".join(body),
                line=index + 2,  # 1-based number of the block's first line
                heading=heading,
                not_run=_not_run_reason(lines, index),
            )
        )
        index = end + 1
    return found


def _not_run_reason(lines: list[str], fence_index: int) -> str | None:
    previous = fence_index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    if previous < 0 or not lines[previous].rstrip().endswith("-->"):
        return None
    start = previous  # the marker may span lines: back to the one opening the comment
    while start > 0 and "<!--" not in lines[start]:
        start -= 1
    marker = NOT_RUN_MARKER.fullmatch("\n".join(lines[start : previous + 1]).strip())
    return " ".join(marker["reason"].split()) if marker else None


def shell_commands(block: Block) -> list[Example]:
    """The commands of a shell block, one per command a reader would type.

    A command goes on until the shell would run it: over `\\` continuations, and over
    the lines of a loop, an `if`, an open quote or a here-document (`bash -n` says when it
    is whole). Comments and blank lines between commands are dropped, `$ ` prompts
    removed; in a ```console block only `$ ` lines are commands (the others are output).
    The README's two top-level commands (`make run`, `make test`, with or without
    variables before them) are left out.
    """
    commands: list[Example] = []
    pending: list[str] = []
    start = block.line
    for offset, raw in enumerate(block.text.splitlines()):
        line = raw.rstrip()
        if not pending:
            start = block.line + offset
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if block.language == "console" and not stripped.startswith("$ "):
                continue  # the output shown after a command
            line = stripped.removeprefix("$ ")
        pending.append(line)  # kept as written: the shell joins `\`-newline itself
        command = "\n".join(pending)
        if line.endswith("\\") or not _is_whole(command):
            continue
        pending = []
        if not TOP_LEVEL_COMMAND.fullmatch(_without_comment(command)):
            commands.append(Example("shell", command, start, block.heading))
    if pending:  # never whole: run as is, so that the failure shows
        commands.append(Example("shell", "\n".join(pending), start, block.heading))
    return commands


def _is_whole(command: str) -> bool:
    """Whether bash parses `command` as complete (a here-document without its end line
    parses, with a warning)."""
    checked = subprocess.run(
        ["bash", "-n"], input=command + "\n", capture_output=True, text=True, check=False
    )
    return checked.returncode == 0 and not checked.stderr.strip()


def _without_comment(command: str) -> str:
    return command.split(" #", 1)[0].strip()


def examples(markdown: str) -> tuple[list[Example], list[Block]]:
    """The runnable examples of `markdown`, and the blocks marked not run."""
    runnable: list[Example] = []
    skipped: list[Block] = []
    for block in blocks(markdown):
        if block.language not in SHELL_LANGUAGES | PYTHON_LANGUAGES:
            continue
        if block.not_run is not None:
            skipped.append(block)
        elif block.language in SHELL_LANGUAGES:
            runnable.extend(shell_commands(block))
        else:
            runnable.append(Example("python", block.text, block.line, block.heading))
    return runnable, skipped
