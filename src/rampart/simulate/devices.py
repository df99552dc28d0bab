"""Devices and the ``device`` object events carry.

Emulator farms favour a few default models (the Korean Galaxy builds LDPlayer and Nox ship
with, the SDK images); a spoofed farm reports ``emulator: false`` and a real-looking model, so
only behaviour gives it away.

>>> import random
>>> from rampart.simulate.ids import IdFactory
>>> d = phone_device(random.Random(1), IdFactory(random.Random(2), set()), "SG")
>>> d.obj["platform"] in ("android", "ios") and d.obj["id"] == d.id
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from rampart.simulate.ids import IdFactory
from rampart.simulate.places import COUNTRIES

APP = "Pasar"
# recent releases dominate: most users auto-update
_APP_VERSIONS = (
    ("3.44.2", 40),
    ("3.44.1", 18),
    ("3.43.0", 15),
    ("3.42.5", 10),
    ("3.40.1", 6),
    ("3.38.0", 4),
    ("3.31.2", 2),
)
_VERSION_NAMES = tuple(v for v, _ in _APP_VERSIONS)
_VERSION_WEIGHTS = tuple(float(w) for _, w in _APP_VERSIONS)
_ANDROID = (
    ("SM-A546E", "14", "UP1A.231005.007"),
    ("SM-A155F", "14", "UP1A.231005.007"),
    ("SM-S918B", "14", "UP1A.231005.007"),
    ("23129RAA4G", "13", "TKQ1.221114.001"),
    ("2201117TG", "13", "TKQ1.221114.001"),
    ("CPH2591", "14", "UKQ1.230924.001"),
    ("V2250", "13", "TP1A.220624.014"),
    ("RMX3771", "13", "TP1A.220905.001"),
    ("X6833B", "13", "TP1A.220624.014"),
    ("SM-A135F", "12", "SP1A.210812.016"),
    ("M2101K6G", "12", "SKQ1.210908.001"),
    ("CPH2269", "11", "RP1A.200720.011"),
)
_IPHONES = (
    ("iPhone15,2", "17.4.1"),
    ("iPhone14,5", "17.3"),
    ("iPhone16,1", "17.4.1"),
    ("iPhone13,2", "16.7.5"),
    ("iPhone14,7", "17.2.1"),
    ("iPhone12,1", "16.6"),
)
EMULATOR_MODELS = (
    ("SM-G977N", "9"),
    ("SM-N976N", "9"),
    ("SM-G988N", "12"),
    ("sdk_gphone64_x86_64", "13"),
    ("ASUS_Z01QD", "9"),
)
_CHROME = ("122.0.6261.112", "123.0.6312.58", "121.0.6167.184", "122.0.6261.94")
_WEB_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{c} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{c} Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{c} Safari/537.36 Edg/122.0.2365.80",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{c} Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
_WEB_OS = ("Windows 10", "macOS 14", "macOS 14", "Windows 10", "Android 14", "iOS 17.4")
HEADLESS_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/{c} Safari/537.36"
)
SCRIPT_UAS = ("python-requests/2.31.0", "Go-http-client/1.1", "okhttp/4.9.3", "axios/1.6.7")


@dataclass(slots=True, eq=False)
class Device:
    id: str
    platform: str
    obj: dict[str, Any]  # shared by every event from this device; never mutated


def app_version(rng: random.Random) -> str:
    return rng.choices(_VERSION_NAMES, _VERSION_WEIGHTS)[0]


def phone_device(
    rng: random.Random,
    ids: IdFactory,
    country: str,
    *,
    ios: bool | None = None,
    emulator: bool = False,
    reports_emulator: bool = True,
    rooted: bool = False,
    version: str | None = None,
) -> Device:
    """A phone running the app; ``emulator`` picks a farm model, ``reports_emulator`` whether
    the SDK's check sees it (spoofing frameworks hide it)."""
    ver = version or app_version(rng)
    if ios is None:
        ios = rng.random() < COUNTRIES[country].ios_share if country in COUNTRIES else False
    if ios and not emulator:
        model, osv = rng.choice(_IPHONES)
        dev_id = ids.ios_device()
        obj: dict[str, Any] = {
            "id": dev_id,
            "platform": "ios",
            "os": f"iOS {osv}",
            "app_version": ver,
            "user_agent": f"{APP}/{ver} (iPhone; iOS {osv}; {model}; Scale/3.00)",
            "emulator": False,
            "rooted": rooted,
        }
        return Device(dev_id, "ios", obj)
    if emulator and reports_emulator:
        model, osv = rng.choice(EMULATOR_MODELS)
        build = "PQ3A.190705.003" if osv == "9" else "SE1A.220203.002"
    elif emulator:
        # spoofed: a mainstream model string on an old Android build, nothing flagged
        model, _, build = rng.choice(_ANDROID)
        osv = rng.choice(("9", "12"))
    else:
        model, osv, build = rng.choice(_ANDROID)
    dev_id = ids.android_device()
    obj = {
        "id": dev_id,
        "platform": "android",
        "os": f"Android {osv}",
        "app_version": ver,
        "user_agent": f"{APP}/{ver} (Linux; Android {osv}; {model} Build/{build})",
        "emulator": bool(emulator and reports_emulator),
        "rooted": rooted,
    }
    return Device(dev_id, "android", obj)


def web_device(
    rng: random.Random,
    ids: IdFactory,
    *,
    headless: bool = False,
    reports_headless: bool = True,
    user_agent: str | None = None,
) -> Device:
    """A browser (cookie id). Headless clients that patch their UA look like desktop Chrome."""
    chrome = rng.choice(_CHROME)
    k = rng.randrange(len(_WEB_UA))
    ua = user_agent or _WEB_UA[k].format(c=chrome)
    os_name = _WEB_OS[k]
    if headless and reports_headless and user_agent is None:
        ua, os_name = HEADLESS_UA.format(c=chrome), "Linux"
    elif headless and user_agent is None:
        ua, os_name = _WEB_UA[0].format(c=chrome), "Windows 10"
    dev_id = ids.web_device()
    obj: dict[str, Any] = {
        "id": dev_id,
        "platform": "web",
        "os": os_name,
        "user_agent": ua,
        "headless": bool(headless and reports_headless),
    }
    return Device(dev_id, "web", obj)
