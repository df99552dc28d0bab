"""Templated / near-duplicate reviews across accounts: an online MinHash-LSH index.

:class:`TemplatedTextIndex` takes reviews one at a time, in event-time order, and says for
each how many *other* authors posted a near-duplicate of it (estimated Jaccard similarity of
word shingles at least ``threshold``) within the horizon, the earliest time of those, and a
stable template id (the id of the first text of the cluster).

How:

- Text is normalised first: case, accents, punctuation, emoji, digits and extra whitespace go.
  A very long token (Thai, Chinese: no spaces) is cut into character trigrams.
- Shingles are runs of ``shingle_size`` tokens, hashed with CRC-32 (stable across processes,
  unlike ``hash``); the MinHash signature uses a fixed-seed multiply-add-shift hash family on
  NumPy ``uint64``.
- LSH: the signature is cut into ``bands``; texts sharing a band are candidates, and a
  candidate counts when the signatures agree on at least ``threshold`` of their positions.
  With 64 permutations in 16 bands a pair at Jaccard 0.7 becomes a candidate 98.8% of the
  time, at 0.8 99.98%.
- Matches join clusters (single link): a text that matches two clusters merges them, the
  older template id wins. A bucket keeps its ``bucket_cap`` newest entries only, so a template
  used by thousands of authors costs no more than a rare one.
- Short generic reviews ("good", "fast delivery thanks") have fewer than ``min_shingles``
  distinct shingles and are not indexed (``short``). Longer stock phrases that many people
  write naturally ("good product fast delivery recommended seller") do cluster: the author
  count is reported and ``common`` is set from ``common_authors`` authors on, so that callers
  treat a template that half the marketplace uses as ordinary.
- Entries age out after ``horizon`` seconds of event time, and the oldest go first beyond
  ``max_entries``.

>>> index = TemplatedTextIndex(TemplateConfig(min_shingles=4))
>>> index.add("u1", "Barang bagus sekali, pengiriman cepat, seller ramah. Mantap!!", 0.0)
TemplateMatch(template_id=0, authors=0, first_ts=None, similarity=0.0, common=False, short=False)
>>> m = index.add("u2", "barang BAGUS sekali 👍 pengiriman cepat seller ramah mantap", 60.0)
>>> m.template_id, m.authors, m.first_ts, m.similarity
(0, 1, 0.0, 1.0)
>>> index.add("u3", "mantap", 120.0).short
True
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import deque
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

__all__ = [
    "TemplateConfig",
    "TemplateMatch",
    "TemplateState",
    "TemplatedTextIndex",
    "minhash",
    "normalise",
    "shingles",
]

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]


class TemplateConfig(msgspec.Struct, frozen=True):
    """Parameters of a :class:`TemplatedTextIndex` (``num_perm`` must split into ``bands``)."""

    shingle_size: int = 2
    num_perm: int = 64
    bands: int = 16
    threshold: float = 0.7
    horizon: float = 30 * 86400.0
    max_entries: int = 200_000
    min_shingles: int = 5
    common_authors: int = 50
    bucket_cap: int = 8
    seed: int = 0x5EED

    def __post_init__(self) -> None:
        if self.num_perm <= 0 or self.bands <= 0 or self.num_perm % self.bands:
            raise ValueError("num_perm must be a positive multiple of bands")
        if self.shingle_size < 1 or self.min_shingles < 1 or self.bucket_cap < 1:
            raise ValueError("shingle_size, min_shingles and bucket_cap must be at least 1")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")


class TemplateMatch(msgspec.Struct, frozen=True):
    """The answer for one text: other authors of near-duplicates seen within the horizon.

    ``template_id`` is -1 and ``short`` true for a text too short to be indexed.
    """

    template_id: int = -1
    authors: int = 0
    first_ts: float | None = None
    similarity: float = 0.0
    common: bool = False
    short: bool = False


_SHORT: Final = TemplateMatch(short=True)


class EntryState(msgspec.Struct, array_like=True, frozen=True):
    """One live entry: its id, author, event time, template id and signature bytes."""

    id: int
    author: str
    ts: float
    template: int
    signature: bytes


class TemplateState(msgspec.Struct, frozen=True):
    """Everything a :class:`TemplatedTextIndex` knows; the live entries oldest first."""

    config: TemplateConfig
    next_id: int
    entries: list[EntryState]


# --- normalisation and shingles --------------------------------------------------------------
# ASCII text (most reviews) takes a fast path: lower-case, punctuation to spaces, digits dropped
# (amounts, sizes, counts vary between copies of a template), split. Other text: accents are
# stripped and words taken by a pattern, so that emoji and symbols go too.
_ASCII_TABLE: Final = {c: " " for c in range(128) if not chr(c).isalnum()} | {
    ord(d): None for d in "0123456789"
}
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
_ACCENT_RE: Final = re.compile("[\u0300-\u036f]")
_LONG_TOKEN: Final = 20
_MASK64: Final = (1 << 64) - 1


def _tokens(text: str) -> list[str]:
    t = text.lower()
    if t.isascii():
        return t.translate(_ASCII_TABLE).split()
    t = _ACCENT_RE.sub("", unicodedata.normalize("NFKD", t))
    out: list[str] = []
    for tok in _WORD_RE.findall(t):
        if len(tok) > _LONG_TOKEN:  # a script without spaces (Thai, Chinese): trigrams
            out.extend(tok[i : i + 3] for i in range(len(tok) - 2))
        else:
            out.append(tok)
    return out


def normalise(text: str) -> str:
    """The normalised text that shingles are taken from.

    >>> normalise("So GOOD!!! 😍 Arrived in 3 days, 100% original 👍 Très bien")
    'so good arrived in days original tres bien'
    """
    return " ".join(_tokens(text))


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _hash_family(seed: int, n: int) -> tuple[U64, U64]:
    """Multipliers (odd) and offsets of ``n`` hash functions (drawn with SplitMix64, not
    NumPy's generators: their streams may change between NumPy versions)."""
    state = seed & _MASK64
    values: list[int] = []
    for _ in range(2 * n):
        state, v = _splitmix64(state)
        values.append(v)
    a = np.array(values[:n], dtype=np.uint64) | np.uint64(1)
    b = np.array(values[n:], dtype=np.uint64)
    return a, b


_FAMILIES: dict[tuple[int, int], tuple[U64, U64]] = {}


def _family(config: TemplateConfig) -> tuple[U64, U64]:
    key = (config.seed, config.num_perm)
    fam = _FAMILIES.get(key)
    if fam is None:
        fam = _FAMILIES[key] = _hash_family(*key)
    return fam


# Per token: the CRC-32 of its UTF-8 bytes, and the bytes after a space. A shingle's hash is
# then the CRC-32 of its text "w1 w2", chained (crc32(b" w2", crc32(b"w1"))): stable across
# processes and machines. A pure function of the token, so the bounded cache changes nothing.
_TOKEN_CACHE: dict[str, tuple[int, bytes]] = {}
_TOKEN_CACHE_MAX: Final = 200_000
_SHIFT: Final = np.uint64(32)


def _token_entries(tokens: list[str]) -> list[tuple[int, bytes]]:
    cache = _TOKEN_CACHE
    out = list(map(cache.get, tokens))
    if None in out:
        if len(cache) > _TOKEN_CACHE_MAX:
            cache.clear()
        for i, e in enumerate(out):
            if e is None:
                raw = tokens[i].encode()
                out[i] = cache[tokens[i]] = (zlib.crc32(raw), b" " + raw)
    return out  # type: ignore[return-value]


def _shingle_hashes(tokens: list[str], k: int) -> list[int]:
    """CRC-32 of each run of ``k`` tokens (with repeats); fewer tokens: the whole text."""
    if not tokens:
        return []
    entries = _token_entries(tokens)
    crc32 = zlib.crc32
    if k == 1:
        return [c for c, _ in entries]
    n = len(tokens) - k + 1
    if n <= 0:
        k, n = len(tokens), 1
    if k == 2:
        return [crc32(entries[i + 1][1], entries[i][0]) for i in range(n)]
    out: list[int] = []
    for i in range(n):
        h = entries[i][0]
        for j in range(i + 1, i + k):
            h = crc32(entries[j][1], h)
        out.append(h)
    return out


_DEFAULT_CONFIG: Final = TemplateConfig()


def shingles(text: str, config: TemplateConfig = _DEFAULT_CONFIG) -> frozenset[int]:
    """The set of shingle hashes of ``text`` (for exact Jaccard in tests and tools).

    >>> from zlib import crc32
    >>> shingles("Good product, fast!") == {crc32(b"good product"), crc32(b"product fast")}
    True
    """
    return frozenset(_shingle_hashes(_tokens(text), config.shingle_size))


def _signature(sh: list[int], a: U64, b: U64) -> U32:
    # Multiply-add-shift (Dietzfelbinger): 2-independent 32-bit hashes of 32-bit keys. The
    # shift is taken after the minimum: the smallest 64-bit value has the smallest top half.
    # Shingles x functions, reduced over shingles: NumPy's fastest layout for a minimum.
    m = np.multiply(np.array(sh, dtype=np.uint64)[:, None], a)
    m += b
    sig: U32 = (np.minimum.reduce(m, axis=0) >> _SHIFT).astype(np.uint32)
    return sig


def minhash(text: str, config: TemplateConfig = _DEFAULT_CONFIG) -> U32:
    """The MinHash signature of ``text`` (``num_perm`` values, same in every process).

    >>> c = TemplateConfig()
    >>> s1 = minhash("the quick brown fox jumps over the lazy dog", c)
    >>> s2 = minhash("The quick brown fox jumped over the lazy dog!", c)
    >>> s1.shape, bool((s1 == minhash("the QUICK brown fox, jumps over the lazy dog", c)).all())
    ((64,), True)
    >>> 0.4 < float((s1 == s2).mean()) < 0.9
    True
    """
    a, b = _family(config)
    return _signature(_shingle_hashes(_tokens(text), config.shingle_size), a, b)


# --- the index -------------------------------------------------------------------------------
class _Cluster:
    """A template seen more than once (a lone text is its own cluster, with no object)."""

    __slots__ = ("authors", "members")

    def __init__(self, members: deque[int], authors: dict[str, int]) -> None:
        self.authors = authors  # author -> live entries
        self.members = members  # entry ids, oldest first


_Bucket = int | tuple[int, ...]  # one entry id, or the newest few


class TemplatedTextIndex:
    """Online near-duplicate index over (author, text, ts); see the module docstring."""

    def __init__(self, config: TemplateConfig | None = None) -> None:
        self._configure(config or TemplateConfig())

    def _configure(self, config: TemplateConfig) -> None:
        """Set the config and start empty."""
        self.config = config
        self._a, self._b = _family(config)
        self._band_bytes = 4 * config.num_perm // config.bands
        self._min_agree = config.threshold * config.num_perm - 1e-9
        # Few container objects per entry (ints, bytes and tuples of them): the cyclic garbage
        # collector then has little to walk, which matters at hundreds of thousands of entries.
        self._buckets: list[dict[bytes, _Bucket]] = [{} for _ in range(config.bands)]
        self._entries: dict[int, tuple[str, float, bytes]] = {}
        self._cluster_of: dict[int, int] = {}  # only for entries of multi-entry clusters
        self._clusters: dict[int, _Cluster] = {}
        self._first = 0  # oldest live id; live ids are first .. next_id - 1
        self._next = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, author: str, text: str, ts: float) -> TemplateMatch:
        """Index one text and say who posted near-duplicates of it before (within the horizon)."""
        self._expire(ts - self.config.horizon)
        sh = _shingle_hashes(_tokens(text), self.config.shingle_size)
        if len(sh) < self.config.min_shingles or len(set(sh)) < self.config.min_shingles:
            return _SHORT
        sig = _signature(sh, self._a, self._b).tobytes()
        step = self._band_bytes
        keys = [sig[i : i + step] for i in range(0, len(sig), step)]

        found: list[_Bucket] = []
        for bucket, key in zip(self._buckets, keys, strict=True):
            ids = bucket.get(key)
            if ids is not None:
                found.append(ids)
        cid = self._next
        similarity = 0.0
        if found:
            cands = sorted({i for ids in found for i in ((ids,) if isinstance(ids, int) else ids)})
            entries = self._entries
            block = np.frombuffer(b"".join([entries[i][2] for i in cands]), np.uint32)
            agree = np.count_nonzero(
                block.reshape(len(cands), -1) == np.frombuffer(sig, np.uint32), axis=1
            )
            best = int(agree.max())
            if best >= self._min_agree:
                similarity = best / self.config.num_perm
                of = self._cluster_of
                hits = np.flatnonzero(agree >= self._min_agree).tolist()
                cid = self._join({of.get(cands[i], cands[i]) for i in hits})
        match = self._answer(cid, author, similarity)
        self._insert(author, ts, sig, keys, cid)
        if len(self._entries) > self.config.max_entries:
            self._drop_oldest()
        return match

    def _answer(self, cid: int, author: str, similarity: float) -> TemplateMatch:
        cluster = self._clusters.get(cid)
        if cluster is None:
            if cid == self._next:
                return TemplateMatch(template_id=cid)
            e_author, e_ts, _ = self._entries[cid]  # a lone text
            if e_author == author:
                return TemplateMatch(template_id=cid, similarity=similarity)
            return TemplateMatch(
                template_id=cid,
                authors=1,
                first_ts=e_ts,
                similarity=similarity,
                common=self.config.common_authors <= 2,
            )
        others = len(cluster.authors) - (author in cluster.authors)
        first_ts = None
        for eid in cluster.members:
            e_author, e_ts, _ = self._entries[eid]
            if e_author != author:
                first_ts = e_ts
                break
        return TemplateMatch(
            template_id=cid,
            authors=others,
            first_ts=first_ts,
            similarity=similarity,
            common=others + 1 >= self.config.common_authors,
        )

    def _cluster(self, cid: int) -> _Cluster:
        """The cluster object of ``cid``, made when a lone text gets its first match (or, when
        restoring, for a template whose first text has aged out)."""
        cluster = self._clusters.get(cid)
        if cluster is None:
            entry = self._entries.get(cid)
            if entry is None:
                cluster = _Cluster(deque(), {})
            else:
                cluster = _Cluster(deque([cid]), {entry[0]: 1})
                self._cluster_of[cid] = cid
            self._clusters[cid] = cluster
        return cluster

    def _join(self, cids: set[int]) -> int:
        """Merge the clusters into the oldest one (single link); its id."""
        keep = min(cids)
        if len(cids) > 1:
            target = self._cluster(keep)
            for cid in sorted(cids - {keep}):
                moved = self._clusters.pop(cid, None) or _Cluster(
                    deque([cid]), {self._entries[cid][0]: 1}
                )
                for eid in moved.members:
                    self._cluster_of[eid] = keep
                for a, n in moved.authors.items():
                    target.authors[a] = target.authors.get(a, 0) + n
                target.members = deque(sorted([*target.members, *moved.members]))
        return keep

    def _insert(self, author: str, ts: float, sig: bytes, keys: list[bytes], cid: int) -> None:
        eid = self._next
        self._next += 1
        self._entries[eid] = (author, ts, sig)
        if cid != eid:
            cluster = self._cluster(cid)
            self._cluster_of[eid] = cid
            cluster.members.append(eid)
            cluster.authors[author] = cluster.authors.get(author, 0) + 1
        cap = self.config.bucket_cap
        for bucket, key in zip(self._buckets, keys, strict=True):
            ids = bucket.get(key)
            if ids is None:
                bucket[key] = eid
            elif isinstance(ids, int):
                bucket[key] = (ids, eid) if cap > 1 else eid
            else:
                bucket[key] = (*ids[1:], eid) if len(ids) >= cap else (*ids, eid)

    def _expire(self, cutoff: float) -> None:
        # First in, first out: with events in time order the oldest entry expires first.
        while self._first < self._next and self._entries[self._first][1] < cutoff:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        eid = self._first
        self._first += 1
        author, _, sig = self._entries.pop(eid)
        cid = self._cluster_of.pop(eid, eid)
        cluster = self._clusters.get(cid)
        if cluster is not None:
            cluster.members.popleft()
            left = cluster.authors[author] - 1
            if left:
                cluster.authors[author] = left
            else:
                del cluster.authors[author]
                if not cluster.authors:
                    del self._clusters[cid]
        step = self._band_bytes
        for i, bucket in enumerate(self._buckets):
            key = sig[i * step : (i + 1) * step]
            ids = bucket.get(key)
            # the oldest live id is at the front of every bucket that still holds it
            if ids == eid:
                del bucket[key]
            elif isinstance(ids, tuple) and ids[0] == eid:
                bucket[key] = ids[1] if len(ids) == 2 else ids[1:]

    # --- state -------------------------------------------------------------------------------
    def state(self) -> TemplateState:
        """A msgspec-serialisable snapshot; :meth:`load_state` of it replays identically."""
        of = self._cluster_of
        return TemplateState(
            config=self.config,
            next_id=self._next,
            entries=[
                EntryState(eid, a, ts, of.get(eid, eid), sig)
                for eid, (a, ts, sig) in self._entries.items()
            ],
        )

    def load_state(self, state: TemplateState) -> None:
        """Replace everything with ``state`` (its config included)."""
        self._configure(state.config)
        step = self._band_bytes
        for e in state.entries:
            self._next = e.id
            if not self._entries:
                self._first = e.id
            keys = [e.signature[i : i + step] for i in range(0, len(e.signature), step)]
            self._insert(e.author, e.ts, e.signature, keys, e.template)
        self._next = state.next_id
        if not self._entries:
            self._first = state.next_id
