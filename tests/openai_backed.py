"""A Routeur server whose only provider is a fake OpenAI upstream (no embedded model).

For feature tests that need a model answering exactly what the test says (`reply_next`),
slowly (`stream_delay_s`), or failing, through the real OpenAI SDK.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fakes import FakeOpenAI
from support import RunningServer, server_settings, start_server

MODEL = "gpt-4o-mini"

# No fallback: a test sees the fake's answer or its failure, never another model's.
CATALOG = """
[fallbacks]
"gpt-4o" = []
"gpt-4o-mini" = []
"""


async def start_openai_backed_server(
    data_dir: Path, fake: FakeOpenAI, **overrides: object
) -> RunningServer:
    catalog_file = data_dir / "catalog.toml"
    catalog_file.write_text(CATALOG, encoding="utf-8")
    values: dict[str, object] = {
        "local_model_enabled": False,
        "catalog_file": catalog_file,
        "providers": [
            {"name": "openai", "type": "openai", "base_url": f"{fake.url}/v1",
             "api_key": "sk-test"},
        ],
        "retry_max_attempts": 1,
        "analysis_model": MODEL,
        "realtime_model": MODEL,
    }
    values.update(overrides)
    return await start_server(server_settings(data_dir, **values))


async def recorded_usage(running: RunningServer) -> tuple[int, int]:
    """Requests and prompt tokens recorded today, over every owner."""
    today = datetime.now(UTC).date()
    totals = await running.server.app.store.usage.totals_by_owner(
        first_day=today, last_day=today
    )
    return sum(t.requests for t in totals), sum(t.prompt_tokens for t in totals)
