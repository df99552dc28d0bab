"""Tests for rampart.detect.content.phishing: look-alike links vs. ordinary marketplace text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.detect.content import DEFAULT_PROTECTED, PhishingFinding, detect_phishing

# (text, kind that must be found, brand)
PHISHING: list[tuple[str, str, str]] = [
    ("Your account is on hold, verify at https://paypa1.com/login", "typosquat", "paypal"),
    ("claim your voucher at shopeee.com/claim", "typosquat", "shopee"),
    ("promo 12.12 di lazadda.co.id/promo", "typosquat", "lazada"),
    ("login: https://www.g00gle.com/accounts", "typosquat", "google"),
    ("http://rnastercard.com/secure", "typosquat", "mastercard"),
    ("refund ready: https://tokopediaa.com/refund", "typosquat", "tokopedia"),
    ("top up via https://pay-pal.com", "typosquat", "paypal"),
    ("visit https://app1e.com/id to unlock", "typosquat", "apple"),
    ("http://revoult.com/app", "typosquat", "revolut"),
    ("https://xn--pypal-4ve.com/signin", "homoglyph", "paypal"),
    ("pаypal.com/resolution", "homoglyph", "paypal"),  # Cyrillic а
    ("https://shopее.sg/verify", "homoglyph", "shopee"),  # Cyrillic е
    ("https://www.xn--lazda-zqa.com", "homoglyph", "lazada"),  # lazáda
    ("https://paypal.com.secure-login.xyz/webscr", "subdomain", "paypal"),
    ("https://shopee.co.id.claim-hadiah.top", "subdomain", "shopee"),
    ("http://paypal-login.web.app", "subdomain", "paypal"),
    ("go to apple.com.id-verify.info now", "subdomain", "apple"),
    ("http://lazada.account-check.net/x", "subdomain", "lazada"),
    ("https://login-shopee.co/akun", "combosquat", "shopee"),
    ("refund form: shopee-refund.com", "combosquat", "shopee"),
    ("https://secure-paypal-billing.net", "combosquat", "paypal"),
    ("http://paypalsecure.net/session", "combosquat", "paypal"),
    ("https://apple-support-verify.com", "combosquat", "apple"),
    ("https://visa-secure-check.online/card", "combosquat", "visa"),
    ("https://wise-account-unlock.site", "combosquat", "wise"),
    ("https://stripe-billing-update.com", "combosquat", "stripe"),
    ("akun dana diblokir: https://dana-verifikasi.xyz", "combosquat", "dana"),
    ("ovo-hadiah.com/klaim sekarang", "combosquat", "ovo"),
    ("https://grabpay-rewards.com", "combosquat", "grabpay"),
    ("shopeepay-bonus.click", "combosquat", "shopeepay"),
    ("https://alipay-verify.net", "combosquat", "alipay"),
    ("https://revolut-secure-app.com", "combosquat", "revolut"),
    ("https://gopay-promo-login.com", "combosquat", "gopay"),
    ("https://shoppee-refund.com", "combosquat", "shopee"),
    ("shopee[.]co", "other_suffix", "shopee"),
    ("https://paypal.xyz/login", "other_suffix", "paypal"),
    ("lazada.shop/flash-sale", "other_suffix", "lazada"),
    ("stripe.site/pay", "other_suffix", "stripe"),
    ("https://paypal.com@evil.xyz/x", "userinfo", "paypal"),
    ("https://evil.xyz/paypal/login", "path", "paypal"),
    ("http://free-gifts.club/shopee/verify-account", "path", "shopee"),
    ("Your Shopee account is suspended, verify at bit.ly/3xYz", "shortener", "shopee"),
    ("bit.ly/paypal-verify", "shortener", "paypal"),
    ("https://tinyurl.com/lazada-voucher", "shortener", "lazada"),
    ("Akun Tokopedia anda diblokir, verifikasi: s.id/tkp99", "shortener", "tokopedia"),
    ("PayPal: confirm your identity at https://cutt.ly/x9", "shortener", "paypal"),
    ("http://192.168.10.5/login", "ip_host", ""),
    ("your shopee refund: http://103.45.67.89/claim", "ip_host", "shopee"),
    ("verify here 45.77.12.9/paypal", "ip_host", "paypal"),
    ("http://3232235777/login", "ip_host", ""),
    ("hxxps[:]//paypal-secure[.]net/x", "combosquat", "paypal"),
    ("lazada (dot) top/voucher", "other_suffix", "lazada"),
    ("shopee-sg(.)com/refund", "combosquat", "shopee"),
    ("ｓｈｏｐｅｅ-refund．com", "combosquat", "shopee"),  # full-width letters and dot
]

# Ordinary marketplace texts with real links and brand mentions: none may be flagged.
LEGIT: list[str] = [
    "Check the product here: https://shopee.sg/product/12345/67890",
    "Link toko kami: https://shopee.co.id/tokobagus",
    "Visit help.shopee.co.id for the return policy",
    "order page https://www.lazada.sg/products/i123456-s789.html",
    "https://www.lazada.co.id/shop/xyz-official",
    "buy it at lazada.com.my, free shipping",
    "https://www.tokopedia.com/tokobagus/kaos-polos",
    "short link shope.ee/9zXyZ12 for the flash sale",
    "https://s.lazada.sg/s.ABCD1 voucher inside",
    "Pay with PayPal: https://www.paypal.com/checkoutnow?token=EC-123",
    "www.paypal.com/myaccount/summary shows the refund",
    "Send the money to paypal.me/johnsmith please",
    "We accept Visa and Mastercard, and GoPay / OVO / DANA for Indonesia",
    "Refund processed to your ShopeePay wallet, check the app",
    "Paid via GrabPay, receipt is at grab.com/sg/pay",
    "Receipt from Stripe: https://pay.stripe.com/receipts/acct_1/rcpt_2",
    "Wise transfer done: https://wise.com/share/abc",
    "I use Revolut, see revolut.com/en-SG",
    "Here is the app: https://apps.apple.com/sg/app/shopee-sg/id959841443",
    "Android: https://play.google.com/store/apps/details?id=com.shopee.sg",
    "Map to our store: https://maps.app.goo.gl/AbCdEf123",
    "https://www.google.com/maps/place/Orchard+Road",
    "Unboxing video: https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "youtu.be/dQw4w9WgXcQ shows how to assemble it",
    "photo: https://lh3.googleusercontent.com/abc=w800",
    "manual at https://drive.google.com/file/d/1AbC/view",
    "support.apple.com/en-sg/HT201295 explains the battery check",
    "iCloud photos shared: https://www.icloud.com/sharedalbum/#B0abc",
    "Tracking on https://www.ninjavan.co/en-sg/tracking?id=NVSG123",
    "J&T tracking: https://jet.co.id/track",
    "DHL: https://www.dhl.com/sg-en/home/tracking.html",
    "poslaju.com.my/track-trace-v2/ for your parcel",
    "spx.co.id cek resi ya kak",
    "Follow us on instagram.com/tokobagus.id",
    "our tiktok: https://www.tiktok.com/@tokobagus",
    "facebook.com/groups/sg-deals has more photos",
    "Size guide: https://www.uniqlo.com/sg/en/size-chart",
    "Spec sheet at https://www.samsung.com/sg/smartphones/galaxy-s24/",
    "Original product, check the serial on https://checkcoverage.apple.com",
    "Wikipedia says so: https://en.wikipedia.org/wiki/PayPal",
    "Docs: https://stripe.com/docs/payments/checkout",
    "More about Visa at https://www.visa.com.sg/pay-with-visa.html",
    "mastercard.co.id/id-id/personal.html promo cashback",
    "GoPay promo: https://www.gojek.com/gopay/",
    "dana.id/promo has the cashback terms",
    "Promo OVO: https://www.ovo.id/promo",
    "Check www.bca.co.id for the transfer limits",
    "DBS PayLah: https://www.dbs.com.sg/personal/mobile/paylink",
    "Alipay+ accepted, details at alipay.com",
    "Link carousell.sg/p/123 is my other listing",
    "amazon.sg has it more expensive lol",
    "This is cheaper than Amazon and eBay, trust me",
    "I bought it on Shopee last year and it still works",
    "Please don't pay outside Lazada, use the checkout",
    "Login to your Shopee app to confirm receipt, thanks!",
    "Verify your order in the app, then we ship. Thanks for choosing Tokopedia",
    "bit.ly/3abcXYZ is the assembly video",
    "Product video on tinyurl.com/tokobagus-video",
    "the-gift-shoppe.com sells the same wrapping paper",
    "wise-owl-books.com has the sequel",
    "The stripes dress from stripes-fashion.com is lovely",
    "Read the reviews on https://www.trustpilot.com/review/shopee.sg",
    "Manual PDF: https://www.canon.com.my/support/",
    "Router admin page is 192.168.1.1, default password on the sticker",
    "Version 2.1.3 firmware fixes the login bug",
    "Delivered at 10.30am, rated 4.5/5, thanks!",
    "Barang sudah sampai. Terima kasih kak!",
    "Price S$12.90, 2 for S$25.00",
    "Rp.150.000 free ongkir se-Indonesia",
    "Kindly refer to gov.sg for the customs rules",
    "https://www.mom.gov.sg/passes-and-permits is where visa info is",
    "Apply for the visa at https://visa.vfsglobal.com/idn/en/",
    "https://support.google.com/accounts/answer/185839 for 2FA setup",
    "https://accounts.google.com/signin is the real login page",
    "Our shop: https://shopee.com.my/tokobagus?page=2&sort=sales",
    "Shopee Live tonight 8pm, don't miss it!",
    "Use the promo code SHOPEEPAY10 at checkout",
    "google pay and apple pay both work",
    "Check https://www.lazada.vn/dien-thoai/ for more phones",
    "https://www.shopee.ph/shop/123 ships from Manila",
    "Contact Lazada customer service through the app, not email",
    "https://tokopedia.link/AbC123 link produk",
    "images.tokopedia.net/img/cache/700/product.jpg",
    "down-sg.img.susercontent.com/file/abc is the photo",
    "Your refund has been processed to ShopeePay, tutorial bit.ly/abc12",
    "Limited stock! Lazada flash sale items here: bit.ly/lzd-sale",
    "Security tip from Shopee: never share your OTP. Guide at help.shopee.sg/portal",
]


@pytest.mark.parametrize(("text", "kind", "brand"), PHISHING)
def test_phishing_found(text: str, kind: str, brand: str) -> None:
    f = detect_phishing(text)
    assert f.flagged, text
    assert kind in f.kinds, (text, f)
    if brand:
        assert brand in f.brands, (text, f)
    assert f.evidence


@pytest.mark.parametrize("text", LEGIT)
def test_legit_not_flagged(text: str) -> None:
    assert detect_phishing(text) == PhishingFinding(), text


def test_counts_and_precision() -> None:
    assert len(PHISHING) >= 40
    assert len(LEGIT) >= 60
    flagged = [t for t in LEGIT if detect_phishing(t).flagged]
    assert flagged == []
    assert sum(detect_phishing(t).flagged for t, _, _ in PHISHING) == len(PHISHING)


def test_evidence_never_echoes_the_link() -> None:
    f = detect_phishing("verify at https://paypa1.com/login?u=victim and shopee-refund[.]com")
    assert f.kinds == ("typosquat", "combosquat")
    assert f.brands == ("paypal", "shopee")
    for e in f.evidence:
        assert not any(w in e for w in ("paypa1", "victim", "refund", "/")), e


def test_obfuscated_flag() -> None:
    assert detect_phishing("shopee-refund[.]com").obfuscated
    assert not detect_phishing("shopee-refund.com").obfuscated


def test_protected_is_configurable() -> None:
    mine = ("example-market.com", "exm.sg", "paypal.*")
    assert detect_phishing("https://examp1e-market.com/login", protected=mine).flagged
    assert detect_phishing("https://example-market.xyz", protected=mine).kinds == ("other_suffix",)
    assert not detect_phishing("https://help.exm.sg/refund", protected=mine).flagged
    # shopee is not protected here
    assert not detect_phishing("https://shopee-refund.com", protected=mine).flagged
    assert detect_phishing("https://shopee-refund.com", protected=DEFAULT_PROTECTED).flagged


def test_brand_without_link_is_not_flagged() -> None:
    assert not detect_phishing("PayPal login verify your account shopee refund").flagged


def test_finding_is_frozen() -> None:
    f = detect_phishing("shopeee.com")
    with pytest.raises(AttributeError):
        f.flagged = False  # type: ignore[misc]


_REAL = [
    "shopee.sg",
    "shopee.co.id",
    "lazada.com.my",
    "paypal.com",
    "paypal.co.uk",
    "tokopedia.com",
    "stripe.com",
    "wise.com",
]
_SUBS = ["", "www.", "help.", "m.", "seller.", "a.b."]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_REAL),
    st.sampled_from(_SUBS),
    st.sampled_from(["", "https://", "http://"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/?=&", max_size=30),
    st.sampled_from(["see ", "link: ", "", "pay at "]),
)
def test_property_real_domains_never_flagged(
    domain: str, sub: str, scheme: str, path: str, before: str
) -> None:
    text = f"{before}{scheme}{sub}{domain}/{path} thanks"
    assert not detect_phishing(text).flagged, text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_property_never_raises(text: str) -> None:
    f = detect_phishing(text)
    assert f.flagged == bool(f.kinds)
