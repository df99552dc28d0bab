"""Linkage rings: accounts joined by shared attributes and referrals, kept up to date per event.

Accounts are linked through the attribute values they are seen with (devices, normalised
addresses, instruments, phones, e-mails — pseudonyms by the time they get here) and directly by
referrals. A *ring* is a connected component of accounts over the links that are live as of the
event time ``now``:

- a link (account–value, or referrer–referee) is live while it was last seen at or after
  ``now - horizon``; its *first* time is when its current streak began (a link not seen for longer
  than ``horizon`` starts afresh);
- a value held by more than ``hub_cap`` accounts over live links is a *hub* and links nobody
  (one public wifi would otherwise join everyone); it links again once enough of them age out;
- an account's *join* time is when its current activity streak began (any call naming it);
- a ring's *age* runs from the earliest first time of the live links that hold it together
  (referrals, and links to values two or more members hold); a value only one account holds
  links nobody, so its aging changes nothing and is not tracked.

Design (exact answers at a few µs per event):

- Every account belongs to a ring object holding its members, the smallest member (the ring id),
  the earliest first time of its live links, the number of shared values, a heap of recent join
  times (growth), and ``min_last``: a lower bound of every ``last`` time the ring's shape depends
  on — its links' (referrals, shared values) and, for a hub one of its members holds, the last
  time of the hub's oldest tracked holder (when that ages out the hub links again).
- A new link *unions* two rings, small into large (members relabelled: O(log n) moves per member
  over its life). Refreshing a live link only rewrites its ``last``: O(1), nothing else moves, the
  bound stays a valid (now stale) lower bound.
- Nothing can split or de-hub a ring before ``min_last + horizon``: links age out only when their
  last time does, hubs stop being hubs only when the oldest tracked holder does. So a ring is
  valid while ``min_last >= now - horizon``, and only a ring found invalid when an event touches
  it or a query reads it is rebuilt — by a BFS over its members' live links, which also
  recomputes the exact bound and may split it in several rings, or pull in a ring joined through a
  value that stopped being a hub. A value turning into a hub marks its ring invalid at once.
- Each value keeps only its ``hub_cap + 1`` most recent holders (ordered by last time): the value
  is a hub exactly when all of them are live — O(1) — and when it is not, every live holder is
  among them. Memory per value is bounded by the cap.
- Accounts and values that are not live any more are swept through two heaps keyed by last time
  (amortised O(log n) per new account or value), so memory follows the live graph.

Cost: a refreshed link is ~8 dict operations; a new link adds a union; a query is a dict lookup
and a heap pop per member leaving the growth window. A rebuild costs O(members + their links),
once per expiry of a ring's oldest link (or hub holder): a ring that keeps shedding old links and
gaining new ones is rebuilt once per shed link. ``max_ring_size`` caps that: a ring bigger than it
is rebuilt at most once per ``recheck`` seconds. A ring of at most ``max_ring_size`` accounts is
always exact; a bigger one may still count members whose links aged out since its last rebuild (and,
rarely, miss a merge through a value that stopped being a hub) until its next rebuild.

Times are event times; a call with a time before the latest one seen is treated as at that latest
time (the clock never goes back), so replaying the same calls gives the same answers.

>>> rings = LinkageRings(RingsConfig(horizon=100.0, growth_window=10.0))
>>> rings.link("alice", "device", "d1", ts=0.0)
>>> rings.link("bob", "device", "d1", ts=5.0)
>>> rings.refer("bob", "carol", ts=20.0)
>>> rings.ring("carol", ts=20.0)
RingInfo(ring_id='alice', size=3, growth=1, age=20.0, shared=1)
>>> rings.members("carol", ts=20.0, limit=2)
['alice', 'bob']
>>> rings.ring("alice", ts=101.0).size  # alice's device link aged out
1
"""

from __future__ import annotations

from collections import OrderedDict
from heapq import heapify, heappop, heappush, nsmallest
from typing import TypeAlias

from rampart.detect.graph.rings_state import (
    RingInfo,
    RingRecord,
    RingsConfig,
    RingsState,
)

__all__ = ["LinkageRings", "RingInfo", "RingsConfig", "RingsState"]

