"""Who may call each RPC: one table, keyed by full method name, beside the service registry.

- `PUBLIC`: no credential needed (health checks, reflection, exchanging a credential for a
  token).
- `USER`: any authenticated, enabled user. The services scope every record to the caller:
  another user's record answers NOT_FOUND, never PERMISSION_DENIED, so ids cannot be probed.
- `ADMIN`: users with the `admin` role; others get PERMISSION_DENIED.

A method missing from the table is treated as `ADMIN` (closed by default), and
tests/test_method_access.py fails until it is added, so a new RPC cannot be forgotten.

Self-service in UserService: a user may read their own account, manage their own API keys
and read their own usage (the `user_id` of those requests must be theirs, or `me`);
listing, creating, changing and deleting users is for admins. ProviderService is for
admins entirely, reads included: provider settings reveal endpoints and key masks.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class Access(enum.Enum):
    """Who may call a method."""

    PUBLIC = "public"
    USER = "user"
    ADMIN = "admin"


PUBLIC, USER, ADMIN = Access.PUBLIC, Access.USER, Access.ADMIN


def _service(full_name: str, methods: Mapping[str, Access]) -> dict[str, Access]:
    return {f"/{full_name}/{method}": access for method, access in methods.items()}


METHOD_ACCESS: Mapping[str, Access] = MappingProxyType(
    {
        # Infrastructure: load balancers and tools call these without credentials.
        **_service("grpc.health.v1.Health", {"Check": PUBLIC, "Watch": PUBLIC, "List": PUBLIC}),
        **_service("grpc.reflection.v1alpha.ServerReflection", {"ServerReflectionInfo": PUBLIC}),
        **_service("grpc.reflection.v1.ServerReflection", {"ServerReflectionInfo": PUBLIC}),
        **_service("routeur.v1.HealthService", {"GetHealth": PUBLIC}),
        # IssueToken checks the credential it is given; VerifyToken needs one to be called.
        **_service("routeur.v1.AuthService", {"IssueToken": PUBLIC, "VerifyToken": USER}),
        **_service("routeur.v1.CompletionService", {"Complete": USER, "StreamCompletion": USER}),
        **_service("routeur.v1.ModelService", {"ListModels": USER, "GetModel": USER}),
        **_service(
            "routeur.v1.OpenAICompatService",
            {
                "CreateChatCompletion": USER,
                "StreamChatCompletion": USER,
                "ListOpenAIModels": USER,
                "CreateAudioTranscription": USER,
            },
        ),
        **_service(
            "routeur.v1.ConversationService",
            {
                "CreateConversation": USER,
                "GetConversation": USER,
                "ListConversations": USER,
                "ListMessages": USER,
                "AppendMessage": USER,
                "SearchConversations": USER,
                "DeleteConversation": USER,
            },
        ),
        **_service(
            "routeur.v1.TranscriptionService",
            {
                "TranscribeAudio": USER,
                "TranscribeMeeting": USER,
                "CreateTranscriptionJob": USER,
                "GetTranscriptionJob": USER,
                "WatchTranscriptionJob": USER,
                "ListTranscriptionJobs": USER,
                "CancelTranscriptionJob": USER,
                "GetSupportedFormats": USER,
            },
        ),
        **_service("routeur.v1.AgentService", {"ListAgents": USER, "GetAgent": USER}),
        **_service(
            "routeur.v1.DocumentService",
            {
                "CreateDocument": USER,
                "GetDocument": USER,
                "ListDocuments": USER,
                "DeleteDocument": USER,
            },
        ),
        **_service(
            "routeur.v1.AnalysisService",
            {
                "AnalyzeText": USER,
                "GetAnalysis": USER,
                "ListAnalyses": USER,
                "DeleteAnalysis": USER,
            },
        ),
        **_service("routeur.v1.RealtimeService", {"RunSession": USER}),
        **_service(
            "routeur.v1.ProviderService",
            {
                "ListProviders": ADMIN,
                "CreateProvider": ADMIN,
                "GetProvider": ADMIN,
                "UpdateProvider": ADMIN,
                "DeleteProvider": ADMIN,
                "ToggleProvider": ADMIN,
                "TestProvider": ADMIN,
                "InitializeDefaultProviders": ADMIN,
                "SyncProviderModels": ADMIN,
                "ListOllamaModels": ADMIN,
                "PullOllamaModel": ADMIN,
                "DeleteOllamaModel": ADMIN,
            },
        ),
        # A user's own limits and budget are the administrators' call.
        **_service(
            "routeur.v1.QuotaService", {"GetUserLimits": ADMIN, "UpdateUserLimits": ADMIN}
        ),
        **_service(
            "routeur.v1.UserService",
            {
                "ListUsers": ADMIN,
                "GetUser": USER,  # self-service: one's own account
                "CreateUser": ADMIN,
                "UpdateUser": ADMIN,  # roles and the disabled flag are an admin's call
                "DeleteUser": ADMIN,
                "CreateApiKey": USER,  # self-service: one's own keys
                "ListApiKeys": USER,
                "RevokeApiKey": USER,
                "GetUserUsage": USER,  # self-service: one's own usage
                "ListUserRequests": USER,
            },
        ),
    }
)


def access_of(method: str) -> Access:
    """The access rule of a full method name (`/package.Service/Method`); ADMIN if unknown."""
    return METHOD_ACCESS.get(method, ADMIN)
