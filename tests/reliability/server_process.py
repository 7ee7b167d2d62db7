"""`routeur-grpc serve` as a child process that a test may kill with SIGKILL and start again
on the same data directory."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import ADMIN_API_KEY

START_TIMEOUT_S = 90.0


@dataclass
class ServerProcess:
    """One `serve` process: its gRPC address, and the log lines it wrote."""

    data_dir: Path
    environment: dict[str, str]
    process: subprocess.Popen[str] | None = None
    address: str = ""
    rest_url: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> None:
        env = {
            **os.environ,
            "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
            "ROUTEUR_DATA_DIR": str(self.data_dir),
            "ROUTEUR_LOG_FORMAT": "json",
            "ROUTEUR_REST_PORT": "0",
            "ROUTEUR_GATEWAY_ADMIN_PORT": "0",
            "ROUTEUR_BOOTSTRAP_ADMIN_KEY": ADMIN_API_KEY,  # the key the tests' channels send
            **self.environment,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "routeur_grpc", "serve"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, args=(self.process, lines), daemon=True).start()
        gateway = env.get("ROUTEUR_GATEWAY_ENABLED", "true").lower() != "false"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                entry = json.loads(lines.get(timeout=1.0))
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if entry.get("msg") == "gRPC server listening":
                self.address = entry["address"]
                if not gateway:
                    return
            if entry.get("msg") == "REST gateway listening":
                self.rest_url = entry["url"]
                return
        self.kill()
        raise AssertionError(f"the server did not start: {self.log[-5:]}")

    def _drain(self, process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("{"):
                lines.put(line)
                try:
                    self.log.append(json.loads(line))
                except ValueError:
                    pass

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, as a crash or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
