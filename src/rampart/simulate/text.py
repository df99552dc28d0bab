"""Natural text for reviews and chat messages.

Legitimate chat is full of digit runs that are not phone numbers (order numbers, tracking ids,
prices, dates, unit numbers) and of words like "WhatsApp" used innocently: naive PII detectors
should trip on them, and that is the point.

>>> import random
>>> r = random.Random(4)
>>> 1 <= len(review_text(r, 5, "ID")) < 400
True
>>> "{" in buyer_question(r, "SG", "SGD")
False
"""

from __future__ import annotations

import random

_POS = (
    "Received in good condition",
    "Item received, thank you seller",
    "Fast delivery",
    "Good quality for the price",
    "Well packed",
    "Exactly as described",
    "Worth it",
    "Super fast shipping!",
    "Nice, my daughter likes it",
    "Seller very responsive",
    "Quality is better than expected",
    "Second time buying, still good",
    "ok la, can",
    "Looks same as photo",
    "legit item, sealed",
)
_POS_LOCAL = {
    "ID": (
        "Barang sampai dengan selamat",
        "Mantap, sesuai pesanan",
        "Pengiriman cepat",
        "Barang bagus, recommended seller",
        "Udah sampai, makasih kak",
    ),
    "MY": ("Barang sampai cepat", "Terbaik seller", "Packing kemas, tq"),
    "SG": ("Shiok, fast delivery", "Good stuff, will buy again"),
    "TH": ("ของดี ส่งไว", "สินค้าตรงปก ขอบคุณค่ะ", "แพ็คมาดีมาก"),
    "PH": ("Salamat po, ang bilis dumating", "Maganda po quality", "Legit seller, thank you po"),
    "VN": (
        "Hàng đẹp, giao nhanh",
        "Đóng gói cẩn thận, shop nhiệt tình",
        "Chất lượng tốt so với giá",
    ),
}
_DETAIL = (
    "fits perfectly",
    "colour same as picture",
    "will buy again",
    "packaging a bit dented but item ok",
    "size runs small, order one size up",
    "battery lasts about 2 days",
    "smells nice",
    "arrived in 3 days",
    "bought 2 for my parents",
    "instructions only in Chinese though",
    "received on {date}",
    "cheaper than in the mall",
    "a bit thinner than expected",
    "the free gift was a nice touch",
    "works with my {phone}",
    "5 stars for the packing",
)
_NEG = (
    "Item arrived broken",
    "Not same as picture",
    "Wrong colour sent",
    "Took 2 weeks to arrive",
    "Seller did not reply my chat",
    "Quality so-so",
    "Missing 1 piece",
    "smell weird",
    "Stopped working after 3 days",
    "Fake item, not original",
    "size totally wrong",
)
_EMOJI = ("", "", "", " 👍", " 😊", " ❤️", " 🙏", " 👌👌", " 😍", " 5/5", " !!")
_PHONES = ("iphone 13", "redmi note 12", "samsung a54", "oppo a78")
_COLORS = ("black", "white", "navy", "pink", "beige", "grey", "green")
_Q = (
    "Hi, is this still available?",
    "Hi seller, do you have this in {color}?",
    "Can ship to {city}?",
    "boleh nego?",
    "Ready stock ka?",
    "Any discount if I buy 3?",
    "what is the size of the L? my chest is 98cm",
    "Hello po, available pa po?",
    "còn hàng không shop?",
    "hi is this original? got warranty?",
    "can deliver by {date}?",
    "is the {price} price for 1 or 2 pcs?",
    "Hi, I prefer to chat here, I don't use WhatsApp. Is it in stock?",
)
_A = (
    "Hi dear, yes ready stock. Thank you!",
    "Hi, available. Order before 3pm ship same day",
    "Sorry, {color} out of stock, restock around {date}",
    "Hi, L size chest 100cm, length 70cm",
    "Can do {price} for 3pcs",
    "Yes 100% original, 1 year warranty",
    "Hi, we ship within 24 hours",
    "Hi, please chat here only ya, we cannot reply WhatsApp",
    "Hello! Yes sis, still have",
)
_POST_Q = (
    "Hi, any update on order {order}?",
    "Order {order} when ship?",
    "Hi, I received the wrong size for order {order}, can exchange?",
    "tracking {tracking} not moving since {date}",
    "I paid {price} already, pls check order {order}",
    "Hi, my unit is {unit}, please tell courier to leave at guardhouse",
    "can I change address for order {order}? postal code {postcode}",
)
_POST_A = (
    "Hi, order {order} shipped via {carrier}, tracking no {tracking}. ETA 3-5 working days",
    "Sorry for the delay, will ship tomorrow {date}",
    "Hi dear, we have refunded {price} to you",
    "Kindly check at your guardhouse, delivered {date} {time}",
    "Noted, order {order} will be packed today. Tracking {tracking}",
    "Hi, exchange ok. Please return to us within 7 days, keep receipt {order}",
)
_CURRENCY_FMT = {"SGD": "S${:,.2f}", "MYR": "RM{:,.2f}", "THB": "฿{:,.0f}", "PHP": "₱{:,.2f}"}


