"""API keys, tokens, signing keys and passwords, without the transport."""

from __future__ import annotations

import stat

import pytest

from routeur_grpc.errors import InvalidArgument, Unauthenticated
from routeur_grpc.services.api_keys import (
    hash_secret,
    key_prefix,
    looks_like_jwt,
    new_api_key,
    stored_form,
)
from routeur_grpc.services.passwords import hash_password, verify_password
from routeur_grpc.services.token_keys import TokenKeyError, load_token_keys
from routeur_grpc.services.tokens import TokenCodec, TokenKeys

SECRET = "a-test-secret-of-more-than-thirty-two-bytes"


def codec(**options: object) -> TokenCodec:
    values: dict[str, object] = {
        "issuer": "routeur", "audience": "routeur", "default_ttl_s": 3600, "max_ttl_s": 7200,
    }
    values.update(options)
    return TokenCodec(TokenKeys("HS256", SECRET, SECRET), **values)  # type: ignore[arg-type]


def test_a_new_key_reads_rk_handle_secret_and_is_kept_as_its_hash():
    key = new_api_key()
    assert key.secret.startswith("rk_") and key.secret.count("_") >= 2
    assert key.prefix == key.secret[: len(key.prefix)] and len(key.prefix) == 11
    assert key.secret_hash == hash_secret(key.secret) and key.secret not in key.secret_hash
    assert len(key.secret) >= 50 and new_api_key().secret != key.secret


def test_an_operator_chosen_key_shows_only_its_first_characters():
    assert stored_form("x" * 40).prefix == "xxxxxx"
    assert key_prefix("rk_abcd1234_secret") == "rk_abcd1234"


def test_tokens_and_keys_are_told_apart_by_their_dots():
    assert looks_like_jwt("a.b.c") and not looks_like_jwt(new_api_key().secret)


def test_a_token_round_trips_with_its_claims():
    issued = codec().issue("user-1", ("admin", "user"), api_key_id="key-1", ttl_s=60)
    claims = codec().decode(issued.token)
    assert (claims.sub, claims.roles, claims.api_key_id) == ("user-1", ("admin", "user"), "key-1")
    assert claims.exp - claims.iat == 60 == issued.expires_in and claims.jti


def test_a_lifetime_is_capped():
    assert codec().issue("u", ("user",), ttl_s=10**6).expires_in == 7200
    assert codec().issue("u", ("user",)).expires_in == 3600


def test_an_expired_token_is_refused_after_the_clock_skew():
    import time

    import jwt

    now = int(time.time())
    claims = {"sub": "u", "iss": "routeur", "aud": "routeur", "iat": now - 200}
    within_skew = jwt.encode({**claims, "exp": now - 10}, SECRET, "HS256")
    assert codec().decode(within_skew).sub == "u"
    with pytest.raises(Unauthenticated) as caught:
        codec().decode(jwt.encode({**claims, "exp": now - 100}, SECRET, "HS256"))
    assert caught.value.reason == "TOKEN_EXPIRED"


def test_another_issuer_or_audience_is_refused():
    token = codec(issuer="someone-else").issue("u", ("user",)).token
    with pytest.raises(Unauthenticated):
        codec().decode(token)


def test_a_development_secret_is_generated_once_readable_by_its_owner_only(tmp_path):
    first = load_token_keys(algorithm="HS256", secret=None, private_key_file=None,
                            public_key_file=None, data_dir=tmp_path, production=False)
    again = load_token_keys(algorithm="HS256", secret=None, private_key_file=None,
                            public_key_file=None, data_dir=tmp_path, production=False)
    assert first.signing_key == again.signing_key and len(first.signing_key) >= 32
    assert stat.S_IMODE((tmp_path / "jwt.secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("secret", [None, "short", "changeme" + " " * 30, "your-256-bit-secret"])
def test_production_refuses_weak_secrets_naming_the_setting(tmp_path, secret):
    with pytest.raises(TokenKeyError) as caught:
        load_token_keys(algorithm="HS256", secret=secret, private_key_file=None,
                        public_key_file=None, data_dir=tmp_path, production=True)
    assert "ROUTEUR_JWT_SECRET" in str(caught.value)


def test_a_key_of_the_wrong_kind_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = tmp_path / "key.pem"
    pem.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    with pytest.raises(TokenKeyError) as caught:
        load_token_keys(algorithm="RS256", secret=None, private_key_file=pem,
                        public_key_file=None, data_dir=tmp_path, production=True)
    assert "RSA" in str(caught.value)
    (tmp_path / "garbage.pem").write_text("not a key")
    with pytest.raises(TokenKeyError):
        load_token_keys(algorithm="EdDSA", secret=None, private_key_file=tmp_path / "garbage.pem",
                        public_key_file=None, data_dir=tmp_path, production=True)


async def test_passwords_are_hashed_with_argon2id_and_verified():
    stored = await hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert await verify_password(stored, "correct horse battery")
    assert not await verify_password(stored, "wrong horse battery")
    assert not await verify_password("", "anything at all")
    with pytest.raises(InvalidArgument):
        await hash_password("short")
