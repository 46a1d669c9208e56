"""Character classes of Go's RE2 syntax as code point ranges: Perl (``\\d``, ASCII only),
POSIX (``[:alpha:]``), Unicode (``\\pL``, ``\\p{Greek}``), and Go's case folding.

Ranges are sorted lists of inclusive ``(lo, hi)`` code point pairs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

MAX_RUNE = 0x10FFFF

PERL_CLASSES = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
POSIX_CLASSES = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_UNICODE_CATEGORIES = frozenset(
    ["C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs"]
)
_UNICODE_SCRIPTS = frozenset(
    ["Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak", "Bengali", "Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee", "Chorasmian", "Common", "Coptic", "Cuneiform", "Cypriot", "Cypro_Minoan", "Cyrillic", "Deseret", "Devanagari", "Dives_Akuru", "Dogra", "Duployan", "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han", "Hangul", "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi", "Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada", "Katakana", "Kawi", "Kayah_Li", "Kharoshthi", "Khitan_Small_Script", "Khmer", "Khojki", "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu", "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Malayalam", "Mandaic", "Manichaean", "Marchen", "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi", "Mongolian", "Mro", "Multani", "Myanmar", "Nabataean", "Nag_Mundari", "Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki", "Old_Hungarian", "Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur", "Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian", "Siddham", "SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangsa", "Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Tirhuta", "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho", "Warang_Citi", "Yezidi", "Yi", "Zanabazar_Square"]
)


def _ranges_of(predicate: Callable[[int], bool]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    start = -1
    for cp in range(MAX_RUNE + 2):
        inside = cp <= MAX_RUNE and predicate(cp)
        if inside and start < 0:
            start = cp
        elif not inside and start >= 0:
            ranges.append((start, cp - 1))
            start = -1
    return ranges


@lru_cache(maxsize=64)
def unicode_table(name: str) -> tuple[tuple[int, int], ...] | None:
    """Code point ranges of a ``\\p{...}`` name (categories exactly as Python's Unicode data;
    scripts approximated by character names, Common/Inherited by category)."""
    if name == "Any":
        return ((0, MAX_RUNE),)
    if name in _UNICODE_CATEGORIES:
        if len(name) == 1:
            return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp))[0] == name))
        return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp)) == name))
    if name in _UNICODE_SCRIPTS:
        if name == "Han":
            prefixes: tuple[str, ...] = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
        elif name == "Common":
            return tuple(
                _ranges_of(
                    lambda cp: unicodedata.category(chr(cp))[0] in "PSZN" and cp < 0x2E80
                    or unicodedata.category(chr(cp)) == "Cc"
                )
            )
        elif name == "Inherited":
            return tuple(_ranges_of(lambda cp: unicodedata.category(chr(cp)) in ("Mn", "Me")))
        else:
            prefixes = (name.upper().replace("_", " ") + " ",)
        return tuple(_ranges_of(lambda cp: unicodedata.name(chr(cp), "").startswith(prefixes)))
    return None


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping and adjacent ranges joined."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def negate_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every code point (up to ``MAX_RUNE``) the ranges do not hold."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in merge_ranges(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


_FOLD_EXTRA = {
    "k": "\u212a", "K": "\u212a", "\u212a": "kK",
    "s": "\u017f", "S": "\u017f", "\u017f": "sS",
    "\u00e5": "\u212b", "\u00c5": "\u212b", "\u212b": "\u00e5\u00c5",
}


def fold_orbit(cp: int) -> set[int]:
    """The code point and its case variants (Go's ``unicode.SimpleFold`` orbit)."""
    c = chr(cp)
    orbit = {cp}
    for other in (c.lower(), c.upper(), c.title()):
        if len(other) == 1:
            orbit.add(ord(other))
    for other in _FOLD_EXTRA.get(c, ""):
        orbit.add(ord(other))
    return orbit


def fold_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``appendFoldedRange``: add the case variants of every rune (A..𞥃 is the folding span)."""
    out = list(ranges)
    for lo, hi in ranges:
        if lo <= 0x41 and hi >= 0x1E943:
            continue
        for cp in range(max(lo, 0x41), min(hi, 0x1E943) + 1):
            for other in fold_orbit(cp):
                if not lo <= other <= hi:
                    out.append((other, other))
    return merge_ranges(out)


def min_fold(cp: int) -> int:
    """The smallest case variant: what Go keeps for a case-insensitive literal."""
    return min(fold_orbit(cp))

