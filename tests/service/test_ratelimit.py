"""Rate limits per API key: the token bucket against a naive reference, threads, and over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from rampart.service.http import MAX_BATCH_EVENTS, create_app
from rampart.service.keys import ROLES, KeyStore, Role
from rampart.service.ratelimit import RateLimiter

Client = TestClient[Litestar]
Headers = dict[Role, dict[str, str]]

calls = st.lists(
    st.tuples(st.sampled_from("ab"), st.integers(0, 4), st.integers(1, 12)), max_size=40
)


def naive_tokens(history: list[tuple[int, int, bool]], now: int, rate: int, burst: int) -> Fraction:
    """Tokens in a bucket at ``now``, from its history (time, cost, granted) alone.

    A bucket clipped at ``burst`` at each call holds, at ``now``, the least over every earlier
    call k (and ``now`` itself) of ``burst + rate * (now - t_k)`` minus what was granted from k
    on: the refill since the last time it was full, less what was taken since.
    """
    best = Fraction(burst)
    for k, (t_k, _, _) in enumerate(history):
        taken = sum(cost for _, cost, granted in history[k:] if granted)
        best = min(best, burst + rate * Fraction(now - t_k) - taken)
    return best


@settings(max_examples=300, deadline=None, derandomize=True)
@given(calls=calls, rate=st.integers(1, 5), burst=st.integers(1, 10))
def test_the_bucket_agrees_with_a_naive_reference(
    calls: list[tuple[str, int, int]], rate: int, burst: int
) -> None:
    limiter = RateLimiter(rate, burst)
    histories: dict[str, list[tuple[int, int, bool]]] = {"a": [], "b": []}
    now = 0
    for key, step, cost in calls:
        now += step
        wait = limiter.take(key, cost, now=float(now))
        if cost > burst:
            assert wait == float("inf")
            continue
        tokens = naive_tokens(histories[key], now, rate, burst)
        granted = tokens >= cost
        assert (wait == 0.0) == granted, (key, now, cost, tokens)
        if not granted:
            assert wait == pytest.approx(float((cost - tokens) / rate))
        histories[key].append((now, cost, granted))


def test_threads_never_take_more_than_the_bucket_holds() -> None:
    limiter = RateLimiter(rate=1e-9, burst=1_000)  # no refill within the test
    granted = [0] * 8

    def worker(slot: int) -> None:
        for _ in range(500):
            if limiter.take("k") == 0.0:
                granted[slot] += 1

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 1_000


def test_a_rate_of_zero_is_no_limit_and_bad_settings_are_refused() -> None:
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.take("k", 10**9) == 0.0 for _ in range(100))
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(10, 0)
    with pytest.raises(ValueError, match="0 \\(off\\) or more"):
        RateLimiter(-1)


def login(event_id: str) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "account.login",
        "ts": "2026-03-01T10:00:00Z",
        "user_id": "u1",
        "props": {"success": True},
    }


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[Client, Headers]]:
    from rampart.service.scorer import Scorer

    keys = KeyStore(tmp_path)
    headers = {role: {"X-API-Key": keys.create(role)} for role in ROLES}
    # A thousandth of an event a second: nothing refills while the test runs.
    app = create_app(Scorer.open(tmp_path, demo=True), keys, rate_limit=0.001, rate_burst=3)
    with TestClient(app) as client:
        yield client, headers
    app.state.scorer.close()


def test_over_the_limit_is_a_429_with_retry_after(limited: tuple[Client, Headers]) -> None:
    client, keys = limited
    for n in range(3):
        assert client.post("/v1/events", json=login(f"e{n}"), headers=keys["ingest"]).is_success
    over = client.post("/v1/events", json=login("e3"), headers=keys["ingest"])
    assert over.status_code == 429
    assert over.headers["retry-after"] == "1000"
    assert over.json()["detail"] == (
        "this key is over its rate limit of 0.001 events a second (burst 3); "
        "retry after the Retry-After header's seconds"
    )
    # Nothing was scored: the event is not known.
    assert client.get("/v1/decisions/e3", headers=keys["admin"]).status_code == 404
    # Every key has its own bucket.
    assert client.get("/v1/entities/user/u1", headers=keys["analyst"]).status_code == 200
    # Health, readiness and the OpenAPI document are not limited.
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200


def test_a_batch_pays_for_its_events(limited: tuple[Client, Headers]) -> None:
    client, keys = limited
    batch = [login("b1"), login("b2")]
    first = client.post("/v1/events:batch", json=batch, headers=keys["ingest"])
    assert first.status_code == 200
    assert first.json()["accepted"] == 2
    again = client.post("/v1/events:batch", json=[login("b3"), login("b4")], headers=keys["ingest"])
    assert again.status_code == 429  # one token left, two events
    assert client.post("/v1/events", json=login("b5"), headers=keys["ingest"]).status_code == 200
    too_big = client.post(
        "/v1/events:batch", json=[login(f"c{n}") for n in range(4)], headers=keys["admin"]
    )
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == (
        "4 events in one call are more than this key's rate limit lets through at once (3); "
        "send them in smaller batches"
    )


def test_the_default_limit_lets_a_full_batch_through(tmp_path: Path) -> None:
    from rampart.service.scorer import Scorer

    keys = KeyStore(tmp_path)
    headers = {"X-API-Key": keys.create("ingest")}
    with Scorer.open(tmp_path, demo=True) as scorer:
        app = create_app(scorer, keys, rate_limit=0.01)  # burst: a full batch at least
        assert app.state.rate_limiter.burst == MAX_BATCH_EVENTS
        with TestClient(app) as client:
            batch = [login(f"e{n}") for n in range(MAX_BATCH_EVENTS)]
            answer = client.post("/v1/events:batch", json=batch, headers=headers)
            assert answer.status_code == 200
            assert client.post("/v1/events", json=login("x"), headers=headers).status_code == 429
