"""The HTTP API: thin Litestar handlers over a :class:`~rampart.service.scorer.Scorer`.

| endpoint | role | answer |
|---|---|---|
| ``POST /v1/events`` | ingest | one event → its decision (with ``verdicts`` found by it) |
| ``POST /v1/events:batch`` | ingest | a JSON array of ``MAX_BATCH_EVENTS`` events at most |
| ``POST /v1/events:noop`` | ingest | the body read and checked as one event's, not scored |
| ``POST /v1/labels`` | ingest | one contract label, applied and logged |
| ``GET /v1/decisions/{event_id}`` | analyst, investigator | the decision given to an event |
| ``GET /v1/entities/{type}/{id}`` | analyst, investigator | what is known of an entity |
| ``GET /metrics`` | admin | Prometheus metrics |
| ``GET /healthz``, ``GET /readyz``, ``/schema`` | none | liveness, readiness, OpenAPI |

``admin`` may call every endpoint. A key goes in ``Authorization: Bearer <key>`` or
``X-API-Key``; no key or an unknown one is 401, a key without the role 403.

A rejected event is a 422 whose ``error`` names the line, the event id, the field path (``""``
for the whole body) and the reason; a body over its size limit is a 413, one nested deeper than
``MAX_DEPTH`` a 422. Errors repeat nothing the caller did not send, and nothing of a request is
logged but its route, status and time.

Each key is rate limited (:mod:`~rampart.service.ratelimit`): a token per event (a batch pays
for its events, any other call one), ``DEFAULT_RATE`` a second unless the operator says; over the
limit a call is a 429 with ``Retry-After`` (whole seconds) and takes nothing. Health, readiness
and the OpenAPI document are not limited.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Annotated, Any, Final, TypeVar, cast

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import FromPath, PathParameter, RawBody
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from rampart.contract.events import Event
from rampart.contract.outputs import Decision, Label
from rampart.contract.validate import ContractError
from rampart.records.store import Records
from rampart.service.admin import ADMIN_HANDLERS
from rampart.service.entities import ENTITY_TYPES, EntityIndex, EntityView, view_entity
from rampart.service.keys import ENDPOINT_ROLES, KeyStore, allowed
from rampart.service.ratelimit import DEFAULT_RATE, RateLimiter
from rampart.service.scorer import (
    Answer,
    EventResult,
    Rejection,
    Scorer,
    ScorerUnavailableError,
)

R = TypeVar("R")

MAX_EVENT_BYTES: Final = 256 * 1024
MAX_BATCH_EVENTS: Final = 1_000
MAX_BATCH_BYTES: Final = 16 * 1024 * 1024
# Objects and lists inside one another; contract events need 4, a batch one more.
MAX_DEPTH: Final = 16

_log = logging.getLogger("rampart.http")
_ESCAPE: Final = re.compile(rb"\\.", re.DOTALL)
_STRING: Final = re.compile(rb'"[^"]*"?')
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")


class ErrorDetail(msgspec.Struct, kw_only=True):
    """A precise rejection: which line (item) of the body, which event, which field, and why."""

    line: int
    event_id: str | None
    path: str
    reason: str


class ErrorBody(msgspec.Struct, kw_only=True):
    error: ErrorDetail


class BatchItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    status: int
    decision: Answer | None = None
    error: ErrorDetail | None = None


class BatchBody(msgspec.Struct, kw_only=True):
    accepted: int
    rejected: int
    results: list[BatchItem]


class LabelBody(msgspec.Struct, kw_only=True):
    label: Label


class Readiness(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    replayed: int
    reason: str | None = None


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "rampart_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rampart_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=self.registry,
        )
        self.decisions = Counter(
            "rampart_decisions", "Decisions by action.", ["action"], registry=self.registry
        )
        self.rejects = Counter(
            "rampart_rejects", "Rejected events by kind.", ["kind"], registry=self.registry
        )

    def count(self, results: Iterable[EventResult | Rejection]) -> None:
        for result in results:
            if isinstance(result, Rejection):
                self.rejects.labels(result.kind).inc()
            elif not result.duplicate:
                self.decisions.labels(result.answer.action).inc()

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = [500]

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = scope.get("path_template") or "unmatched"
                self.requests.labels(route, scope["method"], str(status[0])).inc()
                self.latency.labels(route).observe(time.perf_counter() - started)

        return timed


def nesting_depth(body: bytes) -> int:
    """How deep objects and lists nest in a JSON text (strings skipped; fast on large bodies).

    >>> nesting_depth(b'{"a": [1, {"b": "[[[["}]}'), nesting_depth(b'"x"'), nesting_depth(b"]]")
    (3, 0, 0)
    """
    if b"[" not in body and b"{" not in body:
        return 0
    # Escapes first, then strings: what is left of brackets is structure.
    structure = _ESCAPE.sub(b"", body)
    structure = _STRING.sub(b"", structure).translate(None, _NOT_BRACKETS)
    steps = (1 if byte in b"[{" else -1 for byte in structure)
    return max(accumulate(steps, initial=0))


def _detail(error: ContractError) -> ErrorDetail:
    return ErrorDetail(
        line=error.line, event_id=error.event_id, path=error.path or "", reason=error.reason
    )


def _too_deep(body: bytes, limit: int = MAX_DEPTH) -> ErrorBody | None:
    # No more brackets than the limit cannot nest deeper than it (most events): the count is
    # a pass in C, the exact depth a few regular expressions over the whole body.
    if body.count(b"[") + body.count(b"{") <= limit or nesting_depth(body) <= limit:
        return None
    reason = f"objects and lists are nested deeper than {MAX_DEPTH} levels"
    return ErrorBody(error=ErrorDetail(line=1, event_id=None, path="", reason=reason))


_STATUS: Final = {"invalid": 422, "late": 422, "duplicate": 409}
_NOOP: Final = {"status": "ok", "scored": False}
MAX_ENTITY_ID: Final = 128  # the contract's longest id


# The request bodies are read raw (RawBody: the scorer validates the bytes itself, with precise
# errors), so OpenAPI learns their shape from the contract's event structs: clients and
# Schemathesis then see and send real events.
# Inlined (Litestar rebuilds components/schemas from its own registry, dropping added ones); the
# contract's structs nest a few levels and never recursively, so inlining ends.
def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(defs[schema["$ref"].rpartition("/")[2]], defs)
        return {key: _inlined(value, defs) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(value, defs) for value in schema]
    return schema


_EVENT_SCHEMA, _DEFS = msgspec.json.schema_components([Event])
EVENT_SCHEMA: Final[dict[str, Any]] = _inlined(_EVENT_SCHEMA[0], _DEFS)
_LABEL_SCHEMA, _LABEL_DEFS = msgspec.json.schema_components([Label])
LABEL_SCHEMA: Final[dict[str, Any]] = _inlined(_LABEL_SCHEMA[0], _LABEL_DEFS)
BATCH_SCHEMA: Final[dict[str, Any]] = {
    "type": "array",
    "items": EVENT_SCHEMA,
    "maxItems": MAX_BATCH_EVENTS,
}


def _body_of(schema: dict[str, Any]) -> RequestBody:
    media = OpenAPIMediaType(schema=cast(Schema, schema))  # a plain dict is written as it is
    return RequestBody(content={"application/json": media}, required=True)


@dataclass
class _EventOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = _body_of(EVENT_SCHEMA)


@dataclass
class _LabelOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = _body_of(LABEL_SCHEMA)


@dataclass
class _BatchOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = _body_of(BATCH_SCHEMA)


def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Every endpoint names its roles in ``opt``; none named means open."""
    endpoint = handler.opt.get("endpoint")
    if endpoint is None:
        return
    header = connection.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    key = key or connection.headers.get("x-api-key", "")
    if not key:
        raise NotAuthorizedException("an API key is required (Authorization: Bearer <key>)")
    keys: KeyStore = connection.app.state.api_keys
    role = keys.role_of(key)
    if role is None:
        raise NotAuthorizedException("the API key is not valid")
    if not allowed(role, ENDPOINT_ROLES[endpoint]):
        raise PermissionDeniedException(f"the `{role}` role may not call this endpoint")
    # The bucket is the key's id (its public part); a batch pays once its events are counted.
    connection.state.rate_key = key.split("_")[1]
    if not handler.opt.get("rate_by_events"):
        _take(connection, 1)


