"""Seeded random streams and identifiers.

Every component draws from its own named stream, so adding a campaign does not reshuffle the
legitimate world. Attackers and ordinary users get ids from the same :class:`IdFactory`
formats: nothing in an id says who made it.

>>> a = IdFactory(stream(1, "x"), set())
>>> b = IdFactory(stream(1, "x"), set())
>>> a.user() == b.user()
True
>>> a.user().startswith("u_")
True
"""

from __future__ import annotations

import random
import re
import zlib

import numpy as np

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B36U = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WORDS = re.compile(r"bot|fake|fraud|scam|spam|farm|abuse|attack|victim|camp", re.IGNORECASE)
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def stream(seed: int, name: str) -> random.Random:
    """A Python RNG for one component (seeded from a string via SHA-512, stable across runs)."""
    return random.Random(f"rampart-sim:{seed}:{name}")


def np_stream(seed: int, name: str) -> np.random.Generator:
    """A NumPy RNG for one component; crc32 keeps the name → seed mapping stable."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


class IdFactory:
    """Random ids in marketplace-like formats, unique across all factories sharing ``taken``."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken

    def _fresh(self, make: str, alphabet: str, n: int) -> str:
        choices = self.rng.choices
        while True:
            candidate = make + "".join(choices(alphabet, k=n))
            if _WORDS.search(candidate):
                continue  # like real id generators, never spell words (least of all these)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def user(self) -> str:
        return self._fresh("u_", _B36, 10)

    def session(self) -> str:
        # sessions are plentiful and never compared with other ids: skip the uniqueness set
        return f"{self.rng.getrandbits(64):016x}"

    def android_device(self) -> str:
        return self._fresh("", "0123456789abcdef", 16)

    def ios_device(self) -> str:
        h = self._fresh("", "0123456789ABCDEF", 32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def web_device(self) -> str:
        return self._fresh("wb.", _B62, 22)

    def instrument(self) -> str:
        return self._fresh("pm_", _B62, 18)

    def wallet(self) -> str:
        return self._fresh("wl_", _B62, 14)

    def order(self, yymmdd: str) -> str:
        # real order numbers carry the date; they show up in chat messages as digit runs
        return self._fresh(yymmdd, _B36U, 8)

    def conversation(self) -> str:
        return self._fresh("cv_", _B36, 12)

    def coupon(self) -> str:
        return self._fresh("cp_", _B36, 8)

    def live(self) -> str:
        return self._fresh("lv_", _B36, 9)

    def video(self) -> str:
        return self._fresh("vd_", _B36, 9)

    def ad(self) -> str:
        return self._fresh("ad_", _B36, 9)

    def tracking(self, prefix: str, digits: int, suffix: str = "") -> str:
        return self._fresh(prefix, "0123456789", digits) + suffix


def event_ids(rng: random.Random) -> EventIdSource:
    return EventIdSource(rng)


class EventIdSource:
    """Event ids are handed out in final time order at write time, so they carry no hint of
    which generator (legitimate or attack) made the event."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[int] = set()

    def next(self) -> str:
        bits = self.rng.getrandbits
        while True:
            n = bits(80)
            if n not in self.seen:  # hex digits cannot spell the words above
                self.seen.add(n)
                return f"ev_{n:020x}"
