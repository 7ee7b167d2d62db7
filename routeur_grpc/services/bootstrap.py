"""The first administrator: created at the first start on an empty store.

Without it nobody could call a server whose every method needs a credential. The key is
`ROUTEUR_BOOTSTRAP_ADMIN_KEY` when set (deployments that provision it), otherwise a new
one, printed once on the terminal and written to `data_dir/admin.key` (mode 0600), where
the bundled CLI finds it. Instances starting together on one store may race: the loser
finds the username taken and leaves the winner's admin alone.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from routeur_grpc.domain.caller import ROLE_ADMIN
from routeur_grpc.domain.repositories import ApiKeyRepository, UserRepository
from routeur_grpc.errors import AlreadyExists
from routeur_grpc.services.api_keys import new_api_key, stored_form

log = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
ADMIN_KEY_FILE = "admin.key"


async def ensure_first_admin(
    users: UserRepository,
    api_keys: ApiKeyRepository,
    *,
    chosen_key: str | None,
    data_dir: Path,
) -> None:
    """Creates the admin and their key when the store has no user yet."""
    if (await users.list(page_size=1)).items:
        return
    try:
        admin = await users.create(
            username=ADMIN_USERNAME, display_name="Administrator", role=ROLE_ADMIN
        )
    except AlreadyExists:
        return  # another instance bootstrapped the same store
    key = stored_form(chosen_key) if chosen_key else new_api_key()
    await api_keys.create(
        user_id=admin.user_id, name="bootstrap", prefix=key.prefix, secret_hash=key.secret_hash
    )
    if chosen_key:
        log.info("first admin created with ROUTEUR_BOOTSTRAP_ADMIN_KEY", extra={"user": "admin"})
        return
    path = write_secret_file(data_dir / ADMIN_KEY_FILE, key.secret)
    log.info("first admin created; API key written", extra={"path": str(path)})
    # Printed on the terminal, never logged: logs travel further than terminals.
    print(
        f"\nRouteur: first start. Admin API key (shown once, also in {path}):\n"
        f"  {key.secret}\n",
        file=sys.stderr,
        flush=True,
    )


def write_secret_file(path: Path, secret: str) -> Path:
    """Writes `secret` to `path`, readable by this user only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file may have had wider rights
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return path
