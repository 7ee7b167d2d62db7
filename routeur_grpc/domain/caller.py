"""Who is calling, for which request, and until when."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_ADMIN = "admin"
ROLE_USER = "user"

# How a caller proved who they are.
AUTH_API_KEY = "api_key"
AUTH_JWT = "jwt"
AUTH_PASSWORD = "password"  # only to obtain a token
AUTH_NONE = "none"  # authentication disabled, or a public method

ANONYMOUS_OWNER = "anonymous"


@dataclass(frozen=True, slots=True)
class Identity:
    """What authentication established about a caller, before any request detail."""

    user_id: str
    roles: frozenset[str] = frozenset()
    api_key_id: str = ""
    auth_method: str = AUTH_NONE


ANONYMOUS = Identity(ANONYMOUS_OWNER)
# With authentication disabled (development only) every caller is one all-powerful owner.
UNAUTHENTICATED_OPERATOR = Identity(
    ANONYMOUS_OWNER, frozenset({ROLE_ADMIN, ROLE_USER}), auth_method=AUTH_NONE
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The context a domain call runs in, passed down explicitly by the servicer.

    `owner_id` is the user every record read or written belongs to; `roles`,
    `api_key_id` and `auth_method` say how that user was authenticated ("api_key",
    "jwt", or "none" when authentication is disabled).
    """

    owner_id: str
    request_id: str
    deadline: float | None = None  # on the time.monotonic() clock; None for no deadline
    roles: frozenset[str] = frozenset()
    api_key_id: str = ""
    auth_method: str = AUTH_NONE

    @property
    def user_id(self) -> str:
        return self.owner_id

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles
