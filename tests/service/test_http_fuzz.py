"""Hypothesis fuzz of `POST /v1/events`: random JSON and random bytes never give a 500, and
every rejection names a path and a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from rampart.service.http import create_app
from rampart.service.keys import KeyStore
from rampart.service.scorer import Scorer

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
# Near-events: the contract's fields with random values, so validation gets past the top level.
near_events = st.fixed_dictionaries(
    {
        "event_id": st.text(max_size=8) | json_values,
        "type": st.sampled_from(["account.login", "cart.add", "order.created", "x"]) | json_values,
        "ts": st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01", ""]) | json_values,
    },
    optional={
        "user_id": st.text(max_size=4) | json_values,
        "ip": st.sampled_from(["203.0.113.1", "::1", "nope"]) | json_values,
        "props": json_values,
        "device": json_values,
    },
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Litestar], str]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    keys = KeyStore(data_dir)
    key = keys.create("ingest")
    with Scorer.open(data_dir, demo=True) as scorer, TestClient(create_app(scorer, keys)) as test:
        yield test, key


def _check(client: tuple[TestClient[Litestar], str], body: bytes) -> None:
    test, key = client
    reply = test.post("/v1/events", content=body, headers={"X-API-Key": key})
    assert reply.status_code in {200, 409, 413, 422}, (reply.status_code, reply.text)
    if reply.status_code in {409, 422}:
        error = reply.json()["error"]
        assert isinstance(error["path"], str)
        assert isinstance(error["reason"], str)
        assert error["reason"]
        assert error["line"] == 1


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=json_values | near_events)
def test_random_json_never_fails_the_server(
    client: tuple[TestClient[Litestar], str], document: object
) -> None:
    _check(client, json.dumps(document).encode())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=200))
def test_random_bytes_never_fail_the_server(
    client: tuple[TestClient[Litestar], str], body: bytes
) -> None:
    _check(client, body)
