"""A served scorer's whole state as one sealed blob: what a snapshot keeps.

A snapshot holds the intake (watermark, remembered ids, counts), the engine (its memory of
decisions, flagged entities, detector stages), the online features, the answers kept for
re-sent ids and the changes made to the rules and lists: everything the next event's decision
depends on. Restoring it into a fresh scorer
built from the same rule pack and secret, then applying the log records after it, gives the
state of a scorer that never stopped.

It is sealed with AES-GCM under a key derived from the pseudonymisation secret: the state holds
pseudonyms, not raw PII, but the answers name entities as callers sent them.

>>> sealed = seal(bytes(32), b"state")
>>> unseal(bytes(32), sealed)
b'state'
>>> try:
...     unseal(bytes([1] * 32), sealed)
... except SnapshotKeyError as error:
...     print(error)
the snapshot was sealed with another key (another pseudonymisation secret)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rampart.durable import replace_file
from rampart.engine import EngineState
from rampart.service.checkpoint import IntakeCheckpoint

STATE_VERSION: Final = 1
SNAPSHOT_FILE: Final = "snapshot.sealed"
_NONCE_BYTES: Final = 12
_PURPOSE: Final = b"rampart-snapshot"


class SnapshotKeyError(ValueError):
    """The snapshot does not open with this key."""


class ScorerState(msgspec.Struct, kw_only=True):
    """Everything a scorer holds between two records of its log."""

    version: int = STATE_VERSION
    intake: IntakeCheckpoint
    engine: EngineState
    features: bytes
    answers: list[tuple[str, bytes]]
    # The changes applied to the engine (rules, lists), in order: they are re-applied to the
    # engine built from the pack before the state goes back in.
    changes: list[bytes] = []
    # What the scorer's observers hold (the entity index), in their order.
    observers: list[bytes] = []


class SnapshotPoint(msgspec.Struct, array_like=True):
    """A sealed state and where in the log it stands (a segment number or a stream id)."""

    position: str
    sealed: bytes


def seal(key: bytes, data: bytes, *, purpose: bytes = _PURPOSE) -> bytes:
    """``data`` encrypted and authenticated (AES-GCM, a random nonce) for ``purpose``."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, purpose)


def unseal(key: bytes, sealed: bytes, *, purpose: bytes = _PURPOSE) -> bytes:
    """What :func:`seal` sealed, or :class:`SnapshotKeyError` if another key sealed it."""
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], purpose)
    except InvalidTag:
        what = purpose.decode().removeprefix("rampart-")
        raise SnapshotKeyError(
            f"the {what} was sealed with another key (another pseudonymisation secret)"
        ) from None


def encode_scorer_state(state: ScorerState) -> bytes:
    return msgspec.msgpack.encode(state)


def decode_scorer_state(data: bytes) -> ScorerState:
    state = msgspec.msgpack.decode(data, type=ScorerState)
    if state.version != STATE_VERSION:
        raise ValueError(f"snapshot version {state.version}; this build reads {STATE_VERSION}")
    return state


class SnapshotFile:
    """The latest snapshot of an embedded scorer, replaced atomically (owner-only file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / SNAPSHOT_FILE

    def load(self) -> SnapshotPoint | None:
        if not self.path.exists():
            return None
        return msgspec.msgpack.decode(self.path.read_bytes(), type=SnapshotPoint)

    def save(self, point: SnapshotPoint) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        replace_file(self.path, msgspec.msgpack.encode(point), private=True)
