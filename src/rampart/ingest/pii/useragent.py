"""Features of a User-Agent header: what software claims to be on the other end.

A User-Agent is not PII by itself (millions of browsers send each common one), but the raw
string is long and high-cardinality, so detectors get these fields instead:

- ``family``/``major``, ``os_family``, ``device_family``: from ua-parser (``"Other"`` when unknown);
- ``headless``: a headless browser says so (``HeadlessChrome``, ``PhantomJS``, ``SlimerJS``,
  any ``Headless`` marker);
- ``automation``: a script, HTTP library or browser-automation tool, by the markers in
  ``AUTOMATION_MARKERS`` (Selenium/WebDriver, Puppeteer, Playwright, Cypress, Nightmare;
  python-requests, urllib, aiohttp, httpx, Scrapy; curl, Wget, HTTPie; Go-http-client; Java's
  default agent, Apache-HttpClient, a bare okhttp; node-fetch, axios, undici, got; PHP/Guzzle,
  Ruby, Perl libwww, .NET HttpClient; Postman, Insomnia). okhttp and Ruby count only as the
  whole agent: real Android apps use okhttp under their own agent string;
- ``crawler``: polite crawlers identify themselves (Googlebot, bingbot, Applebot, ...): ua-parser's
  "Spider" device, or a ``...bot/``, ``crawler``, ``spider`` or ``slurp`` marker;
- ``empty``: no agent at all, itself a bot signal.

Parsing costs ~30 µs on a miss (and ~0.1 s once, when ua-parser loads its rules on first use),
and a marketplace sees few distinct agents: results are cached per string.

>>> f = user_agent_features("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
...                         "Gecko) HeadlessChrome/120.0.0.0 Safari/537.36")
>>> f.family, f.major, f.os_family, f.headless, f.automation, f.crawler
('HeadlessChrome', 120, 'Linux', True, False, False)
>>> user_agent_features("python-requests/2.31.0").automation
True
>>> user_agent_features("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)").crawler
True
>>> user_agent_features("  ").empty
True
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import msgspec
from ua_parser import parse

CACHE_SIZE: Final = 1 << 14
# Real agents are < 300 characters; longer ones are padded to defeat parsers and caches.
MAX_UA_CHARS: Final = 512
OTHER: Final = "Other"

HEADLESS_MARKERS: Final = ("headless", "phantomjs", "slimerjs")
AUTOMATION_MARKERS: Final = (
    "selenium",
    "webdriver",
    "puppeteer",
    "playwright",
    "cypress",
    "nightmare",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "httpx",
    "scrapy",
    "curl/",
    "wget/",
    "httpie",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "node-fetch",
    "axios/",
    "undici",
    "got (",
    "guzzlehttp",
    "php/",
    "libwww-perl",
    "lwp::",
    "httpclient",
    "postmanruntime",
    "insomnia",
)
# Generic names count only as the whole agent: "Ruby" is Ruby's Net::HTTP default, while an
# app may well mention okhttp or ruby in its own agent string.
_AUTOMATION = re.compile(
    "|".join(map(re.escape, AUTOMATION_MARKERS)) + r"|^okhttp/[\d.]+$|^ruby(?:/[\d.]+)?$"
)
_HEADLESS = re.compile("|".join(map(re.escape, HEADLESS_MARKERS)))
# "bot" alone would match phone brands (CUBOT): require "<name>bot/" or a "bot" word.
_CRAWLER = re.compile(r"[a-z]bot/|\bbot\b|crawler|spider|slurp|facebookexternalhit|\bbot[-_]")


class UserAgentFeatures(msgspec.Struct, frozen=True):
    """What detectors see of a User-Agent (``major`` is the browser's major version)."""

    empty: bool
    family: str
    major: int | None
    os_family: str
    device_family: str
    headless: bool
    automation: bool
    crawler: bool


EMPTY: Final = UserAgentFeatures(True, OTHER, None, OTHER, OTHER, False, False, False)


def user_agent_features(ua: str) -> UserAgentFeatures:
    """Features of the User-Agent ``ua``; never raises.

    >>> f = user_agent_features("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
    ...     "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
    >>> f.family, f.os_family, f.device_family, f.automation
    ('Mobile Safari', 'iOS', 'iPhone', False)
    >>> user_agent_features("okhttp/4.9.2").automation
    True
    >>> user_agent_features("MyShop/5.1 (Android 14) okhttp/4.9.2").automation
    False
    """
    return _features(ua[:MAX_UA_CHARS].strip())


@lru_cache(maxsize=CACHE_SIZE)
def _features(ua: str) -> UserAgentFeatures:
    if not ua:
        return EMPTY
    lowered = ua.lower()
    try:
        result = parse(ua)
    except Exception:
        # A third-party parser on hostile input: the markers below still apply.
        result = None
    agent = result.user_agent if result is not None else None
    os_ = result.os if result is not None else None
    device = result.device if result is not None else None
    device_family: str = device.family if device is not None else OTHER
    return UserAgentFeatures(
        empty=False,
        family=agent.family if agent is not None else OTHER,
        major=_int(agent.major) if agent is not None else None,
        os_family=os_.family if os_ is not None else OTHER,
        device_family=device_family,
        headless=_HEADLESS.search(lowered) is not None,
        automation=_AUTOMATION.search(lowered) is not None,
        crawler=device_family == "Spider" or _CRAWLER.search(lowered) is not None,
    )


def _int(text: str | None) -> int | None:
    # Bounded: int() of a huge digit string is slow (and refused past 4300 digits).
    if text is None or not (0 < len(text) <= 9 and text.isascii() and text.isdigit()):
        return None
    return int(text)
