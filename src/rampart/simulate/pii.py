"""Realistic personal data: names, e-mail addresses, E.164 phones and postal addresses.

The same physical address is written differently by different people (``Blk 12 #03-45`` vs
``Block 12, Unit 3-45``): :func:`render_address` takes a variant number so households and
address-sharing rings can be spelled apart, as they are in real data.

>>> import random
>>> place = home_place(random.Random(1), "SG")
>>> a, b = render_address(place, "Tan Wei Ling", 0), render_address(place, "Tan Wei Ling", 3)
>>> a["postcode"] == b["postcode"] and a["line1"] != b["line1"]
True
>>> phone_for(random.Random(2), "SG").startswith("+65")
True
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from rampart.simulate.places import COUNTRIES, FOREIGN_CITIES, City

# given names, family names, and whether the family name comes first


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split("|"))


# given names | family names | family name first?
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "SG": (
        _split(
            "Wei Ling|Jun Jie|Hui Min|Zhi Hao|Mei Ling|Kai Wen|Rachel|Bryan|Jasmine|Darren|"
            "Siti Nurhaliza|Muhammad Faris|Priya|Arjun|Nicholas|Shu Fen|Jia Hui|Wen Xuan|"
            "Farhan|Aisha"
        ),
        _split(
            "Tan|Lim|Lee|Ng|Ong|Wong|Goh|Chua|Koh|Teo|Ang|Yeo|Tay|Low|Toh|Sim|Rahman|Ismail|"
            "Kumar|Pillai"
        ),
        True,
    ),
    "MY": (
        _split(
            "Ahmad Faizal|Nurul Izzah|Siti Aisyah|Mohd Hafiz|Farah|Amirul|Wei Jie|Mei Ling|Kah Hoe|"
            "Suresh|Kavitha|Hazwan|Aina|Syafiq|Li Ying|Izzati|Danial|Nabila"
        ),
        _split(
            "Abdullah|Ibrahim|Hassan|Lim|Tan|Wong|Ong|Chong|Raj|Yusof|Osman|Ismail|Teh|Chin|"
            "Abu Bakar"
        ),
        True,
    ),
    "ID": (
        _split(
            "Budi|Siti|Dewi|Agus|Rina|Putri|Adi|Wahyu|Fitri|Indah|Rizky|Dian|Eka|Sri|Andi|Yusuf|"
            "Ayu|Bayu|Nur|Hendra|Ratna|Fajar|Intan|Dimas"
        ),
        _split(
            "Santoso|Wijaya|Saputra|Pratama|Hidayat|Kusuma|Nugroho|Setiawan|Sari|Lestari|Permana|"
            "Gunawan|Susanto|Halim|Siregar|Nasution|Simanjuntak"
        ),
        False,
    ),
    "TH": (
        _split(
            "Somchai|Somsak|Niran|Kanya|Ploy|Nattapong|Siriporn|Apinya|Thanawat|Pimchanok|"
            "Kittipong|Waraporn|Chanida|Anan|Kamon|Supaporn|Teerapat|Napat"
        ),
        _split(
            "Srisuk|Chaiyaporn|Wongsawat|Boonmee|Saetang|Phongsri|Rattanakorn|Suksawat|Thongchai|"
            "Kaewmanee|Jaidee|Sombat"
        ),
        False,
    ),
    "PH": (
        _split(
            "Juan|Maria|Jose|Mark|John Paul|Kristine|Angelica|Carlo|Joshua|Princess|Jerome|Rhea|"
            "Mary Grace|Jericho|Camille|Paolo|Ma. Theresa|Kimberly"
        ),
        _split(
            "Santos|Reyes|Cruz|Bautista|Garcia|Mendoza|Ramos|Aquino|Dela Cruz|Villanueva|Castillo|"
            "Flores|Gonzales|Navarro"
        ),
        False,
    ),
    "VN": (
        _split(
            "Văn Anh|Thị Linh|Minh Hùng|Văn Dũng|Thị Trang|Thu Hương|Minh Tuấn|Hoài Nam|"
            "Thanh Phương|Thu Hà|Hoàng Long|Phương Thảo|Ngọc Ánh|Đức Huy|Bảo Ngọc|Quốc Bảo"
        ),
        _split("Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ"),
        True,
    ),
}
_FREEMAIL = (
    ("gmail.com", 62), ("yahoo.com", 9), ("hotmail.com", 7), ("outlook.com", 5), ("icloud.com", 5),
    ("live.com", 1),
)  # fmt: skip
_FREEMAIL_NAMES = tuple(name for name, _ in _FREEMAIL)
_FREEMAIL_WEIGHTS = tuple(float(w) for _, w in _FREEMAIL)
_LOCAL_MAIL = {
    "SG": ("yahoo.com.sg", "singnet.com.sg"), "MY": ("yahoo.com.my",), "ID": ("yahoo.co.id",),
    "TH": ("hotmail.co.th",), "PH": ("yahoo.com.ph",), "VN": ("yahoo.com.vn",),
}  # fmt: skip
_CORPORATE = _split(
    "meridian-logistics.com|kallang-partners.com.sg|tigerbay.co|nusantara-tech.co.id|"
    "siamgrowth.co.th|luzonbpo.ph|saigonsoft.vn|straitsbank.com|orchidhealth.com.my|uni-sea.edu|"
    "harbourfront-group.com"
)
_NICK = _split("kitty|dragon|sunny|mochi|boba|tiger|angel|rainbow|panda|ninja|blue|lucky|star|"
               "momo|chichi|jojo|bunny|dark")  # fmt: skip
_STREETS: dict[str, tuple[str, ...]] = {
    "SG": _split("Ang Mo Kio Avenue 3|Tampines Street 21|Jurong West Street 52|Bedok North Road|"
                 "Woodlands Drive 14|Yishun Ring Road|Toa Payoh Lorong 1|Bukit Batok Street 31|"
                 "Clementi Avenue 2|Hougang Avenue 8|Sengkang East Way|Punggol Field"),
    "MY": _split("Jalan SS 2/24|Jalan Bukit Bintang|Jalan Ampang|Jalan Tun Razak|Jalan PJU 1/3|"
                 "Jalan Setia Prima|Jalan Kenari 5|Jalan Damai 3"),
    "ID": _split("Sudirman|Gatot Subroto|Kebon Jeruk Raya|Merdeka|Diponegoro|Ahmad Yani|Pemuda|"
                 "Cempaka Putih Tengah|Kemang Raya|Margonda Raya"),
    "TH": _split("Sukhumvit|Ratchadaphisek|Phahonyothin|Lat Phrao|Rama IX|Charoen Krung|"
                 "Ramkhamhaeng|Pracha Uthit"),
    "PH": _split("Mabini|Rizal|Bonifacio|Luna|Magsaysay|Burgos|Aguinaldo|Katipunan"),
    "VN": _split("Nguyễn Huệ|Lê Lợi|Trần Hưng Đạo|Hai Bà Trưng|Điện Biên Phủ|Cách Mạng Tháng Tám|"
                 "Võ Văn Tần|Lý Thường Kiệt"),
}  # fmt: skip
_AREAS: dict[str, tuple[str, ...]] = {
    "SG": ("",),
    "MY": _split("Taman Tun Dr Ismail|Taman Melawati|Bandar Sunway|Taman Desa"),
    "ID": _split("Kebayoran Baru|Tebet|Cengkareng|Menteng|Tanah Abang"),
    "TH": _split("Khlong Toei|Huai Khwang|Chatuchak|Bang Kapi|Watthana"),
    "PH": _split("San Antonio|Poblacion|Bel-Air|Kapitolyo|Lahug|Talamban"),
    "VN": _split("Bến Nghé|Đa Kao|Phường 7|Tân Định|Cầu Kho"),
}
_ABBREV: dict[str, tuple[tuple[str, str], ...]] = {
    "SG": (("Avenue", "Ave"), ("Street", "St"), ("Road", "Rd"), ("Drive", "Dr"), ("Lorong", "Lor"),
           ("Ang Mo Kio", "AMK")),
    "MY": (("Jalan", "Jln"), ("Taman", "Tmn"), ("Bandar", "Bdr")),
    "PH": (("Street", "St."),),
}  # fmt: skip


def ascii_fold(text: str) -> str:
    """'Nguyễn Đức' → 'Nguyen Duc' (e-mail local parts are ASCII)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def person_name(rng: random.Random, country: str) -> tuple[str, str, str]:
    """(display name, given, family) in the country's usual order."""
    givens, families, family_first = _NAMES.get(country, _NAMES["SG"])
    given, family = rng.choice(givens), rng.choice(families)
    if country in ("SG", "MY") and family in ("Rahman", "Ismail", "Abdullah", "Ibrahim", "Hassan"):
        family_first = False
    if country == "ID" and rng.random() < 0.3:  # many Indonesians go by one name
        return given, given, ""
    full = f"{family} {given}" if family_first else f"{given} {family}"
    return full, given, family


