"""Go's regexp syntax against Go: its exact errors, what it accepts, how it matches, and
PocketBase's random strings from a pattern."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from pbk_records.gocompat.random_by_regex import generate_from_pattern
from pbk_records.gocompat.regexp import go_regex_error, go_regex_match

REGEX_ERRORS = [
    ("a{1001}", "invalid repeat count: `{1001}`"),
    ("a**", "invalid nested repetition operator: `**`"),
    ("a*??", "invalid nested repetition operator: `*??`"),
    ("x{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
    ("a{2,1}", "invalid repeat count: `{2,1}`"),
    ("(a{100}){20}", "invalid repeat count: `{20}`"),
    ("\\1", "invalid escape sequence: `\\1`"),
    ("\\8", "invalid escape sequence: `\\8`"),
    ("\\q", "invalid escape sequence: `\\q`"),
    ("\\C", "invalid escape sequence: `\\C`"),
    ("\\é", "invalid escape sequence: `\\é`"),
    ("\\x4", "invalid escape sequence: `\\x4`"),
    ("\\x{110000}", "invalid escape sequence: `\\x{110000`"),
    ("\\x{}", "invalid escape sequence: `\\x{}`"),
    ("[\\b]", "invalid escape sequence: `\\b`"),
    ("[a-\\d]", "invalid escape sequence: `\\d`"),
    ("\\", "trailing backslash at end of expression: ``"),
    ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
    ("(?P=x)", "invalid or unsupported Perl syntax: `(?P`"),
    ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
    ("(?i-)", "invalid or unsupported Perl syntax: `(?i-)`"),
    ("(?<=a)", "invalid named capture: `(?<=a)`"),
    ("(?P<>a)", "invalid named capture: `(?P<>`"),
    ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
    ("[z-a]", "invalid character class range: `z-a`"),
    ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
    ("\\p", "invalid character class range: `\\p`"),
    ("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
    ("a)", "unexpected ): `a)`"),
    ("(a", "missing closing ): `(a`"),
    ("*a", "missing argument to repetition operator: `*`"),
    ("[a-", "missing closing ]: `[a-`"),
]


@pytest.mark.parametrize(("pattern", "message"), REGEX_ERRORS)
def test_go_regex_errors(pattern: str, message: str) -> None:
    assert go_regex_error(pattern) == f"error parsing regexp: {message}"


@pytest.mark.parametrize(
    "pattern",
    ["a{01}", "\\12", "a{,5}", "[]a]", "[[:^alpha:]]", "\\pN", "\\p{Greek}", "(?<n>a)", "(?P<n>a)", "\\Qa.b\\E", "(?i)ab", "x{0}", "a*?"],
)
def test_go_regex_accepts(pattern: str) -> None:
    assert go_regex_error(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("^[a-z]+$", "abc", True),
        ("^[a-z]+$", "abc\n", False),
        ("(?m)^b$", "a\nb\nc", True),
        ("\\d", "٣", False),
        ("\\w", "é", False),
        ("\\s", "\v", False),
        ("\\bé", " é", False),
        ("(?i)straße", "STRASSE", False),
        ("(?i)k", "\u212a", True),
        ("a.c", "a\nc", False),
        ("(?s)a.c", "a\nc", True),
        ("a{01}", "a{01}", True),
        ("\\Qa.b\\E", "axb", False),
        ("[[:alpha:]]+", "abc", True),
        ("\\pL", "é", True),
        ("\\p{Greek}", "λ", True),
        ("\\p{Greek}", "l", False),
        ("x\\z", "x", True),
        ("b", "abc", True),
    ],
)
def test_go_regex_match(pattern: str, value: str, matches: bool) -> None:
    assert go_regex_match(pattern, value) is matches


def test_generate_from_pattern() -> None:
    assert re.fullmatch("[a-z0-9]{15}", generate_from_pattern("[a-z0-9]{15}"))
    assert re.fullmatch("[a-zA-Z0-9]{50}", generate_from_pattern("[a-zA-Z0-9]{50}"))
    assert re.fullmatch(r"ab-[0-9]{3}(x|yz)", generate_from_pattern(r"ab-\d{3}(x|yz)"))
    # PocketBase's quirks: counts are drawn from [min, max), `?` never repeats, * and + up to 5
    lengths = Counter(len(generate_from_pattern("[a-z]{2,4}")) for _ in range(200))
    assert set(lengths) == {2, 3}
    assert {generate_from_pattern("xa?") for _ in range(50)} == {"x"}
    assert max(len(generate_from_pattern("b*")) for _ in range(300)) == 5
    assert min(len(generate_from_pattern("c+")) for _ in range(300)) == 1
    # case folding: literals become their smallest case variant, [Aa] is one literal
    assert generate_from_pattern("(?i)ab") == "AB"
    assert generate_from_pattern("[aA]{5}") == "AAAAA"
    assert generate_from_pattern("(?i)k{3}") == "KKK"
    assert set("".join(generate_from_pattern("(?i)[a-c]{8}") for _ in range(20))) == set("abcABC")
    assert re.fullmatch("[A-Za-z0-9]{5}", generate_from_pattern(".{5}"))
    assert generate_from_pattern("<uuidv7>") == "<uuidv7>"
    assert all(not ("a" <= c <= "z") for c in generate_from_pattern("[^a-z]{20}"))
    for pattern, op in (("^x", 9), ("x$", 10), ("\\bx", 11), ("(?:)", 2)):
        with pytest.raises(ValueError, match=f"unsupported pattern operator {op}"):
            generate_from_pattern(pattern)


def test_a_fixed_count_of_an_ascii_class_is_drawn_uniformly() -> None:
    """The one-call path of ids (``[a-z0-9]{15}``): every character of the class, none other,
    about equally often (a class whose size is no power of two needs its draws redrawn)."""
    drawn = Counter("".join(generate_from_pattern("[a-e0-1]{50}") for _ in range(400)))
    assert set(drawn) == set("abcde01")
    assert all(2000 < count < 3700 for count in drawn.values())  # 20,000 / 7 = 2,857 each
    assert generate_from_pattern("[x]{4}") == "xxxx"  # a class of one: nothing to draw
