"""Tests for rampart.detect.content.contact: obfuscated contact details vs. ordinary chat."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.detect.content import ContactFinding, detect_contact

# (text, kind that must be found)
CONTACTS: list[tuple[str, str]] = [
    ("call me 8 1 2 3-4 5 6 7", "phone"),
    ("8 1 2 3-4 5 6 7", "phone"),
    ("wa 0812-3456-7890 ya kak", "phone"),
    ("whatsapp +65 9123 4567", "phone"),
    ("my no is 9.1.2.3.4.5.6.7", "phone"),
    ("nine one two three four five six seven", "phone"),
    ("text me nine1two3four5six7", "phone"),
    ("WA me: nine one 2 3 - 4 5 6 7 pls", "phone"),
    ("hubungi nol delapan satu dua tiga empat lima enam tujuh delapan", "phone"),
    ("1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", "phone"),
    ("call ⑨①②③④⑤⑥⑦ now", "phone"),
    ("call 9l23 4567", "phone"),
    ("hp: O8l2 3456 789O", "phone"),
    ("tel 9і23 4567", "phone"),  # Cyrillic і
    ("no hp 081234567890", "phone"),
    ("+62 812 3456 7890", "phone"),
    ("9 1 2 3 4 5 6 7 is my number", "phone"),
    ("chat wa.me/6591234567", "phone"),
    ("john (at) gmail (dot) com", "email"),
    ("john at gmail dot com", "email"),
    ("john@gmail .com", "email"),
    ("email me: shop.owner88@yahoo.com", "email"),
    ("jsmith [at] hotmail [dot] com", "email"),
    ("john @ gmail", "email"),
    ("line id: shop_88", "handle"),
    ("add my telegram @cheapdeals_sg", "handle"),
    ("tele: jsmith99", "handle"),
    ("wechat id zhangwei88", "handle"),
    ("ig @bestbuy.sg for more", "handle"),
    ("add me on whatsapp for discount", "handle"),
    ("cheaper at https://bit.ly/3xYz", "link"),
    ("buy direct from mystore dot com", "link"),
    ("visit www.cheap-phones.net", "link"),
    ("t.me/cheapdeals", "link"),
    ("order outside: deals.shop/item/123", "link"),
    ("whаtsapp me", "handle"),  # Cyrillic а
    ("pm me at 9one2three4five6seven", "phone"),
    ("my wa: +62 812-3456-7890", "phone"),
    ("contact 𝟗𝟏𝟐𝟑 𝟒𝟓𝟔𝟕", "phone"),  # mathematical bold digits
    ("call ９１２３ ４５６７", "phone"),  # full-width digits
    ("call me at 0 8 1 2 - 3 4 5 6 - 7 8 9 0", "phone"),
    ("nombor saya 012-345 6789", "phone"),
    ("+65 9l2З 4567", "phone"),  # Cyrillic Ze for 3
    ("call nine-one-two-three-four-five-six-seven", "phone"),
    ("91234567 whatsapp", "phone"),
    ("email: j.smith(at)yahoo(dot)com", "email"),
    ("find me on wechat: wx_shop123", "handle"),
    ("message me on telegram", "handle"),
    ("shop at www.myshop.sg", "link"),
    ("buy at myshop(dot)com", "link"),
    ("call 9123 4567, 8765 4321 anytime", "phone"),  # a list of two numbers
]

LEGIT: list[str] = [
    # refusing to move off the platform is not an invitation
    "Hi, I prefer to chat here, I don't use WhatsApp. Is it in stock?",
    "no telegram pls, chat here is fine",
    "maaf kak saya tidak pakai whatsapp, chat di sini saja ya",
    "Hi, your order 2603038UGOCQO7 has been shipped",
    "Order #2603038123456 will arrive tomorrow",
    "order no. 123456789012, please confirm receipt",
    "ord 260303812345678 cancelled as requested",
    "Tracking: SPXID0123456789",
    "JNT 1234567890 is the resi",
    "your parcel NJV 12345678901 is out for delivery",
    "awb 8812345678901 via J&T",
    "Price is S$1,299.00 after discount",
    "Rp 150.000 saja kak, free ongkir",
    "harga Rp 12.500.000 nego",
    "RM 89.90 for 2 pcs",
    "only 1,250 baht, ready stock",
    "฿ 12,500 including shipping",
    "Giá 1.250.000 ₫ nhé",
    "150.000 VND per item",
    "₱1,499.00 cash on delivery",
    "PHP 2,350 each",
    "USD 1,234,567.89 wholesale",
    "Delivered on 2026-02-24 15:30",
    "will ship 24/02, arrive 26/02/2026",
    "can I call you on 24/02/2026 at 3pm?",
    "open 9am to 6pm daily, closed on 25.12.2026",
    "size 38 39 40 41 42 available",
    "size EU 42, waist 32, length 30",
    "qty 12, 24, 36, 48 per carton",
    "Model SM-G991B, 128GB, 8GB RAM",
    "iPhone 15 Pro Max 256GB, battery 100%",
    "Thanks for your purchase! Please leave a 5 star review :)",
    "Sorry for the delay, we will ship tomorrow morning.",
    "Please chat with us here on the platform, we reply within 24 hours.",
    "The item weighs 2.5kg, dimensions 30x20x15 cm",
    "Voucher code SALE2026 gives 10% off until 31/03",
    "Please do not share your phone number or email in chat for your safety.",
    "Hello! Yes, we have the line dress in black and white.",
    "thanks @seller, fast delivery",
    "I bought two, then one more, four in total",
    "Batch 2026/02/24 restock at 10:30am",
    "invoice INV-2026-000123 attached",
    "2 x 500ml bottles, 3 x 1L",
    "Ok kak, sudah saya kirim ya. Terima kasih sudah belanja!",
    "I'll be at work at 9.30am, deliver after 6pm pls",
    "Order ID: 2603038123456789 refund processed",
    "Pesanan no. 2402241234567 sudah dikirim",
    "Resi JX1234567890 belum update",
    "Ninja Van tracking NVSGSHOPE000123456",
    "Harga 1.250.000 sudah nett ya kak",
    "Total RM1,234.50 inclusive of SST",
    "฿1,250 / 2 pcs = ฿625 each",
    "1.200.000đ một cái",
    "Dimension 120 x 60 x 75 cm, weight 25 kg",
    "Shoe size 9, 9.5, 10, 10.5 available",
    "Resolution 1920x1080, 144Hz, 27 inch",
    "Model number A2649 / MQ8N3ZP/A",
    "Part no. 12345-67890-AB",
    "Estimated delivery 2026/02/24 - 2026/02/27",
    "I ordered on 12/01/2026 and received 20/01/2026",
    "Barcode 8886467102345",
    "IMEI 356938035643809 tested ok",
    "The line was long at the post office lol",
    "voucher 50k min spend 200k",
    "ok noted, 2026-02-24 15:30:00 pickup, call me when you arrive",
    "please confirm address: Blk 123 Ang Mo Kio Ave 3 #12-345 Singapore 560123",
    "Jl. Sudirman No. 45, Jakarta 12190",
    "Barcode 8886467102345, 1l bottle, call me if you want more",
]


@pytest.mark.parametrize(("text", "kind"), CONTACTS)
def test_contact_found(text: str, kind: str) -> None:
    f = detect_contact(text)
    assert getattr(f, kind) is True, (text, f)
    assert kind in f.kinds
    assert f.evidence


@pytest.mark.parametrize("text", LEGIT)
def test_legit_not_flagged(text: str) -> None:
    assert detect_contact(text) == ContactFinding(), text


def test_counts() -> None:
    assert len(CONTACTS) >= 25
    assert len(LEGIT) >= 30


def test_evidence_has_no_digits_of_the_number() -> None:
    f = detect_contact("call 9123 4567 or john@gmail.com")
    assert f.kinds == ("phone", "email")
    assert all("9123" not in e and "john" not in e for e in f.evidence)
    assert f.evidence[-1].startswith("phone: 8 digits")


def test_allowed_domains() -> None:
    assert not detect_contact("see shop.example.com/p/1", frozenset({"example.com"})).link
    assert detect_contact("see shop.example.com/p/1").link


def test_finding_is_frozen() -> None:
    f = detect_contact("call 9123 4567")
    with pytest.raises(AttributeError):
        f.phone = False  # type: ignore[misc]


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SEPS = [" ", "-", ".", "  ", " - ", "_", "~", "/", " . "]
_CUES = ["call me ", "wa ", "whatsapp: ", "hp ", "text me at ", "contact ", "telegram "]


@st.composite
def _phone_text(draw: st.DrawFn) -> str:
    n = draw(st.integers(8, 12))
    first = draw(st.sampled_from("6789"))
    digits = first + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=n - 1, max_size=n - 1))
    )
    # realistic groupings: digit by digit, or groups of 3-4
    per_digit = draw(st.booleans())
    parts: list[str] = []
    i = 0
    while i < n:
        size = 1 if per_digit else draw(st.integers(3, 4))
        chunk = digits[i : i + size]
        i += size
        if per_digit and draw(st.booleans()):
            parts.append(_WORDS[int(chunk)])
        else:
            parts.append(chunk)
    out = parts[0]
    for p in parts[1:]:
        sep = draw(st.sampled_from(_SEPS))
        out += sep + p
    cue = draw(st.sampled_from(_CUES)) if not per_digit or draw(st.booleans()) else ""
    return cue + out


@settings(max_examples=300, deadline=None)
@given(_phone_text())
def test_property_phone_always_found(text: str) -> None:
    assert detect_contact(text).phone, text


@st.composite
def _amount_or_date(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["price_sgd", "price_idr", "price_vnd", "price_thb", "date", "datetime", "time"]
        )
    )
    if kind == "price_sgd":
        v = draw(st.integers(1, 99_999_999))
        cents = draw(st.integers(0, 99))
        cur = draw(st.sampled_from(["S$", "$", "RM ", "₱", "PHP ", "USD "]))
        return f"price {cur}{v:,}.{cents:02d}, call me if keen"
    if kind == "price_idr":
        v = draw(st.integers(1_000, 999_999_999))
        return "total Rp " + f"{v:,}".replace(",", ".") + " wa me"
    if kind == "price_vnd":
        v = draw(st.integers(1_000, 999_999_999))
        return f"{v:,}".replace(",", ".") + draw(st.sampled_from([" ₫", "đ", " VND"]))
    if kind == "price_thb":
        v = draw(st.integers(1, 9_999_999))
        return f"{v:,} " + draw(st.sampled_from(["baht", "THB", "บาท"])) + " contact"
    y = draw(st.integers(2000, 2039))
    m = draw(st.integers(1, 12))
    d = draw(st.integers(1, 28))
    date = draw(
        st.sampled_from(
            [
                f"{y}-{m:02d}-{d:02d}",
                f"{d:02d}/{m:02d}/{y}",
                f"{d}.{m}.{y}",
                f"{d:02d}-{m:02d}-{y}",
                f"{d}/{m}",
            ]
        )
    )
    hh = draw(st.integers(0, 23))
    mm = draw(st.integers(0, 59))
    if kind == "date":
        return f"call me on {date}"
    if kind == "datetime":
        return f"delivered {date} {hh:02d}:{mm:02d}, contact us"
    return f"call at {hh}:{mm:02d} on {date}"


@settings(max_examples=300, deadline=None)
@given(_amount_or_date())
def test_property_amounts_and_dates_not_phones(text: str) -> None:
    assert not detect_contact(text).phone, text