def _take(connection: ASGIConnection[Any, Any, Any, Any], cost: int) -> None:
    """Charge ``cost`` events to the caller's key, or answer 429 (413 above the burst)."""
    limiter: RateLimiter = connection.app.state.rate_limiter
    wait = limiter.take(connection.state.rate_key, cost)
    if wait == 0.0:
        return
    if wait == float("inf"):
        raise HTTPException(
            status_code=413,
            detail=(
                f"{cost} events in one call are more than this key's rate limit lets through at "
                f"once ({limiter.burst:.0f}); send them in smaller batches"
            ),
        )
    raise HTTPException(
        status_code=429,
        detail=(
            f"this key is over its rate limit of {limiter.rate:g} events a second "
            f"(burst {limiter.burst:.0f}); retry after the Retry-After header's seconds"
        ),
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


def _with_scorer(request: Request[Any, Any, Any], call: Callable[[Scorer], R]) -> R | Response[Any]:
    """``call`` on the app's scorer, or a 503 when its log cannot be written."""
    scorer: Scorer = request.app.state.scorer
    try:
        return call(scorer)
    except ScorerUnavailableError as exc:
        return Response({"status_code": 503, "detail": str(exc)}, status_code=503)


@post(
    "/v1/events",
    status_code=200,
    sync_to_thread=True,
    opt={"endpoint": "events"},
    request_max_body_size=MAX_EVENT_BYTES,
    summary="Score one event",
    operation_class=_EventOperation,
)
def post_event(body: RawBody, request: Request[Any, Any, Any]) -> Response[Any]:
    deep = _too_deep(body)
    if deep is not None:
        return Response(deep, status_code=422)
    result = _with_scorer(request, lambda scorer: scorer.score(body))
    if isinstance(result, Response):
        return result
    request.app.state.metrics.count([result])
    if isinstance(result, Rejection):
        return Response(ErrorBody(error=_detail(result.error)), status_code=_STATUS[result.kind])
    headers = {"Rampart-Duplicate": "true"} if result.duplicate else {}
    return Response(result.answer, headers=headers)


@post(
    "/v1/events:batch",
    status_code=200,
    sync_to_thread=True,
    opt={"endpoint": "events", "rate_by_events": True},
    request_max_body_size=MAX_BATCH_BYTES,
    summary=f"Score a JSON array of up to {MAX_BATCH_EVENTS} events",
    operation_class=_BatchOperation,
)
def post_batch(body: RawBody, request: Request[Any, Any, Any]) -> Response[Any]:
    try:
        # The array is split first (msgspec refuses a body nested past its own limit cleanly),
        # then each event is checked: the batch nests one level deeper than its events.
        items = msgspec.json.decode(body, type=list[msgspec.Raw])
        deep = next(
            (found for item in items if (found := _too_deep(bytes(item), MAX_DEPTH - 1))), None
        )
    except RecursionError:
        items, deep = [], _too_deep(body)
    except msgspec.DecodeError as exc:
        _take(request, 1)
        reason = (
            "must be a JSON array of events"
            if isinstance(exc, msgspec.ValidationError)
            else f"the body is not valid JSON ({str(exc).removeprefix('JSON is malformed: ')})"
        )
        return Response(
            ErrorBody(error=ErrorDetail(line=1, event_id=None, path="", reason=reason)),
            status_code=422,
        )
    if deep is not None:
        _take(request, 1)  # a body that holds no events costs as a call: floods of them too
        return Response(deep, status_code=422)
    if len(items) > MAX_BATCH_EVENTS:
        _take(request, 1)
        raise HTTPException(
            status_code=413,
            detail=f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(items)}",
        )
    _take(request, max(1, len(items)))
    results = _with_scorer(request, lambda scorer: scorer.score_many([bytes(i) for i in items]))
    if isinstance(results, Response):
        return results
    request.app.state.metrics.count(results)
    shown = []
    for index, result in enumerate(results):
        if isinstance(result, Rejection):
            status = _STATUS[result.kind]
            shown.append(BatchItem(index=index, status=status, error=_detail(result.error)))
        else:
            shown.append(BatchItem(index=index, status=200, decision=result.answer))
    accepted = sum(1 for item in shown if item.status == 200)
    return Response(BatchBody(accepted=accepted, rejected=len(shown) - accepted, results=shown))