def price_text(value: float, currency: str) -> str:
    if currency == "IDR":
        return "Rp" + f"{value:,.0f}".replace(",", ".")
    if currency == "VND":
        return f"{value:,.0f}".replace(",", ".") + "đ"
    return _CURRENCY_FMT.get(currency, "{:,.2f}").format(value)


def _date(rng: random.Random) -> str:
    d, m = rng.randint(1, 28), rng.randint(2, 4)
    return rng.choice((f"{d}/{m}", f"{d:02d}/{m:02d}/2026", f"{d} Mar", f"2026-{m:02d}-{d:02d}"))


def _fill(rng: random.Random, template: str, ctx: dict[str, str]) -> str:
    values = {
        "color": rng.choice(_COLORS),
        "date": _date(rng),
        "time": f"{rng.randint(9, 20)}:{rng.choice(('00', '15', '30', '45'))}",
        "phone": rng.choice(_PHONES),
        "city": ctx.get("city", "Jurong"),
        "price": ctx.get("price", "10.00"),
        "order": ctx.get("order", "2403021A8KQ7XZ"),
        "tracking": ctx.get("tracking", "SPX0123456789"),
        "carrier": ctx.get("carrier", "J&T Express"),
        "unit": f"#{rng.randint(2, 25):02d}-{rng.randint(1, 999):03d}",
        "postcode": ctx.get("postcode", f"{rng.randint(10000, 99999)}"),
    }
    return template.format(**values)


def review_text(rng: random.Random, rating: int, country: str) -> str:
    parts: list[str] = []
    local = _POS_LOCAL.get(country, ())
    if rating >= 4:
        parts.append(rng.choice(local) if local and rng.random() < 0.45 else rng.choice(_POS))
        if rng.random() < 0.55:
            parts.append(_fill(rng, rng.choice(_DETAIL), {}))
        if rating == 4 and rng.random() < 0.4:
            parts.append(rng.choice(_NEG).lower() + " but ok")
    elif rating == 3:
        parts = [rng.choice(_POS), rng.choice(_NEG).lower()]
    else:
        parts = [rng.choice(_NEG)]
        if rng.random() < 0.5:
            parts.append(
                rng.choice(
                    (
                        "very disappointed",
                        "don't buy",
                        "asked for refund",
                        "1 star because cannot give 0",
                    )
                )
            )
    text = ". ".join(parts) if rng.random() < 0.7 else ", ".join(parts)
    if rng.random() < 0.25:
        text = text.lower()
    return text + rng.choice(_EMOJI)


def buyer_question(rng: random.Random, city: str, price: str) -> str:
    return _fill(rng, rng.choice(_Q), {"city": city, "price": price})


def seller_answer(rng: random.Random, price: str) -> str:
    return _fill(rng, rng.choice(_A), {"price": price})


def order_question(rng: random.Random, ctx: dict[str, str]) -> str:
    return _fill(rng, rng.choice(_POST_Q), ctx)


def order_answer(rng: random.Random, ctx: dict[str, str]) -> str:
    return _fill(rng, rng.choice(_POST_A), ctx)
