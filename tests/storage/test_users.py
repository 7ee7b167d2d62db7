"""Contract: users and their API keys, on every store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import AlreadyExists, InvalidArgument, NotFound


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def test_a_new_user_can_be_read_by_id_and_by_username(store: Store) -> None:
    user = await store.users.create(username="ada", display_name="Ada L.", role="admin")

    assert (user.role, user.disabled) == ("admin", False)
    assert await store.users.get(user.user_id) == user
    assert await store.users.get_by_username("ada") == user


async def test_usernames_are_unique(store: Store) -> None:
    await store.users.create(username="ada")

    with pytest.raises(AlreadyExists, match="ada"):
        await store.users.create(username="ada", display_name="another Ada")


async def test_an_unknown_username_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.users.get_by_username("nobody")


async def test_users_are_listed_newest_first_in_pages(store: Store) -> None:
    users = [await store.users.create(username=f"user{i}") for i in range(5)]

    first = await store.users.list(page_size=2)
    rest = await store.users.list(page_size=10, page_token=first.next_page_token)

    listed = [u.user_id for u in first.items + rest.items]
    assert listed == [u.user_id for u in reversed(users)]
    assert rest.next_page_token == ""


async def test_update_changes_only_the_fields_given(store: Store) -> None:
    user = await store.users.create(username="ada", display_name="Ada")

    disabled = await store.users.update(user.user_id, disabled=True)
    promoted = await store.users.update(user.user_id, role="admin", display_name="Ada L.")

    assert (disabled.disabled, disabled.role, disabled.display_name) == (True, "user", "Ada")
    assert (promoted.disabled, promoted.role, promoted.display_name) == (True, "admin", "Ada L.")
    assert promoted.update_time >= user.update_time
    assert await store.users.get(user.user_id) == promoted


async def test_a_role_is_admin_or_user(store: Store) -> None:
    with pytest.raises(InvalidArgument, match="role"):
        await store.users.create(username="eve", role="root")
    user = await store.users.create(username="ada")
    with pytest.raises(InvalidArgument, match="role"):
        await store.users.update(user.user_id, role="superuser")


async def test_updating_or_deleting_a_missing_user_is_not_found(store: Store) -> None:
    user = await store.users.create(username="ada")
    await store.users.delete(user.user_id)

    with pytest.raises(NotFound):
        await store.users.get(user.user_id)
    with pytest.raises(NotFound):
        await store.users.update(user.user_id, disabled=True)
    with pytest.raises(NotFound):
        await store.users.delete(user.user_id)


async def test_an_api_key_is_found_by_the_hash_of_its_secret(store: Store) -> None:
    user = await store.users.create(username="ada")
    key = await store.api_keys.create(
        user_id=user.user_id, name="laptop", prefix="rk_12345", secret_hash=sha256("rk_12345…")
    )

    assert (key.revoked, key.last_used_time) == (False, None)
    assert await store.api_keys.find_by_secret_hash(sha256("rk_12345…")) == key
    assert await store.api_keys.find_by_secret_hash(sha256("another secret")) is None
    assert await store.api_keys.get(user.user_id, key.key_id) == key


async def test_two_keys_cannot_share_a_secret(store: Store) -> None:
    user = await store.users.create(username="ada")
    await store.api_keys.create(user_id=user.user_id, name="a", prefix="p", secret_hash=sha256("s"))

    with pytest.raises(AlreadyExists):
        await store.api_keys.create(
            user_id=user.user_id, name="b", prefix="p", secret_hash=sha256("s")
        )


async def test_a_key_needs_an_existing_user(store: Store) -> None:
    user = await store.users.create(username="ada")
    await store.users.delete(user.user_id)

    with pytest.raises(NotFound):
        await store.api_keys.create(
            user_id=user.user_id, name="a", prefix="p", secret_hash=sha256("s")
        )


async def test_a_users_keys_are_listed_newest_first_revoked_ones_included(store: Store) -> None:
    ada = await store.users.create(username="ada")
    bob = await store.users.create(username="bob")
    keys = [
        await store.api_keys.create(
            user_id=ada.user_id, name=f"k{i}", prefix="p", secret_hash=sha256(str(i))
        )
        for i in range(3)
    ]
    await store.api_keys.create(user_id=bob.user_id, name="b", prefix="p", secret_hash=sha256("b"))
    await store.api_keys.revoke(ada.user_id, keys[0].key_id)

    first = await store.api_keys.list_for_user(ada.user_id, page_size=2)
    rest = await store.api_keys.list_for_user(ada.user_id, page_token=first.next_page_token)

    listed = first.items + rest.items
    assert [k.key_id for k in listed] == [k.key_id for k in reversed(keys)]
    assert [k.revoked for k in listed] == [False, False, True]


async def test_revoking_a_key_is_idempotent(store: Store) -> None:
    user = await store.users.create(username="ada")
    key = await store.api_keys.create(
        user_id=user.user_id, name="a", prefix="p", secret_hash=sha256("s")
    )

    assert (await store.api_keys.revoke(user.user_id, key.key_id)).revoked
    assert (await store.api_keys.revoke(user.user_id, key.key_id)).revoked
    found = await store.api_keys.find_by_secret_hash(sha256("s"))
    assert found is not None and found.revoked


async def test_touching_a_key_records_its_latest_use(store: Store) -> None:
    user = await store.users.create(username="ada")
    key = await store.api_keys.create(
        user_id=user.user_id, name="a", prefix="p", secret_hash=sha256("s")
    )
    later = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)

    await store.api_keys.touch_last_used(key.key_id, later)
    await store.api_keys.touch_last_used(key.key_id, later - timedelta(hours=1))  # a late one
    await store.api_keys.touch_last_used("0" * 26)  # unknown: ignored

    assert (await store.api_keys.get(user.user_id, key.key_id)).last_used_time == later
    await store.api_keys.touch_last_used(key.key_id)
    touched = await store.api_keys.get(user.user_id, key.key_id)
    assert touched.last_used_time == later  # now is before 2030


async def test_deleting_a_user_deletes_their_keys(store: Store) -> None:
    user = await store.users.create(username="ada")
    await store.api_keys.create(user_id=user.user_id, name="a", prefix="p", secret_hash=sha256("s"))

    await store.users.delete(user.user_id)

    assert await store.api_keys.find_by_secret_hash(sha256("s")) is None


@pytest.mark.parametrize("secret_hash", ["", "A" * 64, "a" * 63, {"$ne": None}, None])
async def test_a_secret_hash_is_64_lowercase_hex_digits(store: Store, secret_hash: object) -> None:
    with pytest.raises(InvalidArgument):
        await store.api_keys.find_by_secret_hash(secret_hash)  # type: ignore[arg-type]


async def test_a_password_hash_is_kept_apart_from_the_user(store: Store) -> None:
    user = await store.users.create(username="ada")
    assert await store.users.password_hash(user.user_id) == ""

    await store.users.set_password_hash(user.user_id, "$argon2id$v=19$m=65536,t=3,p=4$abc$def")

    assert await store.users.password_hash(user.user_id) == "$argon2id$v=19$m=65536,t=3,p=4$abc$def"
    assert "argon2" not in repr(await store.users.get(user.user_id))
    await store.users.set_password_hash(user.user_id, "")
    assert await store.users.password_hash(user.user_id) == ""


async def test_a_password_of_a_missing_user_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.users.password_hash("01jzzzzzzzzzzzzzzzzzzzzzzz")
    with pytest.raises(NotFound):
        await store.users.set_password_hash("01jzzzzzzzzzzzzzzzzzzzzzzz", "x")


async def test_a_key_may_expire(store: Store) -> None:
    user = await store.users.create(username="ada")
    expiry = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    key = await store.api_keys.create(
        user_id=user.user_id, name="ci", prefix="rk_1", secret_hash=sha256("a"), expire_time=expiry
    )
    forever = await store.api_keys.create(
        user_id=user.user_id, name="laptop", prefix="rk_2", secret_hash=sha256("b")
    )

    assert key.expire_time == expiry and forever.expire_time is None
    assert await store.api_keys.find_by_secret_hash(sha256("a")) == key
    assert await store.api_keys.get(user.user_id, forever.key_id) == forever
