"""User-Agent features: parsed families plus headless, automation and crawler markers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.useragent import EMPTY, MAX_UA_CHARS, user_agent_features

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"
CUBOT = (
    "Mozilla/5.0 (Linux; Android 9; CUBOT_X19) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("ua", "family", "major", "os_family", "device_family"),
    [
        (CHROME_WIN, "Chrome", 120, "Windows", "Other"),
        (SAFARI_IPHONE, "Mobile Safari", 17, "iOS", "iPhone"),
        (CHROME_ANDROID, "Chrome Mobile", 120, "Android", "Samsung SM-S918B"),
        (FIREFOX_MAC, "Firefox", 120, "Mac OS X", "Mac"),
    ],
)
def test_real_browsers(
    ua: str, family: str, major: int, os_family: str, device_family: str
) -> None:
    f = user_agent_features(ua)
    assert (f.family, f.major, f.os_family, f.device_family) == (
        family,
        major,
        os_family,
        device_family,
    )
    assert (f.empty, f.headless, f.automation, f.crawler) == (False, False, False, False)


def test_phone_brand_ending_in_bot_is_not_a_crawler() -> None:
    assert not user_agent_features(CUBOT).crawler


@pytest.mark.parametrize(
    "ua",
    [
        CHROME_WIN.replace("Chrome/", "HeadlessChrome/"),
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 SlimerJS/1.0.0",
        "Mozilla/5.0 (X11; Linux x86_64) Headless Firefox",
    ],
)
def test_headless(ua: str) -> None:
    assert user_agent_features(ua).headless


@pytest.mark.parametrize(
    "ua",
    [
        "python-requests/2.31.0",
        "Python-urllib/3.11",
        "python-httpx/0.27.0",
        "aiohttp/3.9.1",
        "Scrapy/2.11.0 (+https://scrapy.org)",
        "curl/8.4.0",
        "Wget/1.21.4",
        "HTTPie/3.2.2",
        "Go-http-client/1.1",
        "Java/1.8.0_292",
        "Apache-HttpClient/4.5.13 (Java/11.0.2)",
        "okhttp/4.9.2",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "axios/1.6.2",
        "undici",
        "got (https://github.com/sindresorhus/got)",
        "GuzzleHttp/7",
        "Ruby",
        "libwww-perl/6.72",
        "PostmanRuntime/7.36.0",
        "insomnia/8.4.0",
        CHROME_WIN + " Selenium",
        CHROME_WIN + " (webdriver)",
        "Mozilla/5.0 Puppeteer",
        "Mozilla/5.0 Playwright/1.40",
    ],
)
def test_automation(ua: str) -> None:
    assert user_agent_features(ua).automation


def test_app_using_okhttp_under_its_own_agent_is_not_automation() -> None:
    assert not user_agent_features("Shopee/3.12 (Android 14; SM-A546E) okhttp/4.9.2").automation


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
        "+https://openai.com/gptbot)",
    ],
)
def test_crawlers(ua: str) -> None:
    assert user_agent_features(ua).crawler


@pytest.mark.parametrize("ua", ["", "   ", "\t\n"])
def test_empty(ua: str) -> None:
    assert user_agent_features(ua) == EMPTY
    assert EMPTY.empty


def test_unknown_agent() -> None:
    f = user_agent_features("xyzzy")
    assert (f.empty, f.family, f.os_family, f.device_family, f.major) == (
        False,
        "Other",
        "Other",
        "Other",
        None,
    )


def test_long_agents_are_truncated_and_cached() -> None:
    padded = CHROME_WIN + " x" * 5000
    f = user_agent_features(padded)
    assert f.family == "Chrome"
    assert f is user_agent_features(CHROME_WIN + " x" * (MAX_UA_CHARS + 100))


@given(st.text(max_size=600))
def test_never_raises(ua: str) -> None:
    f = user_agent_features(ua)
    assert f.empty is (ua[:MAX_UA_CHARS].strip() == "")
