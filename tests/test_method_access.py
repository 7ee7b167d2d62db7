"""Every RPC the server offers has an access rule: a new RPC cannot be forgotten."""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from routeur_grpc.method_access import ADMIN, METHOD_ACCESS, PUBLIC, USER, access_of
from routeur_grpc.server import SERVICES


def _methods(service_descriptor) -> set[str]:
    return {f"/{service_descriptor.full_name}/{m.name}" for m in service_descriptor.methods}


def every_served_method() -> set[str]:
    methods: set[str] = set()
    for service in SERVICES:
        methods |= _methods(service.messages.DESCRIPTOR.services_by_name[service.name])
    methods |= _methods(health_pb2.DESCRIPTOR.services_by_name["Health"])
    methods |= _methods(reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"])
    return methods


def test_every_rpc_of_every_service_has_an_access_rule():
    missing = sorted(every_served_method() - set(METHOD_ACCESS))
    assert not missing, f"add these to routeur_grpc/method_access.py: {missing}"


def test_only_health_reflection_and_issuing_tokens_are_public():
    public = {method for method, access in METHOD_ACCESS.items() if access is PUBLIC}
    assert public == {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.health.v1.Health/List",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/routeur.v1.HealthService/GetHealth",
        "/routeur.v1.AuthService/IssueToken",
    }


def test_managing_users_and_providers_is_for_admins():
    for method in ("ListUsers", "CreateUser", "UpdateUser", "DeleteUser"):
        assert access_of(f"/routeur.v1.UserService/{method}") is ADMIN
    provider_methods = [m for m in METHOD_ACCESS if m.startswith("/routeur.v1.ProviderService/")]
    assert provider_methods and all(access_of(m) is ADMIN for m in provider_methods)


def test_users_manage_their_own_keys_and_read_their_own_usage():
    for method in ("GetUser", "CreateApiKey", "ListApiKeys", "RevokeApiKey", "GetUserUsage",
                   "ListUserRequests"):
        assert access_of(f"/routeur.v1.UserService/{method}") is USER


def test_an_unknown_method_is_closed_by_default():
    assert access_of("/routeur.v1.NewService/Anything") is ADMIN
