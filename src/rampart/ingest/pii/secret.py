"""Where the pseudonymisation key comes from.

The key turns PII into stable pseudonyms (see :mod:`rampart.ingest.pii.pseudonym`). Whoever holds
it can confirm a guess ("is this token alice@example.com?"), so it is an operator secret: read from
the environment or a file, never from the repository, never logged. Only the demo may run on the
built-in key, and that key says so in its own bytes.

Lookup order (first hit wins):

1. ``RAMPART_PSEUDONYM_SECRET`` — the secret itself;
2. ``RAMPART_PSEUDONYM_SECRET_FILE`` — a file holding it;
3. ``config_path`` — a file holding it;
4. demo mode only: :data:`DEMO_SECRET`.

A file is TOML if its name ends in ``.toml`` (key ``pseudonym_secret``, top level or under
``[privacy]``), otherwise its whole content is the secret. Surrounding whitespace is stripped
everywhere, so a trailing newline from ``echo`` or ``$(cat ...)`` cannot silently give a
different key, and therefore different pseudonyms, on another host.

>>> load_secret(env={"RAMPART_PSEUDONYM_SECRET": "correct horse battery staple"})
b'correct horse battery staple'
>>> load_secret(demo=True, env={}) == DEMO_SECRET
True
>>> load_secret(env={})
Traceback (most recent call last):
...
rampart.ingest.pii.secret.MissingSecretError: no pseudonymisation secret: ...
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

ENV_SECRET: Final = "RAMPART_PSEUDONYM_SECRET"
ENV_SECRET_FILE: Final = "RAMPART_PSEUDONYM_SECRET_FILE"
TOML_KEY: Final = "pseudonym_secret"
MIN_SECRET_BYTES: Final = 16
# Public on purpose: anyone can recompute demo pseudonyms, which is fine for simulated data only.
DEMO_SECRET: Final = b"rampart-DEMO-ONLY-pseudonym-secret-do-not-use-in-production"

_HOW_TO_SET: Final = (
    f"set {ENV_SECRET} to a random string of at least {MIN_SECRET_BYTES} bytes "
    f'(e.g. export {ENV_SECRET}="$(openssl rand -base64 32)"), '
    f"or point {ENV_SECRET_FILE} at a file containing it, "
    f'or put `{TOML_KEY} = "..."` in the TOML config file; '
    "keep it stable: changing it changes every pseudonym"
)


class SecretError(RuntimeError):
    """The pseudonymisation secret cannot be used. Messages never contain the secret."""


class MissingSecretError(SecretError):
    """No secret is configured and demo mode is off."""


class WeakSecretError(SecretError, ValueError):
    """The configured secret is shorter than :data:`MIN_SECRET_BYTES`."""


def load_secret(
    *,
    demo: bool = False,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> bytes:
    """Return the operator's pseudonymisation secret (see the module docs for the lookup order).

    ``env`` defaults to ``os.environ``; tests pass a dict. Raises :class:`MissingSecretError` when
    nothing is configured outside demo mode, and :class:`WeakSecretError` for a short secret.

    >>> load_secret(env={"RAMPART_PSEUDONYM_SECRET": "short"})
    Traceback (most recent call last):
    ...
    rampart.ingest.pii.secret.WeakSecretError: RAMPART_PSEUDONYM_SECRET is 5 bytes; ...
    """
    environ = os.environ if env is None else env
    # An empty variable counts as unset: container templates often export optional vars empty.
    if value := environ.get(ENV_SECRET, "").strip():
        return _checked(value.encode(), ENV_SECRET)
    if file_name := environ.get(ENV_SECRET_FILE, "").strip():
        path = Path(file_name)
        return _checked(_read_secret_file(path, ENV_SECRET_FILE), f"{ENV_SECRET_FILE} ({path})")
    if config_path is not None:
        return _checked(_read_secret_file(config_path, "config"), f"config file {config_path}")
    if demo:
        return DEMO_SECRET
    raise MissingSecretError(f"no pseudonymisation secret: {_HOW_TO_SET}")


def _read_secret_file(path: Path, source: str) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        # strerror only: the exception text of some OSErrors could echo more than we want.
        raise MissingSecretError(
            f"cannot read the pseudonymisation secret from {source} file {path}: "
            f"{exc.strerror or type(exc).__name__}; {_HOW_TO_SET}"
        ) from None
    if path.suffix.lower() != ".toml":
        return raw.strip()
    try:
        doc = tomllib.loads(raw.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        # `from None` and no detail: a TOML error message quotes the offending line.
        raise MissingSecretError(f"{path} is not valid UTF-8 TOML; {_HOW_TO_SET}") from None
    value = doc.get(TOML_KEY)
    if value is None and isinstance(privacy := doc.get("privacy"), dict):
        value = privacy.get(TOML_KEY)
    if not isinstance(value, str) or not value.strip():
        raise MissingSecretError(
            f"{path} has no string `{TOML_KEY}` (top level or under [privacy]); {_HOW_TO_SET}"
        )
    return value.strip().encode()


def _checked(secret: bytes, source: str) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise WeakSecretError(
            f"{source} is {len(secret)} bytes; the pseudonymisation secret needs at least "
            f"{MIN_SECRET_BYTES}: {_HOW_TO_SET}"
        )
    return secret
