"""LiteLLM's proxy, for the side-by-side benchmark: installed from PyPI into its own
virtual environment (once, under ~/.cache/routeur/bench), one worker, pointed at the same
fake upstream as Routeur, with no database and no spend logs."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "gpt-4o"
LITELLM_VENV = Path.home() / ".cache" / "routeur" / "bench" / "litellm"
LITELLM_SPEC = "litellm[proxy]"
#: LiteLLM's proxy refuses to start without a master key; its clients send it as Routeur's
#: send theirs (both authenticate every request).
LITELLM_MASTER_KEY = "sk-bench-" + "5f1c0e9a7b3d42e8a61f9c0d2b7e4a13"


def start_litellm(upstream_url: str) -> tuple[subprocess.Popen[bytes], str] | None:
    """LiteLLM's proxy, one worker, in its own virtual environment (created once)."""
    python = LITELLM_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {LITELLM_SPEC} into {LITELLM_VENV} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", LITELLM_SPEC], check=True
        )
    config = Path(tempfile.mkdtemp()) / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream_url}/v1\n"
        "      api_key: sk-bench\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_MASTER_KEY}\n"
        "  disable_spend_logs: true\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ROUTEUR_"))}
    env.update({"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False"})
    process = subprocess.Popen(
        [str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
         "--port", str(port), "--num_workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/liveliness")
            if connection.getresponse().status == 200:
                return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    print("LiteLLM did not start within 120 s; its column is left out", flush=True)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