_INF = float("inf")
_NEG_INF = float("-inf")

_Attr: TypeAlias = tuple[str, str]
_Span: TypeAlias = tuple[float, float]  # (first, last) of a link's current streak


class _Ring:
    """A ring as tracked: see the module docstring for what each field bounds."""

    __slots__ = ("first", "joins", "min_last", "min_member", "nodes", "recheck_at", "shared")

    def __init__(self, nodes: list[str], min_member: str) -> None:
        self.nodes = nodes
        self.min_member = min_member
        self.first = _INF
        self.min_last = _INF
        self.shared = 0
        self.recheck_at = _NEG_INF
        self.joins: list[float] = []


class LinkageRings:
    """Incremental rings of accounts linked by shared attributes and referrals (event time)."""

    def __init__(self, config: RingsConfig | None = None) -> None:
        self.config = config if config is not None else RingsConfig()
        self._horizon = self.config.horizon
        self._cap = self.config.hub_cap
        self._reset()

    def _reset(self) -> None:
        self.now_ = _NEG_INF
        self._join: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._edges: dict[str, dict[_Attr, _Span]] = {}
        self._holders: dict[_Attr, OrderedDict[str, float]] = {}
        self._refs: dict[str, dict[str, _Span]] = {}
        self._ring: dict[str, _Ring] = {}
        self._sweep_accounts: list[tuple[float, str]] = []
        self._sweep_holders: list[tuple[float, str, str]] = []

    # -- events ---------------------------------------------------------------------------------

    def link(self, account: str, kind: str, value: str, ts: float) -> None:
        """Record that ``account`` was seen with the attribute value ``(kind, value)`` at ``ts``."""
        now = ts if ts > self.now_ else self.now_
        self.now_ = now
        cutoff = now - self._horizon
        if self._sweep_accounts and self._sweep_accounts[0][0] < cutoff:
            self._sweep(cutoff)
        self._touch(account, now, cutoff)
        attr = (kind, value)
        edges = self._edges.get(account)
        if edges is None:
            edges = self._edges[account] = {}
        span = edges.get(attr)
        holders = self._holders.get(attr)
        if span is not None and span[1] >= cutoff and holders is not None:
            # The common case, a live link seen again: the shape cannot change. (If ``account`` was
            # dropped from the holders, the value is a hub, and stays one: it re-enters last.)
            edges[attr] = (span[0], now)
            holders[account] = now
            holders.move_to_end(account)
            if len(holders) > self._cap + 1:
                holders.popitem(last=False)
            return
        if holders is None:
            holders = self._holders[attr] = OrderedDict()
            heappush(self._sweep_holders, (now, kind, value))
        self._new_link(account, attr, edges, holders, now, cutoff)

    def refer(self, referrer: str, referee: str, ts: float) -> None:
        """Record that ``referrer`` referred ``referee`` at ``ts`` (a direct link, never a hub)."""
        now = ts if ts > self.now_ else self.now_
        self.now_ = now
        cutoff = now - self._horizon
        if self._sweep_accounts and self._sweep_accounts[0][0] < cutoff:
            self._sweep(cutoff)
        self._touch(referrer, now, cutoff)
        self._touch(referee, now, cutoff)
        if referrer == referee:
            return
        out = self._refs.setdefault(referrer, {})
        back = self._refs.setdefault(referee, {})
        span = out.get(referee)
        if span is not None and span[1] >= cutoff:
            out[referee] = back[referrer] = (span[0], now)
            return
        # Rebuild stale rings before the new link exists, so it is counted exactly once.
        self._valid(referrer, now, cutoff)
        other = self._valid(referee, now, cutoff)
        ring = self._union(self._ring[referrer], other)
        out[referee] = back[referrer] = (now, now)
        if now < ring.first:
            ring.first = now
        if now < ring.min_last:
            ring.min_last = now

    # -- queries --------------------------------------------------------------------------------

    def ring(self, account: str, ts: float) -> RingInfo:
        """The ring of ``account`` as of ``ts`` (an account never seen is a ring of its own)."""
        now = ts if ts > self.now_ else self.now_
        self.now_ = now
        cutoff = now - self._horizon
        if self._sweep_accounts and self._sweep_accounts[0][0] < cutoff:
            self._sweep(cutoff)
        ring = self._ring.get(account)
        if ring is None:
            return RingInfo(ring_id=account, size=1, growth=0, age=0.0, shared=0)
        if ring.min_last < cutoff and (
            len(ring.nodes) <= self.config.max_ring_size or now >= ring.recheck_at
        ):
            ring = self._rebuild(account, now, cutoff)
        joins = ring.joins
        floor = now - self.config.growth_window
        while joins and joins[0] < floor:
            heappop(joins)
        return RingInfo(
            ring_id=ring.min_member,
            size=len(ring.nodes),
            growth=len(joins),
            age=now - ring.first if ring.first <= now else 0.0,
            shared=ring.shared,
        )

    def members(self, account: str, ts: float, limit: int = 50) -> list[str]:
        """Up to ``limit`` members of the ring of ``account`` as of ``ts``, smallest ids first.

        Bounded evidence for a verdict: the ring itself may be much larger (see ``ring``).
        """
        if account not in self._ring:
            return [account][:limit]
        self.ring(account, ts)  # brings the ring up to date
        table = self._ring
        ring = table[account]
        return nsmallest(limit, {n for n in ring.nodes if table.get(n) is ring})

    # -- read-only views (the entity API): nothing is updated or rebuilt ------------------------

    def current_ring(self, account: str, limit: int = 50) -> tuple[str, int, list[str]] | None:
        """The ring ``account`` is in as last built: its id, size and up to ``limit`` members
        (smallest ids first), or None. Unlike :meth:`members` it never brings the ring up to
        date, so reading it changes nothing later events see."""
        ring = self._ring.get(account)
        if ring is None:
            return None
        table = self._ring
        # One pass over the ring (no sort of it: rings of thousands of accounts exist).
        members = [n for n in ring.nodes if table.get(n) is ring]
        return ring.min_member, len(members), nsmallest(limit, members)

    def attributes_of(self, account: str) -> list[tuple[str, str]]:
        """The (kind, value) attributes (devices, instruments, ...) the account is linked to."""
        return list(self._edges.get(account, {}))

    def holders_of(self, kind: str, value: str) -> list[str]:
        """The accounts linked to an attribute, least recently seen first."""
        return list(self._holders.get((kind, value), ()))

    # -- internals ------------------------------------------------------------------------------

    def _touch(self, account: str, now: float, cutoff: float) -> None:
        """Note activity of ``account``; a new streak gives it a new join time."""
        last = self._last.get(account)
        self._last[account] = now
        if last is not None and last >= cutoff:
            return
        self._join[account] = now
        if last is None:
            heappush(self._sweep_accounts, (now, account))
        ring = self._ring.get(account)
        if ring is None:
            ring = self._ring[account] = _Ring([account], account)
            ring.joins.append(now)
        else:
            # Back after a lapse the sweep has not noticed yet: the growth heap holds the old
            # join, so rebuild on next use.
            ring.min_last = _NEG_INF

    def _valid(self, account: str, now: float, cutoff: float) -> _Ring:
        ring = self._ring[account]
        if ring.min_last < cutoff and (
            len(ring.nodes) <= self.config.max_ring_size or now >= ring.recheck_at
        ):
            ring = self._rebuild(account, now, cutoff)
        return ring

    def _new_link(
        self,
        account: str,
        attr: _Attr,
        edges: dict[_Attr, _Span],
        holders: OrderedDict[str, float],
        now: float,
        cutoff: float,
    ) -> None:
        """A link that is new (or back after aging out): may join rings or make a hub."""
        cap = self._cap
        if len(holders) > cap and holders[next(iter(holders))] >= cutoff:
            live = cap + 1  # already a hub: every tracked holder is live
        else:
            live = 0
            for last in reversed(holders.values()):
                if last < cutoff:
                    break
                live += 1
        # Validate the rings involved before the link exists, so a rebuild does not count it.
        ring = self._valid(account, now, cutoff)
        # The newest holder, when any is live, is not ``account`` (whose own link is not live).
        newest = next(reversed(holders)) if live else account
        other: _Ring | None = None
        if 0 < live < cap:
            other = self._valid(newest, now, cutoff)
            ring = self._ring[account]
        edges[attr] = (now, now)
        holders[account] = now
        holders.move_to_end(account)
        if len(holders) > cap + 1:
            holders.popitem(last=False)
        if live >= cap:
            if live == cap:
                # It turns into a hub: the ring it held together may fall apart.
                self._ring[newest].min_last = _NEG_INF
            # It links again when its oldest tracked holder ages out.
            oldest = holders[next(iter(holders))]
            if oldest < ring.min_last:
                ring.min_last = oldest
            return
        if other is None:
            return  # a value only ``account`` holds: links nobody, its aging changes nothing
        ring = self._union(ring, other)
        if live == 1:
            # Newly shared: both links now hold the ring together (with more holders, the older
            # links already count and this one is the newest).
            ring.shared += 1
            first, last = self._edges[newest][attr]
            if first < ring.first:
                ring.first = first
            if last < ring.min_last:
                ring.min_last = last

    def _union(self, ring: _Ring, other: _Ring) -> _Ring:
        if ring is other:
            return ring
        if len(ring.nodes) < len(other.nodes):
            ring, other = other, ring
        table = self._ring
        nodes = ring.nodes
        for node in other.nodes:
            if table.get(node) is other:  # skip members that already left it
                table[node] = ring
                nodes.append(node)
        ring.first = min(ring.first, other.first)
        ring.min_last = min(ring.min_last, other.min_last)
        ring.shared += other.shared
        if other.min_member < ring.min_member:
            ring.min_member = other.min_member
        ring.recheck_at = max(ring.recheck_at, other.recheck_at)
        joins = ring.joins
        for join in other.joins:
            heappush(joins, join)
        return ring

    def _rebuild(self, account: str, now: float, cutoff: float) -> _Ring:
        """Recompute the ring of ``account`` (and any it now touches) from the live links."""
        table = self._ring
        stale = table[account]
        todo: list[str] = []
        for node in stale.nodes:
            if table.get(node) is stale:  # not one that left (or came back to it twice)
                del table[node]
                todo.append(node)
        edges_of = self._edges
        refs_of = self._refs
        holders_of = self._holders
        join_of = self._join
        hub_size = self._cap + 1
        seen: set[_Attr] = set()
        floor = now - self.config.growth_window
        for root in todo:
            if root in table:
                continue
            ring = _Ring([root], root)
            table[root] = ring
            nodes = ring.nodes
            first = _INF
            min_last = _INF
            shared = 0
            stack = [root]
            reached: list[str] = []
            while stack:
                node = stack.pop()
                edges = edges_of.get(node)
                if edges:
                    dead: list[_Attr] = []
                    for attr, (_, last) in edges.items():
                        if last < cutoff:
                            dead.append(attr)
                            continue
                        holders = holders_of[attr]
                        if len(holders) >= hub_size:
                            oldest = holders[next(iter(holders))]
                            if oldest >= cutoff:  # a hub: links nobody until ``oldest`` ages out
                                min_last = min(min_last, oldest)
                                continue
                        if attr in seen:
                            continue
                        seen.add(attr)
                        group = []
                        for holder, held in reversed(holders.items()):
                            if held < cutoff:
                                break
                            group.append(holder)
                        if len(group) < 2:
                            continue  # held by ``node`` alone: its aging changes nothing
                        shared += 1
                        for holder in group:
                            start, last = edges_of[holder][attr]
                            first = min(first, start)
                            min_last = min(min_last, last)
                        reached += group
                    for attr in dead:
                        del edges[attr]
                refs = refs_of.get(node)
                if refs:
                    for other, (start, last) in refs.items():
                        if last >= cutoff:
                            first = min(first, start)
                            min_last = min(min_last, last)
                            reached.append(other)
                for other in reached:
                    owner = table.get(other)
                    if owner is ring:
                        continue
                    if owner is not None:
                        # Joined through a value that stopped being a hub: take that ring apart
                        # too, its members are re-placed from scratch.
                        for member in owner.nodes:
                            if table.get(member) is owner:
                                del table[member]
                                todo.append(member)
                    table[other] = ring
                    nodes.append(other)
                    stack.append(other)
                reached.clear()
            ring.first = first
            ring.min_last = min_last
            ring.shared = shared
            ring.min_member = min(nodes)
            ring.joins = [j for n in nodes if (j := join_of[n]) >= floor]
            heapify(ring.joins)
            if len(nodes) > self.config.max_ring_size:
                ring.recheck_at = now + self.config.recheck
        return table[account]

    def _sweep(self, cutoff: float) -> None:
        """Forget accounts and values with nothing live left (memory only: answers unchanged)."""
        heap = self._sweep_accounts
        while heap and heap[0][0] < cutoff:
            _, account = heappop(heap)
            last = self._last[account]
            if last >= cutoff:
                heappush(heap, (last, account))
                continue
            del self._last[account], self._join[account]
            self._edges.pop(account, None)
            for other in self._refs.pop(account, {}):
                back = self._refs.get(other)
                if back is not None:
                    back.pop(account, None)
            # Its ring, if shared, is already invalid (its links aged out): it keeps the name
            # until rebuilt, and the rebuild skips it.
            del self._ring[account]
        held = self._sweep_holders
        while held and held[0][0] < cutoff:
            _, kind, value = heappop(held)
            holders = self._holders[kind, value]
            newest = holders[next(reversed(holders))] if holders else _NEG_INF
            if newest >= cutoff:
                heappush(held, (newest, kind, value))
            else:
                del self._holders[kind, value]

    # -- checkpoints ----------------------------------------------------------------------------

    def state(self) -> RingsState:
        """A checkpoint of everything, in the orders that matter (see ``rings_state``)."""
        index: dict[int, int] = {}
        records: list[RingRecord] = []
        membership: list[tuple[str, int]] = []
        for account, ring in self._ring.items():
            at = index.get(id(ring))
            if at is None:
                at = index[id(ring)] = len(records)
                records.append(
                    RingRecord(
                        nodes=list(ring.nodes),
                        min_member=ring.min_member,
                        first=ring.first,
                        min_last=ring.min_last,
                        shared=ring.shared,
                        recheck_at=ring.recheck_at,
                        joins=list(ring.joins),
                    )
                )
            membership.append((account, at))
        return RingsState(
            now=self.now_,
            accounts=[(a, self._join[a], last) for a, last in self._last.items()],
            edges=[
                (a, kind, value, first, last)
                for a, edges in self._edges.items()
                for (kind, value), (first, last) in edges.items()
            ],
            holders=[(kind, value, list(h.items())) for (kind, value), h in self._holders.items()],
            referrals=[
                (a, b, first, last)
                for a, refs in self._refs.items()
                for b, (first, last) in refs.items()
            ],
            rings=records,
            membership=membership,
            sweep_accounts=list(self._sweep_accounts),
            sweep_holders=list(self._sweep_holders),
        )

    def load_state(self, state: RingsState) -> None:
        """Replace everything with the checkpoint ``state`` (same config assumed)."""
        self._reset()
        self.now_ = state.now
        for account, join, last in state.accounts:
            self._join[account] = join
            self._last[account] = last
        for account, kind, value, first, last in state.edges:
            self._edges.setdefault(account, {})[kind, value] = (first, last)
        for kind, value, held in state.holders:
            self._holders[kind, value] = OrderedDict(held)
        for account, other, first, last in state.referrals:
            self._refs.setdefault(account, {})[other] = (first, last)
        rings: list[_Ring] = []
        for record in state.rings:
            ring = _Ring(list(record.nodes), record.min_member)
            ring.first = record.first
            ring.min_last = record.min_last
            ring.shared = record.shared
            ring.recheck_at = record.recheck_at
            ring.joins = list(record.joins)
            rings.append(ring)
        self._ring = {account: rings[at] for account, at in state.membership}
        self._sweep_accounts = [(t, a) for t, a in state.sweep_accounts]
        self._sweep_holders = [(t, k, v) for t, k, v in state.sweep_holders]
