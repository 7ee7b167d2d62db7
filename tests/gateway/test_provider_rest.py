"""Provider administration over REST, with the JSON shapes of the "AI Providers" API."""

from __future__ import annotations

import httpx


async def test_providers_are_created_listed_and_masked_over_rest(rest: httpx.AsyncClient):
    openai = {
        "provider_type": "openai",
        "name": "OpenAI GPT-4 (REST)",
        "api_key": "sk-rest-abcdefgh5678",
        "model": "gpt-4-turbo",
        "config": {"temperature": 0.7, "max_tokens": 4096, "timeout": 30},
        "enabled": False,
    }
    created = await rest.post("/api/v1/ai-providers", json=openai)
    assert created.status_code == 200, created.text
    body = created.json()["provider"]
    assert body["api_key_masked"] == "sk-...5678" and "sk-rest" not in created.text
    assert body["config"]["timeout"] == 30 and body["enabled"] is False

    ollama = {  # the Ollama shape: endpoint and model inside `config`
        "provider_type": "ollama_cloud",
        "name": "Ollama Cloud (REST)",
        "config": {
            "base_url": "https://ollama.example.com",
            "model": "mixtral:8x7b",
            "api_key": "ollama-cloud-key-0001",
        },
        "enabled": False,
    }
    created = await rest.post("/api/v1/ai-providers", json=ollama)
    assert created.status_code == 200, created.text
    body = created.json()["provider"]
    assert body["base_url"] == "https://ollama.example.com" and body["model"] == "mixtral:8x7b"
    assert body["api_key_masked"] == "oll...0001"
    assert "ollama-cloud-key" not in created.text

    listed = await rest.get("/api/v1/ai-providers")
    assert listed.status_code == 200
    names = [p["name"] for p in listed.json()["providers"]]
    assert {"OpenAI GPT-4 (REST)", "Ollama Cloud (REST)"} <= set(names)

    toggled = await rest.patch(f"/api/v1/ai-providers/{body['provider_id']}/toggle", json={})
    assert toggled.status_code == 200 and toggled.json()["provider"]["enabled"] is True
    gone = await rest.delete(f"/api/v1/ai-providers/{body['provider_id']}")
    assert gone.status_code == 200
    missing = await rest.get(f"/api/v1/ai-providers/{body['provider_id']}")
    assert missing.status_code == 404

    bad = await rest.post(
        "/api/v1/ai-providers", json={**openai, "name": "x", "base_url": "ftp://h"}
    )
    assert bad.status_code == 400 and "http" in bad.json()["message"]
