"""A Routeur server in its own process, transcribing with the scripted engine.

    python serve_scripted.py DATA_DIR STEP_DELAY_S [MONGODB_URI]

Prints `PORT <n>` once it listens, then serves until killed. Tests kill it with SIGKILL
to check that another instance takes its jobs over.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support, transcription

from support import server_settings

from routeur_grpc.server import build_server
from routeur_grpc.settings import Settings
from transcription.scripted_engine import ScriptedEngine

LEASE_S = 2.0


def settings_for(data_dir: Path, mongodb_uri: str = "", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "local_model_enabled": False,
        "gateway_enabled": False,
        "transcription_job_lease_s": LEASE_S,
        "transcription_job_poll_s": 0.1,
        "transcription_audio_retention_s": 0,
    }
    if mongodb_uri:
        values.update(store="mongodb", mongodb_uri=mongodb_uri, mongodb_database="takeover")
    values.update(overrides)
    return server_settings(data_dir, **values)


async def main(data_dir: Path, step_delay_s: float, mongodb_uri: str) -> None:
    engine = ScriptedEngine(steps=10, step_delay_s=step_delay_s)
    server, port = await build_server(settings_for(data_dir, mongodb_uri), {"scripted": engine})
    await server.start()
    print(f"PORT {port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(
        main(Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
    )
