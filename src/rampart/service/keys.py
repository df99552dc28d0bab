"""API keys with roles, stored hashed under the data folder.

A key is ``rk_<id>_<secret>``: the id names it (for listing and revoking), the secret is 32
random bytes. Only the key's SHA-256 is kept, one JSON line per key in ``keys.jsonl``
(owner-only); a presented key is hashed and compared in constant time.

>>> import tempfile
>>> store = KeyStore(Path(tempfile.mkdtemp()))
>>> key = store.create("ingest")
>>> store.role_of(key), store.role_of(key + "x"), store.role_of("nonsense")
('ingest', None, None)
>>> key in store.path.read_text()
False
>>> allowed("analyst", ENDPOINT_ROLES["decisions"]), allowed("admin", ENDPOINT_ROLES["events"])
(True, True)
>>> allowed("ingest", ENDPOINT_ROLES["decisions"])
False
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, get_args

import msgspec

from rampart.durable import fsync_folder, sync_file

Role = Literal["ingest", "analyst", "investigator", "admin"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
KEYS_FILE: Final = "keys.jsonl"
_PREFIX: Final = "rk_"

# Who may call what; ``admin`` may call everything.
ENDPOINT_ROLES: Final[dict[str, frozenset[Role]]] = {
    "events": frozenset({"ingest"}),
    "labels": frozenset({"ingest"}),
    "decisions": frozenset({"analyst", "investigator"}),
    "entities": frozenset({"analyst", "investigator"}),
    "noop": frozenset({"ingest"}),
    "metrics": frozenset(),
    # Admin (rampart.service.admin): analysts read rules, history and models; investigators
    # read and edit lists (part of working a case); only admin changes rules and models.
    "admin.read": frozenset({"analyst"}),
    "admin.write": frozenset(),
    "admin.lists.read": frozenset({"analyst", "investigator"}),
    "admin.lists.write": frozenset({"investigator"}),
}


class StoredKey(msgspec.Struct, kw_only=True):
    key_id: str
    role: Role
    sha256: str
    created: str


def allowed(role: Role, roles: frozenset[Role]) -> bool:
    return role == "admin" or role in roles


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """The keys of one data folder; re-read when the file changes (keys made while serving)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / KEYS_FILE
        self._keys: dict[str, StoredKey] = {}
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def create(self, role: Role) -> str:
        """A new key for ``role``: returned once, only its hash is written."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        key_id = secrets.token_hex(4)
        key = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        stored = StoredKey(
            key_id=key_id,
            role=role,
            sha256=_digest(key),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "ab") as handle:
            handle.write(msgspec.json.encode(stored) + b"\n")
            sync_file(handle)
        if new:
            fsync_folder(self.path.parent)
        return key

    def role_of(self, key: str) -> Role | None:
        """The role of a presented key, or None when it is not one of ours."""
        parts = key.split("_")
        if len(parts) < 3 or not key.startswith(_PREFIX):
            return None
        stored = self._current().get(parts[1])
        if stored is None or not hmac.compare_digest(_digest(key), stored.sha256):
            return None
        return stored.role

    def _current(self) -> dict[str, StoredKey]:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return {}
        seen = (status.st_mtime_ns, status.st_size)
        with self._lock:
            if seen != self._seen:
                decode = msgspec.json.Decoder(StoredKey).decode
                lines = self.path.read_bytes().splitlines()
                self._keys = {key.key_id: key for key in map(decode, filter(None, lines))}
                self._seen = seen
            return self._keys
