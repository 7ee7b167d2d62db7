"""UserService: admins manage users; each user sees their own account, keys and usage, and
nobody else's (NOT_FOUND, so ids cannot be probed)."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from routeur.v1 import completion_service_pb2 as completion_pb
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from routeur.v1 import conversation_service_pb2 as conversation_pb
from routeur.v1 import conversation_service_pb2_grpc as conversation_grpc
from routeur.v1 import user_service_pb2 as pb
from routeur.v1 import user_service_pb2_grpc as pb_grpc
from support import LOCAL_MODEL, UserCredentials, create_user, open_channel


@pytest.fixture
async def alice(routeur) -> UserCredentials:
    return await create_user(routeur.address)


@pytest.fixture
async def bob(routeur) -> UserCredentials:
    return await create_user(routeur.address)


def users(channel: grpc.aio.Channel) -> pb_grpc.UserServiceStub:
    return pb_grpc.UserServiceStub(channel)


async def test_an_admin_creates_lists_gets_and_updates_users(channel):
    stub = users(channel)
    created = (await stub.CreateUser(pb.CreateUserRequest(
        user=pb.User(username="carol-admin-test", display_name="Carol", role="user")
    ))).user
    assert created.user_id and created.role == "user" and not created.disabled
    listed = (await stub.ListUsers(pb.ListUsersRequest(page_size=1000))).users
    assert created.user_id in {u.user_id for u in listed}
    assert (await stub.GetUser(pb.GetUserRequest(user_id=created.user_id))).user == created
    promoted = (await stub.UpdateUser(pb.UpdateUserRequest(
        user=pb.User(user_id=created.user_id, role="admin"), update_mask={"paths": ["role"]}
    ))).user
    assert promoted.role == "admin" and promoted.display_name == "Carol"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateUser(pb.CreateUserRequest(user=pb.User(username="carol-admin-test")))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_a_bad_role_or_mask_is_invalid_argument(channel, alice):
    stub = users(channel)
    for request in (
        pb.UpdateUserRequest(user=pb.User(user_id=alice.user_id, role="root"),
                             update_mask={"paths": ["role"]}),
        pb.UpdateUserRequest(user=pb.User(user_id=alice.user_id), update_mask={"paths": ["username"]}),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.UpdateUser(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_key_is_shown_once_and_stored_as_a_hash(routeur, alice):
    async with open_channel(routeur.address, alice.api_key) as channel:
        created = await users(channel).CreateApiKey(
            pb.CreateApiKeyRequest(user_id="me", name="laptop", expires_in=3600)
        )
        listed = (await users(channel).ListApiKeys(pb.ListApiKeysRequest(user_id="me"))).api_keys
    assert created.secret.startswith(created.api_key.prefix + "_")
    assert created.api_key.expires_at.seconds > 0
    assert {k.key_id for k in listed} == {alice.key_id, created.api_key.key_id}
    assert all(created.secret not in str(k) for k in listed)
    stored = await routeur.server.app.store.api_keys.get(alice.user_id, created.api_key.key_id)
    assert created.secret not in repr(stored)


async def test_an_expired_key_stops_working(routeur, alice):
    from datetime import UTC, datetime, timedelta

    from routeur_grpc.services.api_keys import new_api_key

    made = new_api_key()
    await routeur.server.app.store.api_keys.create(
        user_id=alice.user_id, name="old", prefix=made.prefix, secret_hash=made.secret_hash,
        expire_time=datetime.now(UTC) - timedelta(seconds=1),
    )
    async with open_channel(routeur.address, made.secret) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users(channel).GetUser(pb.GetUserRequest(user_id="me"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in caught.value.details()


@pytest.mark.parametrize("method, request_", [
    ("ListUsers", pb.ListUsersRequest()),
    ("CreateUser", pb.CreateUserRequest(user=pb.User(username="mallory"))),
    ("UpdateUser", pb.UpdateUserRequest(user=pb.User(user_id="x", role="admin"))),
    ("DeleteUser", pb.DeleteUserRequest(user_id="x")),
])
async def test_a_user_calling_an_admin_rpc_is_permission_denied(routeur, alice, method, request_):
    async with open_channel(routeur.address, alice.api_key) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await getattr(users(channel), method)(request_)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_user_cannot_make_themself_admin(routeur, alice):
    async with open_channel(routeur.address, alice.api_key) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users(channel).UpdateUser(pb.UpdateUserRequest(
                user=pb.User(user_id=alice.user_id, role="admin"), update_mask={"paths": ["role"]}
            ))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_another_users_account_keys_and_usage_are_not_found(routeur, alice, bob):
    async with open_channel(routeur.address, bob.api_key) as channel:
        stub = users(channel)
        calls = [
            stub.GetUser(pb.GetUserRequest(user_id=alice.user_id)),
            stub.ListApiKeys(pb.ListApiKeysRequest(user_id=alice.user_id)),
            stub.CreateApiKey(pb.CreateApiKeyRequest(user_id=alice.user_id, name="x")),
            stub.RevokeApiKey(pb.RevokeApiKeyRequest(user_id=alice.user_id, key_id=alice.key_id)),
            stub.RevokeApiKey(pb.RevokeApiKeyRequest(user_id="me", key_id=alice.key_id)),
            stub.GetUserUsage(pb.GetUserUsageRequest(user_id=alice.user_id)),
            stub.ListUserRequests(pb.ListUserRequestsRequest(user_id=alice.user_id)),
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        # The same words as for a user that does not exist.
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetUser(pb.GetUserRequest(user_id="01jzzzzzzzzzzzzzzzzzzzzzzz"))
    assert missing.value.details() == "user 01jzzzzzzzzzzzzzzzzzzzzzzz not found."


async def test_another_users_conversations_are_not_found(routeur, alice, bob):
    async with open_channel(routeur.address, alice.api_key) as channel:
        mine = (await conversation_grpc.ConversationServiceStub(channel).CreateConversation(
            conversation_pb.CreateConversationRequest(title="Alice's")
        )).conversation
    async with open_channel(routeur.address, bob.api_key) as channel:
        stub = conversation_grpc.ConversationServiceStub(channel)
        listed = await stub.ListConversations(conversation_pb.ListConversationsRequest())
        assert mine.conversation_id not in {c.conversation_id for c in listed.conversations}
        for call in (
            stub.GetConversation(conversation_pb.GetConversationRequest(
                conversation_id=mine.conversation_id)),
            stub.DeleteConversation(conversation_pb.DeleteConversationRequest(
                conversation_id=mine.conversation_id)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await completion_grpc.CompletionServiceStub(channel).Complete(
                completion_pb.CompleteRequest(
                    message="hi", model=LOCAL_MODEL, conversation_id=mine.conversation_id
                )
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_usage_per_day_and_recent_requests_without_contents(routeur, alice):
    async with open_channel(routeur.address, alice.api_key) as channel:
        answer = await completion_grpc.CompletionServiceStub(channel).Complete(
            completion_pb.CompleteRequest(message="secret words", model=LOCAL_MODEL, max_tokens=4),
            timeout=120,
        )
        stub = users(channel)
        for _ in range(100):  # usage is written in the background, just after the answer
            report = await stub.GetUserUsage(pb.GetUserUsageRequest(user_id="me"))
            if report.total.requests and report.days:  # two reads: wait for both to see it
                break
            await asyncio.sleep(0.05)
        recent = (await stub.ListUserRequests(pb.ListUserRequestsRequest(user_id="me"))).requests
    assert report.total.requests == 1
    assert report.total.completion_tokens == answer.usage.completion_tokens
    assert len(report.days) == 1 and report.days[0].date and report.days[0].requests == 1
    assert report.total.currency == "EUR"
    assert len(recent) == 1 and recent[0].model == LOCAL_MODEL
    assert recent[0].completion_tokens == answer.usage.completion_tokens
    assert "secret words" not in str(recent[0])
    # The admin sees Alice's usage too.
    async with open_channel(routeur.address) as channel:
        seen = await users(channel).GetUserUsage(pb.GetUserUsageRequest(user_id=alice.user_id))
    assert seen.total.requests == 1


async def test_a_deleted_user_cannot_call_any_more(routeur, channel, alice):
    await users(channel).DeleteUser(pb.DeleteUserRequest(user_id=alice.user_id))
    async with open_channel(routeur.address, alice.api_key) as alice_channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users(alice_channel).GetUser(pb.GetUserRequest(user_id="me"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_admin_cannot_lock_themself_out(routeur, channel):
    from support import user_id_of

    me = await user_id_of(routeur.address)
    for change, mask in ((pb.User(user_id=me, disabled=True), "disabled"),
                         (pb.User(user_id=me, role="user"), "role")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users(channel).UpdateUser(
                pb.UpdateUserRequest(user=change, update_mask={"paths": [mask]})
            )
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