def free_domain(rng: random.Random, country: str) -> str:
    if rng.random() < 0.08:
        return rng.choice(_LOCAL_MAIL.get(country, ("gmail.com",)))
    return rng.choices(_FREEMAIL_NAMES, _FREEMAIL_WEIGHTS)[0]


def email_local(rng: random.Random, given: str, family: str) -> str:
    """A local part as people pick them: names, initials, birth years, nicknames."""
    g = ascii_fold(given).lower().replace(" ", "").replace(".", "")
    f = ascii_fold(family).lower().replace(" ", "") or rng.choice(_NICK)
    n = rng.random()
    year = rng.randint(78, 107) % 100
    if n < 0.18:
        return f"{g}.{f}"
    if n < 0.32:
        return f"{g}{f}"
    if n < 0.46:
        return f"{g}{f}{rng.randint(1, 999)}"
    if n < 0.56:
        return f"{g}{year:02d}"
    if n < 0.64:
        return f"{g[0]}{f}"
    if n < 0.72:
        return f"{f}.{g}{rng.randint(1, 99)}"
    if n < 0.80:
        return f"{g}_{f}"
    if n < 0.88:
        return f"{rng.choice(_NICK)}{g[:4]}{rng.randint(1, 9999)}"
    return f"{g}.{f}{year:02d}"


def email_for(rng: random.Random, given: str, family: str, country: str) -> str:
    if rng.random() < 0.05:
        return f"{email_local(rng, given, family)}@{rng.choice(_CORPORATE)}"
    return f"{email_local(rng, given, family)}@{free_domain(rng, country)}"


_PH_PREFIX = _split(
    "905|906|915|916|917|918|919|920|921|926|927|928|929|935|936|945|953|954|955|956|966|975|977|995|996|997|998|999"
)
_ID_PREFIX = _split(
    "811|812|813|821|822|852|853|814|815|816|855|856|857|858|895|896|897|898|877|878|881|882|838"
)
_VN_PREFIX = _split(
    "32|33|34|35|36|37|38|39|70|76|77|78|79|81|82|83|84|85|86|88|90|91|93|94|96|97|98"
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789", k=n))


def phone_for(rng: random.Random, country: str) -> str:
    """A valid mobile number in E.164 for the country."""
    if country == "SG":
        return f"+65{rng.choice('89')}{rng.choice('12345678')}{_digits(rng, 6)}"
    if country == "MY":
        if rng.random() < 0.2:
            return f"+6011{rng.choice('12345')}{_digits(rng, 7)}"
        return f"+601{rng.choice('269')}{_digits(rng, 7)}"
    if country == "ID":
        return f"+62{rng.choice(_ID_PREFIX)}{_digits(rng, rng.choice((7, 8)))}"
    if country == "TH":
        return f"+66{rng.choice('6889')}{rng.choice('01234568')}{_digits(rng, 7)}"
    if country == "PH":
        return f"+63{rng.choice(_PH_PREFIX)}{_digits(rng, 7)}"
    return f"+84{rng.choice(_VN_PREFIX)}{_digits(rng, 7)}"


@dataclass(frozen=True)
class Place:
    """One physical address; rendered into many spellings by :func:`render_address`."""

    country: str
    city: City
    number: int
    street: str
    unit_a: int  # floor / sub-number / RT; 0 when none
    unit_b: int  # unit / moo / RW; 0 when none
    area: str
    postcode: str


def _postcode(rng: random.Random, pattern: str) -> str:
    return "".join(rng.choice("0123456789") if c == "#" else c for c in pattern)


def home_place(rng: random.Random, country: str) -> Place:
    if country in FOREIGN_CITIES:
        city = FOREIGN_CITIES[country]
        return Place(country, city, rng.randint(1, 300), "Central Road", 0, 0, "", city.postcode)
    city = rng.choice(COUNTRIES[country].cities)
    street = rng.choice(_STREETS[country])
    area = rng.choice(_AREAS[country])
    if country == "SG":
        return Place(
            country,
            city,
            rng.randint(1, 999),
            street,
            rng.randint(2, 25),
            rng.randint(1, 999),
            area,
            _postcode(rng, city.postcode),
        )
    has_unit = rng.random() < 0.4
    unit_a = rng.randint(1, 40) if (has_unit or country in ("ID", "TH")) else 0
    unit_b = rng.randint(1, 15) if (has_unit or country in ("ID", "TH")) else 0
    return Place(
        country,
        city,
        rng.randint(1, 250),
        street,
        unit_a,
        unit_b,
        area,
        _postcode(rng, city.postcode),
    )


def _abbrev(text: str, country: str) -> str:
    for long, short in _ABBREV.get(country, ()):
        text = text.replace(long, short)
    return text


def _lines(p: Place, v: int) -> tuple[str, str]:
    c, n, s, a, b = p.country, p.number, p.street, p.unit_a, p.unit_b
    if c == "SG":
        line1 = (
            f"Blk {n} {s}",
            f"Block {n}, {s}",
            f"{n} {_abbrev(s, c)}",
            f"Blk {n} {_abbrev(s, c)}",
            f"BLK {n} {s.upper()}",
        )[v % 5]
        line2 = (
            f"#{a:02d}-{b:03d}",
            f"#{a:02d}-{b}",
            f"Unit {a}-{b}",
            f"{a:02d}-{b:03d}",
            f"# {a:02d} - {b:03d}",
        )[(v // 2) % 5]
        return line1, line2
    if c == "MY":
        line1 = (f"No. {n}, {s}", f"{n}, {_abbrev(s, c)}", f"No {n} {s}", f"{n} {s.upper()}")[v % 4]
        area = (p.area, _abbrev(p.area, c), p.area.upper())[(v // 2) % 3]
        line2 = f"{a}-{b}, {area}" if a else area
        return line1, line2
    if c == "ID":
        line1 = (f"Jl. {s} No. {n}", f"Jalan {s} no {n}", f"JL {s.upper()} NO.{n}", f"Jl {s} {n}")[
            v % 4
        ]
        line2 = (
            f"RT {a:03d}/RW {b:03d}, {p.area}",
            f"RT {a} RW {b} Kel. {p.area}",
            f"RT.{a:02d}/RW.{b:02d} {p.area.upper()}",
        )[(v // 2) % 3]
        return line1, line2
    if c == "TH":
        line1 = (
            f"{n}/{a} Soi {s} {b}",
            f"{n}/{a} {s} Soi {b}",
            f"{n}/{a} Soi {b}, {s} Rd.",
            f"{n}/{a} {s.upper()} {b}",
        )[v % 4]
        line2 = (f"Khet {p.area}", p.area, f"{p.area} District")[(v // 2) % 3]
        return line1, line2
    if c == "PH":
        unit = f"Unit {a}{'ABCDEF'[b % 6]}, " if a else ""
        line1 = (
            f"{unit}{n} {s} Street",
            f"{unit}{n} {s} St.",
            f"#{n} {s} st",
            f"{unit}{n} {s.upper()} ST",
        )[v % 4]
        line2 = (f"Brgy. {p.area}", f"Barangay {p.area}", f"brgy {p.area.lower()}")[(v // 2) % 3]
        return line1, line2
    if c == "VN":
        street = (s, s, ascii_fold(s), s.upper())[v % 4]
        line1 = (f"{n} {street}", f"Số {n} {street}", f"{n} {street}", f"{n}, {street}")[v % 4]
        line2 = (f"Phường {p.area}", f"P. {p.area}", f"{ascii_fold(p.area)} Ward")[(v // 2) % 3]
        return line1, line2
    return f"{n} {s}", ""


def render_address(place: Place, name: str, variant: int = 0) -> dict[str, str]:
    """The address object of contract v1, spelled as one particular person writes it."""
    line1, line2 = _lines(place, variant)
    out = {"name": name, "line1": line1}
    if line2:
        out["line2"] = line2
    city = place.city.name
    out["city"] = city.upper() if variant % 7 == 6 else city
    out["postcode"] = place.postcode
    out["country"] = place.country
    return out


def geo_for(rng: random.Random, city: City, country: str) -> dict[str, object]:
    """A geo object a little off the city centre (the app rounds location)."""
    return {
        "country": country,
        "region": city.region,
        "city": city.name,
        "lat": round(city.lat + rng.uniform(-0.06, 0.06), 4),
        "lon": round(city.lon + rng.uniform(-0.06, 0.06), 4),
    }
