"""Who is calling, for which request, and until when."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_ADMIN = "admin"
ROLE_USER = "user"


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
    auth_method: str = "none"

    @property
    def user_id(self) -> str:
        return self.owner_id

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles
