"""Admin endpoints: the served pack's rules, the lists rules read, model versions; all audited.

| endpoint | role | what |
|---|---|---|
| ``GET /v1/admin/packs`` | analyst | the served pack and its rules (``off`` ones included) |
| ``GET /v1/admin/packs/{pack}/rules/{rule}`` | analyst | one rule as it runs |
| ``GET /v1/admin/packs/{pack}/rules/{rule}/history`` | analyst | its versions and audit rows |
| ``PUT /v1/admin/packs/{pack}/rules/{rule}`` | admin | add or replace a rule |
| ``POST /v1/admin/packs/{pack}/rules/{rule}/mode`` | admin | live / shadow / off, with a reason |
| ``GET /v1/admin/lists``, ``GET /v1/admin/lists/{name}`` | analyst, investigator | lists |
| ``POST /v1/admin/lists/{name}/entries`` (``:remove``) | investigator | put a value on / off |
| ``GET /v1/admin/models`` | analyst | model versions and their modes |
| ``POST /v1/admin/models/{area}/{model_hash}/mode`` | admin | a model version's mode |

Investigators may edit lists because putting a confirmed abuser's device on a deny list (or a
wrongly blocked customer on an allow list) is part of working a case; rules and models change
what every event gets, so only ``admin`` changes them, after an analyst has read the history.

A change is checked first (a rule's expression against the engine's feature catalogue: a 422
naming the rule, the line and column, and a suggestion), then written to the records with its
audit rows (the actor is the API key's id, ``key:<id>``; never its secret), then applied to the
running engine through :meth:`~rampart.service.scorer.Scorer.change`, which logs it so a restart
replays it in place. When the records database cannot be reached the endpoints answer 503 and
change nothing; scoring does not use the records and goes on. List values that are addresses,
e-mails or phones are kept, applied and shown as their pseudonyms, never in clear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar, cast

import msgspec
from litestar import Request, Response, get, post, put
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from sqlalchemy.exc import SQLAlchemyError

from rampart.contract.outputs import AREAS
from rampart.detect.rules.pack_model import Rule
from rampart.records.audit import write_audit
from rampart.records.base import AuditEntry, ListEntry, ListKind, Mode, RecordsError
from rampart.records.entities import EntityKeeper
from rampart.records.promotion import Promotion
from rampart.records.store import Records
from rampart.service.changes import (
    MAX_LIST_VALUE,
    NAME_PATTERN,
    AddListEntry,
    Change,
    ChangeError,
    PutRule,
    RemoveListEntry,
    RuleDefinition,
    SetRuleMode,
    check_change,
    definition_hash,
    encode_change,
    rule_definition,
    served_rules,
)
from rampart.service.scorer import Scorer, ScorerUnavailableError

R = TypeVar("R")

MAX_REASON: Final = 1_000
_NAME_CHECK: Final = msgspec.json.Decoder(Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)])
_log = logging.getLogger("rampart.admin")

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON)]
Value = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LIST_VALUE)]


# --- bodies ------------------------------------------------------------------------------------


class RuleView(msgspec.Struct, kw_only=True):
    name: str
    version_hash: str
    definition: RuleDefinition


class PackView(msgspec.Struct, kw_only=True):
    name: str
    rules: list[RuleView]


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    line: int
    column: int
    message: str
    suggestion: str | None = None


class RuleError(msgspec.Struct, kw_only=True):
    rule: str | None
    reason: str
    problems: list[Problem]


class RuleErrorBody(msgspec.Struct, kw_only=True):
    error: RuleError


class PutRuleBody(RuleDefinition, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON)] = ""


class ModeBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    mode: Mode
    reason: Reason


class VersionView(msgspec.Struct, kw_only=True):
    version_id: int
    version_hash: str
    expression: str
    mode: Mode
    created_at: datetime
    created_by: str


class AuditView(msgspec.Struct, kw_only=True):
    at: datetime
    actor: str
    action: str
    target: str
    target_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class RuleChanged(msgspec.Struct, kw_only=True):
    rule: RuleView
    version: VersionView


class HistoryView(msgspec.Struct, kw_only=True):
    versions: list[VersionView]
    audit: list[AuditView]


class ModeChanged(msgspec.Struct, kw_only=True):
    before: Mode
    after: Mode
    changed: bool
    turned_off: list[int]
    applied: bool
    note: str = ""


class ModelView(msgspec.Struct, kw_only=True):
    version_id: int
    model_hash: str
    area: str
    mode: Mode
    created_at: datetime
    created_by: str
    report: dict[str, Any]


class ListEntryView(msgspec.Struct, kw_only=True):
    list_name: str
    kind: ListKind
    value: str
    expires_at: datetime | None
    added_at: datetime
    added_by: str
    note: str | None


class ListView(msgspec.Struct, kw_only=True):
    name: str
    kind: ListKind | None
    entries: list[ListEntryView]


class ListEntryBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Value
    kind: ListKind
    reason: Reason
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ListRemoveBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Value
    reason: Reason


class Removed(msgspec.Struct, kw_only=True):
    removed: bool


class ErrorBody(msgspec.Struct, kw_only=True):
    status_code: int
    detail: str


# --- plumbing ----------------------------------------------------------------------------------


class _UnavailableError(Exception):
    """The records (or the scorer's log) cannot be used now: a 503 saying which."""


def _records(request: Request[Any, Any, Any]) -> Records:
    records: Records | None = request.app.state.get("records")
    if records is None:
        raise _UnavailableError("this server has no records database configured")
    return records


def _scorer(request: Request[Any, Any, Any]) -> Scorer:
    scorer: Scorer = request.app.state.scorer
    return scorer


def _actor(request: Request[Any, Any, Any]) -> str:
    """Who calls: the API key's id (the guard has checked the key; its secret is never kept)."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    key = key or request.headers.get("x-api-key", "")
    return f"key:{key.split('_')[1]}"


def _answer(call: Callable[[], R]) -> Response[R]:
    """``call``'s answer, with the records' and the log's failures as 503s, refusals as 4xx."""
    try:
        return Response(call())
    except _UnavailableError as exc:
        return _error(503, str(exc))
    except ScorerUnavailableError as exc:
        return _error(503, str(exc))
    except SQLAlchemyError as exc:
        # The driver's text can name hosts and users: only its kind goes out, and to the log.
        _log.warning("records database error: %s", type(exc).__name__)
        return _error(
            503,
            f"the records database cannot be reached ({type(exc).__name__}); nothing was "
            "changed, try again",
        )
    except ChangeError as exc:
        problems = [
            Problem(line=p.line, column=p.column, message=p.message, suggestion=p.suggestion)
            for p in exc.problems
        ]
        body = RuleErrorBody(error=RuleError(rule=exc.rule, reason=str(exc), problems=problems))
        return cast(Response[R], Response(body, status_code=422))
    except RecordsError as exc:
        return _error(409, str(exc))


def _error(status: int, detail: str) -> Response[Any]:
    return Response(ErrorBody(status_code=status, detail=detail), status_code=status)


def _name(value: str, what: str) -> str:
    try:
        return str(_NAME_CHECK.decode(msgspec.json.encode(value)))
    except msgspec.ValidationError:
        raise ChangeError(f"{what} must be letters, digits, _ . - (up to 100)") from None


def _pack_rule(scorer: Scorer, pack: str, rule: str) -> Rule:
    served = scorer.read(lambda s: served_rules(s.engine))
    if pack != served.pack:
        raise HTTPException(status_code=404, detail=f"the served pack is {served.pack!r}")
    found = served.rules.get(rule)
    if found is None:
        raise HTTPException(status_code=404, detail=f"pack {pack!r} has no rule {rule!r}")
    return found


def _rule_view(rule: Rule) -> RuleView:
    definition = rule_definition(rule)
    return RuleView(name=rule.name, version_hash=definition_hash(definition), definition=definition)


def _version(version: Any) -> VersionView:
    return VersionView(
        version_id=version.version_id,
        version_hash=version.version_hash,
        expression=version.expression,
        mode=version.mode,
        created_at=version.created_at,
        created_by=version.created_by,
    )


def _audit(entry: AuditEntry) -> AuditView:
    return AuditView(
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        target_key=entry.target_key,
        before=dict(entry.before) if entry.before is not None else None,
        after=dict(entry.after) if entry.after is not None else None,
    )


def _apply(scorer: Scorer, change: Change) -> None:
    scorer.change(encode_change(change))


def _check(scorer: Scorer, change: Change) -> None:
    payload = encode_change(change)
    scorer.read(lambda s: check_change(payload, s.engine))


def _keep(scorer: Scorer, value: str) -> str:
    """A list value as rules compare it: addresses, e-mails and phones as their pseudonyms."""
    return EntityKeeper(scorer.intake.privacy.pseudonymizer).keep("list value", value)


_UNAVAILABLE: Final = {
    503: ResponseSpec(ErrorBody, description="the records database cannot be reached"),
    409: ResponseSpec(ErrorBody, description="the records refuse the change as asked"),
}
_REFUSED: Final = {
    **_UNAVAILABLE,
    422: ResponseSpec(RuleErrorBody, description="the change does not check (rule, position)"),
}

# --- rule packs --------------------------------------------------------------------------------

_READ: Final = {"endpoint": "admin.read"}
_WRITE: Final = {"endpoint": "admin.write"}


# In threads: the scorer's lock may be held by a whole batch (and its fsync).
@get("/v1/admin/packs", sync_to_thread=True, opt=_READ, summary="The served rule pack")
def list_packs(request: Request[Any, Any, Any]) -> Response[list[PackView]]:
    def packs() -> list[PackView]:
        served = _scorer(request).read(lambda s: served_rules(s.engine))
        return [PackView(name=served.pack, rules=[_rule_view(r) for r in served.rules.values()])]

    return _answer(packs)


# Not in a thread: Litestar 2.25 answers a coroutine instead of the response when a GET and a
# PUT on one path are both run in threads (measured: AttributeError in to_response).
@get("/v1/admin/packs/{pack:str}/rules/{rule:str}", sync_to_thread=False, opt=_READ)
def get_rule(
    pack: FromPath[str], rule: FromPath[str], request: Request[Any, Any, Any]
) -> Response[RuleView]:
    return _answer(lambda: _rule_view(_pack_rule(_scorer(request), pack, rule)))


@get(
    "/v1/admin/packs/{pack:str}/rules/{rule:str}/history",
    sync_to_thread=True,
    responses=_UNAVAILABLE,
    opt=_READ,
    summary="A rule's recorded versions and audit rows",
)
def rule_history(
    pack: FromPath[str], rule: FromPath[str], request: Request[Any, Any, Any]
) -> Response[HistoryView]:
    def history() -> HistoryView:
        records = _records(request)
        versions = records.rules.history(pack, rule)
        audit = [
            _audit(entry)
            for version in versions
            for entry in records.audit.entries(
                target="rule_versions", target_key=str(version.version_id)
            )
        ]
        audit.sort(key=lambda entry: entry.at)
        return HistoryView(versions=[_version(v) for v in versions], audit=audit)

    return _answer(history)


@put(
    "/v1/admin/packs/{pack:str}/rules/{rule:str}",
    sync_to_thread=True,
    responses=_REFUSED,
    opt=_WRITE,
    status_code=200,
    summary="Add or replace a rule (type-checked, recorded, audited, applied)",
)
def put_rule(
    pack: FromPath[str],
    rule: FromPath[str],
    data: JSONBody[PutRuleBody],
    request: Request[Any, Any, Any],
) -> Response[RuleChanged]:
    scorer = _scorer(request)
    fields = msgspec.structs.asdict(data)
    reason = fields.pop("reason")
    definition = RuleDefinition(**fields)
    actor = _actor(request)

    def put_it() -> RuleChanged:
        name = _name(rule, "the rule name")
        change = PutRule(pack=_name(pack, "the pack name"), rule=name, definition=definition)
        _served_pack(scorer, pack)
        _check(scorer, change)
        records = _records(request)
        before = scorer.read(lambda s: served_rules(s.engine).rules.get(name))
        previous = rule_definition(before) if before is not None else None
        if previous is not None:
            _ensure_recorded(records, pack, name, previous, actor)
        digest = definition_hash(definition)
        version = records.rules.record(
            pack, name, definition.expression, definition.mode, actor=actor, version_hash=digest
        )
        if version.mode != definition.mode:
            records.promote_rule(pack, name, digest, to=definition.mode, actor=actor, reason=reason)
            version = records.rules.find(pack, name, digest) or version
        # The version row keeps the expression; the whole definition (areas, action, weight,
        # verdict) and why it changed are in this audit row, before and after.
        with records.engine.begin() as connection:
            write_audit(
                connection,
                at=records.clock(),
                actor=actor,
                action="rule_version.define",
                target="rule_versions",
                target_key=version.version_id,
                before=msgspec.to_builtins(previous) if previous is not None else None,
                after={**msgspec.to_builtins(definition), "reason": reason},
            )
        _apply(scorer, change)
        applied = _pack_rule(scorer, pack, name)
        return RuleChanged(rule=_rule_view(applied), version=_version(version))

    return _answer(put_it)


def _served_pack(scorer: Scorer, pack: str) -> None:
    served = scorer.read(lambda s: served_rules(s.engine).pack)
    if pack != served:
        raise HTTPException(status_code=404, detail=f"the served pack is {served!r}")


def _ensure_recorded(
    records: Records, pack: str, rule: str, definition: RuleDefinition, actor: str
) -> str:
    """The version hash of ``definition``, recorded (as the pack had it) if it was not yet."""
    digest = definition_hash(definition)
    if records.rules.find(pack, rule, digest) is None:
        records.rules.record(
            pack, rule, definition.expression, definition.mode, actor=actor, version_hash=digest
        )
    return digest


@post(
    "/v1/admin/packs/{pack:str}/rules/{rule:str}/mode",
    sync_to_thread=True,
    responses=_REFUSED,
    opt=_WRITE,
    status_code=200,
    summary="Move a rule between live, shadow and off (audited, with a reason)",
)
def set_rule_mode(
    pack: FromPath[str],
    rule: FromPath[str],
    data: JSONBody[ModeBody],
    request: Request[Any, Any, Any],
) -> Response[ModeChanged]:
    scorer = _scorer(request)
    actor = _actor(request)

    def promote() -> ModeChanged:
        current = _pack_rule(scorer, pack, rule)
        change = SetRuleMode(pack=pack, rule=rule, mode=data.mode)
        _check(scorer, change)
        records = _records(request)
        digest = _ensure_recorded(records, pack, rule, rule_definition(current), actor)
        promotion = records.promote_rule(
            pack, rule, digest, to=data.mode, actor=actor, reason=data.reason
        )
        _apply(scorer, change)
        return _mode_changed(promotion, before=current.mode, applied=True)

    return _answer(promote)


def _mode_changed(
    promotion: Promotion, *, before: Mode, applied: bool, note: str = ""
) -> ModeChanged:
    return ModeChanged(
        before=before,
        after=promotion.after,
        changed=before != promotion.after,
        turned_off=list(promotion.turned_off),
        applied=applied,
        note=note,
    )


# --- models ------------------------------------------------------------------------------------


@get(
    "/v1/admin/models",
    sync_to_thread=True,
    responses=_UNAVAILABLE,
    opt=_READ,
    summary="Model versions by area",
)
def list_models(request: Request[Any, Any, Any]) -> Response[list[ModelView]]:
    def models() -> list[ModelView]:
        records = _records(request)
        return [
            ModelView(
                version_id=v.version_id,
                model_hash=v.model_hash,
                area=v.area,
                mode=v.mode,
                created_at=v.created_at,
                created_by=v.created_by,
                report=dict(v.report),
            )
            for area in AREAS
            for v in records.models.history(area)
        ]

    return _answer(models)


@post(
    "/v1/admin/models/{area:str}/{model_hash:str}/mode",
    sync_to_thread=True,
    responses=_UNAVAILABLE,
    opt=_WRITE,
    status_code=200,
    summary="Put a recorded model version in live, shadow or off (audited)",
)
def set_model_mode(
    area: FromPath[str],
    model_hash: FromPath[str],
    data: JSONBody[ModeBody],
    request: Request[Any, Any, Any],
) -> Response[ModeChanged]:
    if area not in AREAS:
        raise HTTPException(status_code=404, detail="no such risk area")
    actor = _actor(request)

    def promote() -> ModeChanged:
        records = _records(request)
        found = records.models.find(model_hash, area)
        if found is None:
            raise HTTPException(status_code=404, detail="no such model version for this area")
        promotion = records.promote_model(
            model_hash, area, to=data.mode, actor=actor, reason=data.reason
        )
        # `rampart serve` scores with the pack's rules; models run in `rampart score --models`
        # and backtests, which read the mode from the records.
        note = "recorded only: the served engine runs no model with this hash"
        return _mode_changed(promotion, before=found.mode, applied=False, note=note)

    return _answer(promote)


# --- lists -------------------------------------------------------------------------------------

_LISTS_READ: Final = {"endpoint": "admin.lists.read"}
_LISTS_WRITE: Final = {"endpoint": "admin.lists.write"}


def _entry(entry: ListEntry) -> ListEntryView:
    return ListEntryView(
        list_name=entry.list_name,
        kind=entry.kind,
        value=entry.value,
        expires_at=entry.expires_at,
        added_at=entry.added_at,
        added_by=entry.added_by,
        note=entry.note,
    )


def _list(records: Records, name: str) -> ListView:
    entries = [_entry(e) for e in records.lists.entries(name)]
    return ListView(name=name, kind=entries[0].kind if entries else None, entries=entries)


@get(
    "/v1/admin/lists",
    sync_to_thread=True,
    responses=_UNAVAILABLE,
    opt=_LISTS_READ,
    summary="Allow and deny lists",
)
def list_lists(request: Request[Any, Any, Any]) -> Response[list[ListView]]:
    def lists() -> list[ListView]:
        records = _records(request)
        return [_list(records, name) for name in records.lists.names()]

    return _answer(lists)


@get("/v1/admin/lists/{name:str}", sync_to_thread=True, responses=_REFUSED, opt=_LISTS_READ)
def get_list(name: FromPath[str], request: Request[Any, Any, Any]) -> Response[ListView]:
    return _answer(lambda: _list(_records(request), _name(name, "the list name")))


@post(
    "/v1/admin/lists/{name:str}/entries",
    sync_to_thread=True,
    responses=_REFUSED,
    opt=_LISTS_WRITE,
    status_code=200,
    summary="Put a value on a list (or update its expiry), with a reason",
)
def add_list_entry(
    name: FromPath[str], data: JSONBody[ListEntryBody], request: Request[Any, Any, Any]
) -> Response[ListEntryView]:
    scorer = _scorer(request)
    actor = _actor(request)

    def add() -> ListEntryView:
        list_name = _name(name, "the list name")
        value = _keep(scorer, data.value)
        expires = data.expires_at.timestamp() if data.expires_at is not None else None
        change = AddListEntry(list_name=list_name, value=value, expires_at=expires)
        _check(scorer, change)
        records = _records(request)
        entry = records.lists.add(
            list_name, data.kind, value, actor=actor, expires_at=data.expires_at, note=data.reason
        )
        _apply(scorer, change)
        return _entry(entry)

    return _answer(add)


@post(
    "/v1/admin/lists/{name:str}/entries:remove",
    sync_to_thread=True,
    responses=_REFUSED,
    opt=_LISTS_WRITE,
    status_code=200,
    summary="Take a value off a list, with a reason",
)
def remove_list_entry(
    name: FromPath[str], data: JSONBody[ListRemoveBody], request: Request[Any, Any, Any]
) -> Response[Removed]:
    scorer = _scorer(request)
    actor = _actor(request)

    def remove() -> Removed:
        list_name = _name(name, "the list name")
        value = _keep(scorer, data.value)
        change = RemoveListEntry(list_name=list_name, value=value)
        _check(scorer, change)
        records = _records(request)
        removed = records.lists.remove(list_name, value, actor=actor)
        if removed:
            # The removal's own audit row holds the entry; this one says why it went.
            with records.engine.begin() as connection:
                write_audit(
                    connection,
                    at=records.clock(),
                    actor=actor,
                    action="list.remove.reason",
                    target="lists",
                    target_key=list_name,
                    before={"list_name": list_name, "value": value},
                    after={"reason": data.reason},
                )
        # Applied even when the records did not hold it: the engine must not keep it either.
        _apply(scorer, change)
        return Removed(removed=removed)

    return _answer(remove)


def reconcile_lists(scorer: Scorer, records: Records) -> int:
    """Give the engine the list entries the records hold and it lacks; how many were added.

    The journal carries every list change, so an engine rebuilt from it has them; one started
    on a new journal over existing records (a new Redis namespace, a lost data folder) would
    not, and a deny list the records show would not be enforced. Entries are added through
    :meth:`Scorer.change` (logged, so every replica gets them); nothing is removed, since the
    pack may hold entries the records never had.
    """

    def held_lists(s: Scorer) -> dict[str, dict[str, float | None]]:
        lists = served_rules(s.engine).lists
        return {name: dict(lists.entries(name)) for name in lists.names()}

    held = scorer.read(held_lists)
    missing = []
    for name in records.lists.names():
        for entry in records.lists.entries(name):
            # With its expiry: the engine compares it with each event's own time.
            expires = entry.expires_at.timestamp() if entry.expires_at is not None else None
            if held.get(name, {}).get(entry.value, "absent") != expires:
                missing.append(AddListEntry(list_name=name, value=entry.value, expires_at=expires))
    for change in missing:
        scorer.change(encode_change(change))
    return len(missing)


ADMIN_HANDLERS: Final = (
    list_packs,
    get_rule,
    rule_history,
    put_rule,
    set_rule_mode,
    list_models,
    set_model_mode,
    list_lists,
    get_list,
    add_list_entry,
    remove_list_entry,
)
