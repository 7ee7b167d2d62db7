"""A server loads what its settings use: no SDK of an unconfigured provider (the Mistral and
Ollama SDKs alone added 9 MB to a server with one OpenAI provider). The tokenizer it may
need for a stream cut short is built before it serves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD_AND_LIST = """
import asyncio, json, sys, tempfile
from pathlib import Path
from routeur_grpc.providers.token_count import _built
from routeur_grpc.server import build_server
from routeur_grpc.settings import Settings

async def main():
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            grpc_address="127.0.0.1:0", data_dir=Path(data_dir), local_model_enabled=False,
            transcription_local_enabled=False, rest_port=0, gateway_admin_port=0,
            providers=[{"name": "openai", "type": "openai", "base_url": "http://127.0.0.1:9/v1",
                        "api_key": "sk-test"}],
        )
        server, _port = await build_server(settings)
        await server.start()
        await server.stop(0)
    print(json.dumps({"packages": sorted({name.split(".")[0] for name in sys.modules}),
                      "google_genai": "google.genai" in sys.modules,
                      "encodings_built": _built.cache_info().currsize}))

asyncio.run(main())
"""


def test_a_server_with_one_openai_provider_loads_no_other_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BUILD_AND_LIST],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "openai" in loaded["packages"]
    assert not {"anthropic", "mistralai", "ollama", "faster_whisper"} & set(loaded["packages"])
    assert not loaded["google_genai"]
    assert loaded["encodings_built"] == 1  # the approximation's, built before serving
