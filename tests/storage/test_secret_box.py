"""Provider keys at rest: encrypted, authenticated, with a key kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from routeur_grpc.errors import FailedPrecondition
from routeur_grpc.storage.secret_box import SecretBox, SecretBoxError, mask


def test_a_generated_key_is_private_and_reused(tmp_path: Path):
    box = SecretBox.open(None, tmp_path)
    key_file = tmp_path / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = box.encrypt("sk-live-123456789")
    assert "sk-live" not in token
    assert SecretBox.open(None, tmp_path).decrypt(token) == "sk-live-123456789"
    assert box.encrypt("") == "" and box.decrypt("") == ""


def test_another_key_cannot_read_and_says_what_to_do(tmp_path: Path):
    token = SecretBox.open(None, tmp_path).encrypt("sk-live-123456789")
    other = SecretBox.open(Fernet.generate_key().decode(), tmp_path)
    with pytest.raises(FailedPrecondition) as caught:
        other.decrypt(token)
    assert "ROUTEUR_SECRETS_KEY" in caught.value.message and "sk-" not in caught.value.message


def test_a_malformed_configured_key_names_the_setting(tmp_path: Path):
    with pytest.raises(SecretBoxError) as caught:
        SecretBox.open("not-a-key", tmp_path)
    assert "ROUTEUR_SECRETS_KEY" in str(caught.value) and "not-a-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("sk-proj-abcdefgh1234", "sk-...1234"), ("short", "****"), ("", "")],
)
def test_keys_are_shown_masked(secret: str, shown: str):
    assert mask(secret) == shown


async def test_a_server_with_a_bad_secrets_key_does_not_start_and_names_it(tmp_path: Path):
    from support import server_settings

    from routeur_grpc.server import StartupError, build_server

    with pytest.raises(StartupError) as caught:
        await build_server(
            server_settings(tmp_path, local_model_enabled=False, secrets_key="too-short")
        )
    assert "ROUTEUR_SECRETS_KEY" in str(caught.value) and "too-short" not in str(caught.value)