@post(
    "/v1/events:noop",
    status_code=200,
    sync_to_thread=True,
    opt={"endpoint": "noop"},
    request_max_body_size=MAX_EVENT_BYTES,
    summary="Read one event and score nothing (the baseline of the benchmarks)",
    operation_class=_EventOperation,
)
def post_noop(body: RawBody, request: Request[Any, Any, Any]) -> Response[Any]:
    """What serving costs without scoring: the same key, role, rate, size and nesting checks as
    ``POST /v1/events``, the same thread hop, the body read; ``benchmarks/`` runs both against
    one server to tell the scorer's cost from the HTTP stack's."""
    deep = _too_deep(body)
    if deep is not None:
        return Response(deep, status_code=422)
    return Response(_NOOP)


@post(
    "/v1/labels",
    status_code=200,
    sync_to_thread=True,
    opt={"endpoint": "labels"},
    request_max_body_size=MAX_EVENT_BYTES,
    summary="Apply one label",
    operation_class=_LabelOperation,
)
def post_label(body: RawBody, request: Request[Any, Any, Any]) -> Response[Any]:
    deep = _too_deep(body)
    if deep is not None:
        return Response(deep, status_code=422)
    result = _with_scorer(request, lambda scorer: scorer.label(body))
    if isinstance(result, Response):
        return result
    if isinstance(result, Rejection):
        return Response(ErrorBody(error=_detail(result.error)), status_code=422)
    return Response(LabelBody(label=result))


# In a worker thread: the read takes the scorer's lock and, for a replica, a round trip to Redis.
@get("/v1/decisions/{event_id:str}", sync_to_thread=True, opt={"endpoint": "decisions"})
def get_decision(event_id: FromPath[str], request: Request[Any, Any, Any]) -> Decision:
    scorer: Scorer = request.app.state.scorer
    decision = scorer.decision(event_id)
    if decision is None:
        raise HTTPException(status_code=404, detail="no decision is held for this event_id")
    return decision


# Documented only (the handler answers a clear 404 itself, where validation would be a 400).
_ENTITY_TYPE: Final = PathParameter(schema_extra={"enum": list(ENTITY_TYPES)})
_ENTITY_ID: Final = PathParameter(schema_extra={"minLength": 1, "maxLength": MAX_ENTITY_ID})


@get(
    "/v1/entities/{entity_type:str}/{entity_id:str}",
    sync_to_thread=True,
    opt={"endpoint": "entities"},
    summary="What is known of one entity",
    raises=[HTTPException],
)
def get_entity(
    entity_type: Annotated[str, _ENTITY_TYPE],
    entity_id: Annotated[str, _ENTITY_ID],
    request: Request[Any, Any, Any],
) -> EntityView:
    """The entity's online features (those keyed by its kind alone, as of the engine clock), the
    areas it is flagged in and its verdicts, its links in the graphs, and its recent decisions
    (newest first). ``entity_type``: one of ``user``, ``device``, ``ip``, ``item``, ``seller``,
    ``instrument``, ``session``, ``coupon``. An entity nothing is known of is a 200 with empty
    sections and ``known: false``. An ``ip`` is looked up by its pseudonym and answered as sent.
    """
    if entity_type not in ENTITY_TYPES:
        raise HTTPException(
            status_code=404,
            detail=f"unknown entity type; the types are {', '.join(ENTITY_TYPES)}",
        )
    if not entity_id or len(entity_id) > MAX_ENTITY_ID:
        raise HTTPException(
            status_code=404, detail=f"an entity id is 1 to {MAX_ENTITY_ID} characters"
        )
    scorer: Scorer = request.app.state.scorer
    index: EntityIndex | None = request.app.state.entities
    # In a thread: the scorer's lock may be held by a whole batch (and its fsync).
    try:
        return scorer.read(lambda s: view_entity(s, index, entity_type, entity_id))
    except ScorerUnavailableError as exc:  # a shared journal out of reach: no fresh state
        raise HTTPException(status_code=503, detail=str(exc)) from exc


