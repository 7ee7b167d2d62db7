"""Every example of README.md runs, as written, against one live server.

The server is started the way `make run` starts it: `.venv/bin/routeur-grpc serve` as a
process, from a directory laid out like the checkout after `make run` (`.venv` is this
checkout's virtualenv, `data/` the server's data directory, where its first start writes
`data/admin.key`), authentication on, the embedded local model, Envoy beside it. What
differs from `make run`: every port is a free one (port 0, as for every test server),
Prometheus metrics are on (so that a metrics example can run), and answers with no
`max_tokens` stop at `MAX_TOKENS`. Before a command runs, the README's fixed addresses are
replaced with the live ones:

    README text                      becomes
    127.0.0.1:50051, localhost:50051 the gRPC address
    127.0.0.1:8080,  localhost:8080  the REST address (Envoy)
    127.0.0.1:9901,  localhost:9901  Envoy's admin address
    127.0.0.1:9464,  localhost:9464  the Prometheus /metrics address
    data/, ${ROUTEUR_DATA_DIR:-data}  unchanged: the working directory has `data/`
    .venv/bin/...                     unchanged: the working directory has `.venv`

Commands run with that directory as working directory, `.venv/bin` first on PATH (so
`grpcurl`, `buf` and `routeur-grpc` resolve) and `ROUTEUR_GRPC_ADDRESS` set to the live
address (the bundled client's default address, as `make run`'s :50051 is), no other
`ROUTEUR_*` variable.

What runs (read by `readme_blocks.py`):

- every command of a ```bash / ```sh / ```shell block (a line, with its `\\` continuations,
  or the lines of a loop, an open quote, a here-document), and every `$ ` line of a
  ```console block; comments and blank lines dropped, except the README's two top-level
  commands `make run` (it starts the server these examples talk to) and `make test` (it
  runs this test);
- every ```python block, as one script, with `.venv/bin/python`.

Commands run one after the other in one shell session, as a reader would type them:
variables set by one (`export ROUTEUR_API_KEY=...`, `TOKEN=$(...)`) are seen by the next,
and by the Python examples' `os.environ`. A command must exit 0 (`set -o pipefail`, and
`curl` fails on an HTTP error status, `--fail-with-body`), print something (or, for an
assignment, set a non-empty value), and print no error JSON (`{code, message}` or an
`error` field). Examples must be self-contained: no `<id>` for the reader to fill in;
capture what a command returns (`id=$(curl ... | .venv/bin/python -c ...)`) and use it.
With pipefail, `curl ... | head` fails (curl cannot write once head has gone): filter with
`grep` instead.

Files: a command naming an audio file (`curl -F file=@audio.mp3`, `.wav`, `.ogg`...) finds
it in its working directory, generated once from speech made by espeak-ng and encoded by
ffmpeg.

Not run: a block is skipped only when the line before its fence (blank lines allowed) is

    <!-- not run: why this block cannot run in a test -->

which is visible to anyone editing the README, and shown as a skipped test with its reason
in the test report. It must be
rare, and the reason must be real: the block acts on the checkout itself (regenerating
code, running benchmarks), or needs something no test can have (a provider's real key, a
machine elsewhere). "It is slow" or "it needs a file" is not a reason: use a small
`max_tokens`, or a file this harness generates. A block that is a configuration file
(```toml, ```yaml) rather than commands is not run and needs no marker (test_readme.py
loads every ```toml block as a `ROUTEUR_CONFIG_FILE`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from readme_blocks import PLACEHOLDER, Block, Example, examples

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RUNNABLE, NOT_RUN = examples((ROOT / "README.md").read_text())

COMMAND_TIMEOUT_S = 240.0
SERVER_START_TIMEOUT_S = 180.0
# Keeps answers short where an example gives no max_tokens (the only setting, besides
# ports and metrics, that differs from `make run`'s defaults).
MAX_TOKENS = "32"

ASSIGNMENT = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=")
AUDIO_FILE = re.compile(
    r"(?<![\w/.:-])(?P<path>[\w./-]*[\w-]+\.(?:mp3|wav|ogg|oga|opus|flac|m4a|mp4|mpeg|mpga|webm))\b"
)
# espeak-ng voice -> what it says, in the audio files examples upload.
SPEECH = {
    "fr": ("fr", "Bonjour, ceci est un court essai de transcription pour Routeur."),
    "en": ("en", "Hello, this is a short transcription test for Routeur."),
}

pytestmark = pytest.mark.slow


@dataclass
class LiveServer:
    """The server of `make run`, and the directory the examples run from."""

    grpc_address: str
    rest_address: str
    gateway_admin_address: str
    metrics_address: str
    workdir: Path
    log: Path

    def substitutions(self) -> list[tuple[str, str]]:
        """README text -> the live server's: the fixed addresses `make run` would use."""
        pairs = [
            ("50051", self.grpc_address),  # gRPC
            ("8080", self.rest_address),  # REST (Envoy)
            ("9901", self.gateway_admin_address),  # Envoy's admin
            ("9464", self.metrics_address),  # Prometheus /metrics
        ]
        return [
            (f"{host}:{port}", address)
            for port, address in pairs
            for host in ("127.0.0.1", "localhost")
        ]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("readme-checkout")
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    log = workdir / "server.log"
    environment = _base_environment() | {
        "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
        "ROUTEUR_REST_PORT": "0",
        "ROUTEUR_GATEWAY_ADMIN_PORT": "0",
        "ROUTEUR_METRICS_PORT": "0",
        "ROUTEUR_LOCAL_MODEL_MAX_TOKENS": MAX_TOKENS,
        "ROUTEUR_LOG_FORMAT": "json",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(VENV_BIN / "routeur-grpc"), "serve"],
            cwd=workdir,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        addresses = _wait_until_serving(process, log)
        yield LiveServer(workdir=workdir, log=log, **addresses)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _base_environment() -> dict[str, str]:
    """This process's environment without ROUTEUR_* settings, `.venv/bin` first on PATH."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEUR_")}
    environment["PATH"] = f"{VENV_BIN}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def _wait_until_serving(process: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    """The addresses the server logged once gRPC, Envoy and metrics all listen."""
    found: dict[str, str] = {}
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            message = str(record.get("msg", ""))
            if message == "gRPC server listening":
                found["grpc_address"] = record["address"]
            elif message == "metrics listening":
                found["metrics_address"] = _host_port(record["url"])
            elif message.startswith("REST gateway ready on "):
                rest, admin = re.findall(r"http://([\w.\[\]:]+)", message)[:2]
                found["rest_address"], found["gateway_admin_address"] = rest, admin
        if len(found) == 4 and "REST gateway listening" in log.read_text(errors="replace"):
            return found
        if process.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"routeur-grpc serve did not start:\n{_tail(log.read_text(errors='replace'))}")


def _host_port(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0]


@dataclass
class ReadmeShell:
    """One shell session of a README reader: commands run in order, variables carry on."""

    server: LiveServer
    ran: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.state = self.server.workdir / ".readme-shell-state"
        self.baseline = self.server.workdir / ".readme-shell-baseline"
        self.state.write_text("")
        names = self._bash("compgen -v", save_state=False, timeout=30).stdout.split()
        self.baseline.write_text("\n".join([*names, "__status"]) + "\n")

    def run(self, example: Example) -> subprocess.CompletedProcess[str]:
        self._prepare_files(example.text)
        text = self.substitute(example.text)
        self.ran.add(example.line)
        if example.kind == "python":
            script = self.server.workdir / "readme_example.py"
            script.write_text(text)
            return subprocess.run(
                [str(VENV_BIN / "python"), str(script)],
                check=False,
                cwd=self.server.workdir,
                env=self.exported(),
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
        return self._bash(text, save_state=True, timeout=COMMAND_TIMEOUT_S)

    def substitute(self, text: str) -> str:
        for readme, live in self.server.substitutions():
            text = text.replace(readme, live)
        return text

    def variable(self, name: str) -> str:
        return self._bash(f'printf %s "${{{name}:-}}"', save_state=False, timeout=30).stdout

    def exported(self) -> dict[str, str]:
        """The session's environment: the base one plus what the commands exported."""
        listing = self._bash("env -0", save_state=False, timeout=30).stdout
        return dict(entry.split("=", 1) for entry in listing.split("\0") if "=" in entry)

    def _bash(
        self, command: str, *, save_state: bool, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        after = (
            f'for __name in $(compgen -v); do grep -qxF "$__name" {self.baseline} '
            f'|| declare -p "$__name"; done > {self.state}.next 2>/dev/null; '
            f"mv {self.state}.next {self.state}"
            if save_state
            else ":"
        )
        script = (
            "set -o pipefail\n"
            'curl() { command curl --fail-with-body "$@"; }\n'
            f"source {self.state}\n"
            f"{command}\n"
            "__status=$?\n"
            f"{after}\n"
            "exit $__status\n"
        )
        environment = _base_environment() | {"ROUTEUR_GRPC_ADDRESS": self.server.grpc_address}
        return subprocess.run(
            ["bash", "-c", script],
            check=False,
            cwd=self.server.workdir,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _prepare_files(self, text: str) -> None:
        """Audio files the command names, made from speech in the working directory
        (English speech when the name says `english` or `_en`, French otherwise)."""
        for match in AUDIO_FILE.finditer(text):
            target = self.server.workdir / match["path"]
            if match["path"].startswith("/") or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            english = re.search(r"english|(?:^|[_-])en[_.-]", target.name, re.IGNORECASE)
            _encode_speech(SPEECH["en" if english else "fr"], self.server.workdir, target)


def _encode_speech(speech: tuple[str, str], workdir: Path, target: Path) -> None:
    voice, text = speech
    spoken = workdir / f".speech-{voice}.wav"
    if not spoken.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(spoken), text], check=True, timeout=60)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(spoken),
            "-ac",
            "1",
            "-ar",
            "16000",
            str(target),
        ],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def shell(live_server: LiveServer) -> ReadmeShell:
    return ReadmeShell(live_server)


@pytest.mark.parametrize("example", RUNNABLE, ids=[example.test_id for example in RUNNABLE])
def test_readme_example_runs(shell: ReadmeShell, example: Example) -> None:
    assert not PLACEHOLDER.search(example.text), (
        f"README line {example.line} has a placeholder for the reader to fill in: make the "
        "example self-contained (capture the value from an earlier command)"
    )
    _replay_assignments_before(shell, example)
    result = shell.run(example)
    report = _report(example, shell, result)
    print(report)  # shown with `pytest -rP`: what each example printed
    assert result.returncode == 0, f"exit status {result.returncode}\n{report}"
    assignment = ASSIGNMENT.match(example.text) if example.kind == "shell" else None
    if assignment:
        assert shell.variable(assignment["name"]).strip(), f"empty ${assignment['name']}\n{report}"
    else:
        assert result.stdout.strip(), f"printed nothing\n{report}"
    assert not _error_payloads(result.stdout), f"an error in the output\n{report}"


def _replay_assignments_before(shell: ReadmeShell, example: Example) -> None:
    """When a test runs alone (`-k`), the variables earlier examples set are set first."""
    for earlier in RUNNABLE:
        if earlier.line >= example.line:
            break
        if earlier.line in shell.ran or earlier.kind != "shell":
            continue
        if ASSIGNMENT.match(earlier.text):
            result = shell.run(earlier)
            assert result.returncode == 0, _report(earlier, shell, result)


def _error_payloads(output: str) -> list[object]:
    """JSON objects in `output` that report a failure: `{code, message}` with a non-zero
    code (Routeur's REST errors, an OpenAI-style `{"error": ...}`) or an `error` field
    (a stream's last chunk)."""
    documents: list[object] = []
    stripped = output.strip()
    for candidate in [stripped, *re.findall(r"^(?:data: )?(\{.*\})\s*$", output, re.MULTILINE)]:
        try:
            documents.append(json.loads(candidate))
        except ValueError:
            continue
    return [document for document in documents if _is_error(document)]


def _is_error(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    if document.get("error"):
        return True
    code = document.get("code")
    return "message" in document and code not in (None, 0, "OK", "0")


def _report(example: Example, shell: ReadmeShell, result: subprocess.CompletedProcess[str]) -> str:
    server_log = shell.server.log.read_text(errors="replace")
    return (
        f"README.md line {example.line} ({example.heading}):\n{example.text}\n"
        f"ran as:\n{shell.substitute(example.text)}\n"
        f"--- stdout\n{_tail(result.stdout)}\n--- stderr\n{_tail(result.stderr)}"
        + ("" if result.returncode == 0 else f"\n--- server log\n{_tail(server_log, 1500)}")
    )


def _tail(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


@pytest.mark.parametrize(
    "block", NOT_RUN, ids=[f"L{block.line} {block.heading}" for block in NOT_RUN]
)
def test_readme_block_marked_not_run(block: Block) -> None:
    pytest.skip(f"README.md line {block.line} not run: {block.not_run}")
