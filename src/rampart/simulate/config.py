"""World parameters: presets (how big) × difficulties (how hard the attackers are to see).

A :class:`WorldConfig` is plain, frozen data; everything the simulator does follows from it and
its seed, so two runs of one config give byte-identical output.

>>> cfg = world_config("tiny", "easy", seed=3)
>>> (cfg.n_users, cfg.days, cfg.attack.datacenter_share > 0.5)
(300, 1, True)
>>> world_config("demo").difficulty
'hard'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

PRESETS: tuple[str, ...] = ("tiny", "small", "demo", "large")
DIFFICULTIES: tuple[str, ...] = ("easy", "hard")


@dataclass(frozen=True)
class AttackKnobs:
    """How attackers behave; ``easy`` is blatant, ``hard`` hides in the crowd.

    Every campaign reads these, so one switch changes every tactic consistently.
    """

    scale: float = 1.0  # multiplier on campaign sizes (entities)
    pace: float = 1.0  # multiplier on attacker delays; > 1 is slower, more human
    jitter_s: float = 5.0  # spread of coordinated actions around their shared moment
    camouflage: float = 0.1  # ordinary-looking sessions per attacker account per day
    accounts_per_device: float = 8.0  # device reuse across fake accounts
    accounts_per_instrument: float = 6.0  # payment instrument reuse across fake accounts
    datacenter_share: float = 0.9  # share of attacker traffic from hosting ranges (vs proxies)
    emulator_share: float = 0.85  # share of attacker app devices that report an emulator
    headless_share: float = 0.9  # share of attacker web clients that are visibly headless
    aged_share: float = 0.1  # share of fake accounts registered months before the window
    disposable_email_share: float = 0.6  # share of fake signups on disposable mail domains
    patterned_email_share: float = 0.35  # share using name+counter / dot / plus patterns
    address_variants: bool = False  # spell a shared drop address differently per account
    lockstep_window_s: float = 60.0  # how tightly a farm's actions bunch together


EASY = AttackKnobs()
HARD = AttackKnobs(
    scale=1.0,
    pace=4.0,
    jitter_s=900.0,
    camouflage=1.2,
    accounts_per_device=2.5,
    accounts_per_instrument=2.0,
    datacenter_share=0.15,
    emulator_share=0.2,
    headless_share=0.1,
    aged_share=0.55,
    disposable_email_share=0.04,
    patterned_email_share=0.15,
    address_variants=True,
    lockstep_window_s=1800.0,
)


@dataclass(frozen=True)
class WorldConfig:
    """All knobs of one simulated marketplace.

    ``activity`` is the mean number of app/web sessions per user per day; real marketplaces have a
    few very active users and many occasional ones, so per-user rates are drawn around it.
    """

    seed: int = 7
    preset: str = "demo"
    difficulty: str = "hard"
    n_users: int = 6000
    days: int = 5
    start: str = "2026-03-02T00:00:00Z"  # a Monday, so weekly rhythm starts clean
    activity: float = 0.9
    countries: tuple[tuple[str, float], ...] = (
        ("ID", 0.30),
        ("TH", 0.17),
        ("VN", 0.15),
        ("PH", 0.14),
        ("MY", 0.13),
        ("SG", 0.11),
    )
    seller_share: float = 0.05  # share of accounts that also run a shop
    items_per_seller: float = 14.0  # mean; shop sizes are heavy-tailed
    new_signup_share: float = 0.04  # users whose account is created inside the window
    anonymous_share: float = 0.25  # anonymous browsing sessions per user session
    household_share: float = 0.35  # share of users living with another account holder
    shared_device_share: float = 0.25  # multi-account households sharing a tablet/PC
    office_share: float = 0.18
    campus_share: float = 0.06
    traveller_share: float = 0.02
    phone_change_share: float = 0.015
    heavy_buyer_share: float = 0.004
    crawler_rate_per_item_day: float = 0.35  # polite crawler hits per catalog item per day
    abuse_share: float = 0.03  # fake accounts as a share of users
    attack: AttackKnobs = field(default_factory=AttackKnobs)

    def knobs(self) -> dict[str, Any]:
        """Plain-data view for truth.json."""
        data = asdict(self)
        data["countries"] = dict(self.countries)
        return data


_PRESET_SIZES: dict[str, dict[str, Any]] = {
    # tiny must still hold every campaign: sizes have floors, so abuse is a larger share here.
    "tiny": {"n_users": 300, "days": 1, "activity": 1.3, "items_per_seller": 10.0},
    "small": {"n_users": 1500, "days": 2, "activity": 1.0},
    "demo": {"n_users": 6000, "days": 5, "activity": 0.9},
    # many registered users, most of them occasional: a two-week slice of a bigger marketplace.
    "large": {"n_users": 50_000, "days": 14, "activity": 0.16, "items_per_seller": 12.0},
}


def world_config(preset: str = "demo", difficulty: str = "hard", seed: int = 7) -> WorldConfig:
    """The config of a named preset at a difficulty; tweak further with ``dataclasses.replace``."""
    if preset not in _PRESET_SIZES:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; known: {', '.join(DIFFICULTIES)}")
    base = WorldConfig(seed=seed, preset=preset, difficulty=difficulty)
    attack = EASY if difficulty == "easy" else HARD
    return replace(base, attack=attack, **_PRESET_SIZES[preset])