@get("/metrics", sync_to_thread=False, opt={"endpoint": "metrics"}, include_in_schema=False)
def get_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", sync_to_thread=True)
def readyz(request: Request[Any, Any, Any]) -> Response[Readiness]:
    scorer: Scorer = request.app.state.scorer
    # A replica sharing Redis is not ready while it cannot reach it (it catches up to know).
    reason = scorer.unready()
    if reason is not None:
        status = "failed" if scorer.failure is not None else "unavailable"
        return Response(
            Readiness(status=status, replayed=scorer.replayed, reason=reason), status_code=503
        )
    return Response(Readiness(status="ready", replayed=scorer.replayed))


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The exception's text may quote the request; its type and where it was raised may not.
    _log.error("internal error on %s: %s", request.scope.get("path_template"), type(exc).__name__)
    return Response({"status_code": 500, "detail": "internal server error"}, status_code=500)


def create_app(
    scorer: Scorer,
    keys: KeyStore,
    *,
    metrics: Metrics | None = None,
    rate_limit: float = DEFAULT_RATE,
    rate_burst: float | None = None,
    entities: EntityIndex | None = None,
    records: Records | None = None,
) -> Litestar:
    """The API over an opened scorer; keys are checked on every call to a guarded endpoint.

    ``rate_limit``: events a second per key (0: none), with ``rate_burst`` at once (default: a
    second's worth, and never less than a full batch). ``entities``: the index the scorer's
    observers feed (``Scorer.open(..., observers=[index])``, so that it holds what the log
    replayed); without one, an index is hung on the scorer now and sees only new events.
    """
    metrics = metrics or Metrics()
    if entities is None:
        entities = EntityIndex(
            pseudonymize_ip=lambda ip: scorer.intake.privacy.pseudonymizer.token("ip", ip)
        )
        scorer.observers.append(entities)
    burst = rate_burst if rate_burst is not None else max(rate_limit, MAX_BATCH_EVENTS)
    app = Litestar(
        route_handlers=[
            post_event,
            post_batch,
            post_noop,
            post_label,
            get_decision,
            get_entity,
            get_metrics,
            healthz,
            readyz,
            *ADMIN_HANDLERS,
        ],
        guards=[_guard],
        middleware=[metrics.middleware],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        openapi_config=OpenAPIConfig(title="Rampart", version="1"),
        request_max_body_size=MAX_EVENT_BYTES,
    )
    app.state.scorer = scorer
    app.state.api_keys = keys
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(rate_limit, burst)
    app.state.entities = entities
    # The admin endpoints' store (rampart.service.admin); None: they answer 503.
    app.state.records = records
    return app


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return Response(
        {"status_code": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )
