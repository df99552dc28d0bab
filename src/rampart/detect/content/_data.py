"""Static tables for :mod:`rampart.detect.content.contact` (word lists, character maps)."""

from __future__ import annotations

from typing import Final

# Spelled digits: English, Indonesian/Malay. Thai transliterations (song, sam, si, ha ...) are
# left out: they collide with everyday English words.
NUMBER_WORDS: Final[dict[str, str]] = {
    "zero": "0",
    "oh": "0",
    "nol": "0",
    "kosong": "0",
    "one": "1",
    "satu": "1",
    "two": "2",
    "dua": "2",
    "three": "3",
    "tiga": "3",
    "four": "4",
    "empat": "4",
    "five": "5",
    "lima": "5",
    "six": "6",
    "enam": "6",
    "seven": "7",
    "tujuh": "7",
    "eight": "8",
    "delapan": "8",
    "lapan": "8",
    "nine": "9",
    "sembilan": "9",
}

# Applied after NFKC and lower(): emoji-digit modifiers and invisible characters vanish,
# dingbat circled digits become digits, Cyrillic/Greek look-alikes become Latin letters.
_HOMOGLYPHS: Final = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "з": "3", "б": "6", "ɡ": "g", "ӏ": "l", "α": "a", "β": "b", "ε": "e", "η": "n",
    "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z",
    "ω": "w",
}  # fmt: skip


def _build_translation() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _HOMOGLYPHS.items()}
    for cp in (0xFE0F, 0xFE0E, 0x20E3, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD):
        table[cp] = None
    for base in (0x2776, 0x2780, 0x278A):  # dingbat circled digits 1..9 (the 10th is "10")
        for i in range(9):
            table[base + i] = str(i + 1)
        table[base + 9] = "10"
    table[0x24FF] = "0"  # negative circled zero
    table[0x1F51F] = "10"  # keycap ten emoji
    return table


TRANSLATION: Final = _build_translation()
EMOJI_DIGIT_CHARS: Final = frozenset(
    [chr(0x20E3), chr(0x1F51F), chr(0x24FF)]
    + [chr(c) for c in range(0x2460, 0x249B + 1)]
    + [chr(c) for c in range(0x24EA, 0x24FF + 1)]
    + [chr(c) for c in range(0x2776, 0x2793 + 1)]
)
