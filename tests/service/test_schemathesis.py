"""Schemathesis against the app's own OpenAPI document, in process, with a real scorer.

Every operation gets requests generated from the document (events from the contract's schema,
valid and broken), sent with an admin key: none may answer a server error, every answer must
match what the document says of it, and every rejection must say why. Deterministic
(derandomized) and bounded: a few hundred requests, some seconds on two cores.

The app is built when the module is imported: Schemathesis makes one test per operation from
the document at collection time (its lazy loader from a fixture does not run under this pytest).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from rampart.service.http import create_app
from rampart.service.keys import KeyStore
from rampart.service.scorer import Scorer

EXAMPLES = 60  # per operation

_FOLDER = Path(tempfile.mkdtemp(prefix="rampart-schemathesis-"))
_KEYS = KeyStore(_FOLDER)
_KEY = _KEYS.create("admin")
_SCORER = Scorer.open(_FOLDER, demo=True)
_APP = create_app(_SCORER, _KEYS)

loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", _APP)
loaded.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
)
# The coverage phase walks every boundary of the contract's 14 event types: ~3,400 requests per
# body endpoint, over a minute in all. The fuzzing phase's examples stay within the time asked.
loaded.config.phases.coverage.enabled = False
# The admin endpoints (rampart.service.admin) need their records store: tested with it there.
schema = loaded.exclude(path_regex="^/v1/admin")


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    _SCORER.close()
    shutil.rmtree(_FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_answers_match_the_document(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_KEY}"},
        checks=[not_a_server_error, response_schema_conformance, precise_rejection],
    )


def precise_rejection(ctx: Any, response: Response, case: schemathesis.Case[Any]) -> None:
    """Every 4xx says why: a ``detail``, or an ``error`` with a field path and a reason."""
    if not 400 <= response.status_code < 500 or case.method.upper() == "HEAD":
        return
    body = json.loads(response.content)
    error = body.get("error")
    if isinstance(error, dict):
        assert isinstance(error.get("path"), str), body
        assert isinstance(error.get("line"), int), body
        assert error.get("reason"), body
    else:
        assert isinstance(body.get("detail"), str), body
        assert body["detail"], body
