"""The filter tokenizer and parser: every operator, literal, escape, comment and error."""

from __future__ import annotations

import pytest
from pbk_records.filter import (
    MAX_EXPRESSIONS,
    MAX_LENGTH,
    MAX_NESTING,
    Comparison,
    FilterError,
    Group,
    Operand,
    parse,
)
from pbk_records.filter.lexer import SIGNS

GENERIC_400 = "Something went wrong while processing your request."


def only(expression: str) -> Comparison:
    tree = parse(expression)
    assert len(tree.items) == 1
    node = tree.items[0][1]
    assert isinstance(node, Comparison)
    return node


def ident(name: str) -> Operand:
    return Operand("identifier", name)


def text(value: str) -> Operand:
    return Operand("text", value)


def number(value: str) -> Operand:
    return Operand("number", value)


def invalid(expression: str) -> FilterError:
    with pytest.raises(FilterError) as info:
        parse(expression)
    assert info.value.status == 400
    assert info.value.message == GENERIC_400
    assert info.value.to_json() == {"data": {}, "message": GENERIC_400, "status": 400}
    return info.value


# -- operators and joins --------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(SIGNS))
def test_every_operator(op: str) -> None:
    assert only(f"title {op} 'x'") == Comparison(ident("title"), op, text("x"))
    assert only(f"title{op}'x'") == Comparison(ident("title"), op, text("x"))


def test_the_sixteen_operators() -> None:
    assert SIGNS == {
        "=", "!=", ">", ">=", "<", "<=", "~", "!~",
        "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
    }  # fmt: skip


@pytest.mark.parametrize("bad", ["==", "=!", "<>", "??", "?", "!", "=<", "~~", "!==", "?!", ">=="])
def test_invalid_operators(bad: str) -> None:
    invalid(f"title {bad} 'x'")


def test_joins_keep_their_order() -> None:
    tree = parse("a = 1 && b = 2 || c = 3")
    assert [join for join, _ in tree.items] == ["&&", "&&", "||"]
    assert [node.left.value for _, node in tree.items] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "bad",
    ["a = 1 &&& b = 2", "a = 1 ||| b = 2", "a = 1 & b = 2", "a = 1 | b = 2", "a = 1 &| b = 2"],
)
def test_invalid_joins(bad: str) -> None:
    invalid(bad)


def test_groups_nest() -> None:
    tree = parse("a = 1 && (b = 2 || (c = 3 && d = 4))")
    assert tree.items[0][1] == Comparison(ident("a"), "=", number("1"))
    inner = tree.items[1][1]
    assert isinstance(inner, Group)
    assert inner.items[0][1].left == ident("b")
    assert isinstance(inner.items[1][1], Group)
    assert inner.items[1][0] == "||"


def test_redundant_parentheses_collapse() -> None:
    assert parse("((((a = 1))))") == parse("a = 1")
    assert parse("(a = 1) && ((b = 2))") == parse("a = 1 && b = 2")


def test_fexpr_quirk_group_without_join_uses_the_last_join() -> None:
    assert parse("a = 1 (b = 2)") == parse("a = 1 && b = 2")
    assert parse("a = 1 || b = 2 (c = 3)") == parse("a = 1 || b = 2 || c = 3")
    assert parse("(a = 1) (b = 2)") == parse("a = 1 && b = 2")


def test_fexpr_quirk_group_inside_an_expression_drops_it() -> None:
    assert parse("title = (views = 1)") == parse("views = 1")
    assert parse("title (views = 1)") == parse("views = 1")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "\n\t",
        "()",
        "a = 1 && ()",
        "( )",
        "title",
        "title =",
        "= 'x'",
        "'x' = 'x' 'y'",
        "a = 'a' = 'b'",
        "a = 1 ||",
        "&& a = 1",
        "a = 1 && && b = 2",
        "a = 1 and b = 2",
        "(a = 1",
        "a = 1)",
        "a = (",
        "(a = 1) b = 2",
        "a = 1 /* c */",
        "a = 1 /",
    ],
)
def test_malformed_expressions(bad: str) -> None:
    invalid(bad)


# -- literals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('"plain"', "plain"),
        ("'plain'", "plain"),
        ('""', ""),
        ("''", ""),
        ('"a\\"b"', 'a"b'),
        ("'a\\'b'", "a'b"),
        ("'a\\\"b'", 'a"b'),
        ('"a\\\'b"', "a'b"),
        ('"a\\\\b"', "a\\b"),
        ('"a\\\\"', "a\\"),
        ('"a\\\\\\"b"', 'a\\"b'),
        ('"a\\nb"', "a\nb"),
        ('"a\\rb"', "a\rb"),
        ('"a\\tb"', "a\tb"),
        ('"a\\xb\\q"', "a\\xb\\q"),
        ('"\\u0041"', "\\u0041"),
        ('"a\\\\nb"', "a\\nb"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ('"ünï ✓ 中"', "ünï ✓ 中"),
        ('"a // not a comment"', "a // not a comment"),
        ('"(paren"', "(paren"),
        ('"new\nline"', "new\nline"),
    ],
)
def test_text_literals_and_escapes(source: str, value: str) -> None:
    assert only(f"title = {source}").right == text(value)


@pytest.mark.parametrize("bad", ['"unterminated', "'unterminated", '"a\\"', "'it''s'", '"a\\\\\\"'])
def test_unterminated_texts(bad: str) -> None:
    invalid(f"title = {bad}")


@pytest.mark.parametrize(
    "source",
    ["10", "0", "01", "-5", "-3.5", "1.25", "-.5", "00.5", "123456789012345678901234567890"],
)
def test_numbers(source: str) -> None:
    assert only(f"views = {source}").right == number(source)
    assert only(f"views={source}").right == number(source)


@pytest.mark.parametrize(
    "bad", ["1.", ".5", "1e3", "1.2.3", "--5", "-", "- 5", "5-", "1e", "0x10", "1_000"]
)
def test_invalid_numbers(bad: str) -> None:
    invalid(f"views = {bad}")


@pytest.mark.parametrize("word", ["true", "false", "null", "TRUE", "Null"])
def test_keywords_are_identifiers_until_resolved(word: str) -> None:
    assert only(f"a = {word}").right == ident(word)


# -- identifiers, modifiers, macros, @request, @collection -------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "title",
        "author.profile.name",
        "comments_via_post.message",
        "meta.arr.0",
        "loc.lon",
        "tags:each",
        "tags:length",
        "title:lower",
        "@request.body.title:isset",
        "@request.body.title:changed",
        "@request.body.tags:each",
        "@request.auth.id",
        "@request.auth.profile.name",
        "@request.query.page",
        "@request.headers.x_token",
        "@request.method",
        "@request.context",
        "@collection.tags.name",
        "@collection.tags:t.name",
        "@collection.tags:t.owner.name:lower",
        "@now",
        "@second",
        "@minute",
        "@hour",
        "@weekday",
        "@day",
        "@month",
        "@year",
        "@yesterday",
        "@tomorrow",
        "@todayStart",
        "@todayEnd",
        "@monthStart",
        "@monthEnd",
        "@yearStart",
        "@yearEnd",
        "#hash",
        "_under",
        "a1.b2",
    ],
)
def test_identifiers(name: str) -> None:
    assert only(f"{name} = 1").left == ident(name)
    assert only(f"1 = {name}").right == ident(name)


@pytest.mark.parametrize(
    "bad",
    ["title. = 1", "title.. = 1", ".title = 1", "title: = 1", "a-b = 1", "@ = 1", "tïtle = 1"],
)
def test_invalid_identifiers(bad: str) -> None:
    invalid(bad)


# -- functions ---------------------------------------------------------------------------------


def test_functions() -> None:
    cmp = only('strftime("%Y-%m", when, "+1 month") = "2024-02"')
    assert cmp.left == Operand(
        "function", "strftime", (text("%Y-%m"), ident("when"), text("+1 month"))
    )
    cmp = only("geoDistance(loc.lon, loc.lat, -0.12, 51.5) < 10")
    assert cmp.left.args == (ident("loc.lon"), ident("loc.lat"), number("-0.12"), number("51.5"))
    assert only("x = strftime('%Y')").right == Operand("function", "strftime", (text("%Y"),))
    assert only("f() = 1").left == Operand("function", "f", ())


def test_function_arguments_take_a_trailing_comma_and_comments() -> None:
    """fexpr skips comments between arguments and accepts a comma before ``)``."""
    plain = only('strftime("%Y", when) = 1').left
    assert only('strftime("%Y", when,) = 1').left == plain
    assert only('strftime("%Y", // the format\n when // the date\n) = 1').left == plain


@pytest.mark.parametrize(
    "bad",
    [
        'strftime ("%Y", when) = 1',
        'strftime("%Y", when = 1',
        'strftime(,"%Y") = 1',
        'strftime("%Y" when) = 1',
        'strftime("%Y", strftime("%Y", when)) = 1',
        "f(a b) = 1",
        "f(&&) = 1",
    ],
)
def test_malformed_functions(bad: str) -> None:
    invalid(bad)


# -- comments and whitespace -------------------------------------------------------------------


def test_comments() -> None:
    assert parse("a = 1 // trailing") == parse("a = 1")
    assert parse("a = 1 // one\n&& b = 2 // two") == parse("a = 1 && b = 2")
    assert parse("// first\na = 1") == parse("a = 1")
    assert parse("a = 1//tight") == parse("a = 1")
    assert parse("(a = 1 // inside\n)") == parse("a = 1")


def test_comment_only_is_invalid() -> None:
    invalid("// nothing")
    invalid("// one\n// two")


def test_fexpr_quirk_close_paren_in_a_comment_closes_the_group() -> None:
    invalid("a = 1 || (b = 2 // )\n)")
    invalid("(a = 1 // it's\n)")


@pytest.mark.parametrize("ws", [" ", "\t", "\n", " \n\t "])
def test_whitespace(ws: str) -> None:
    assert parse(f"a{ws}={ws}1{ws}&&{ws}b{ws}={ws}2") == parse("a = 1 && b = 2")


@pytest.mark.parametrize("ws", ["\r", "\f", "\v", "\u00a0"])
def test_other_whitespace_is_invalid(ws: str) -> None:
    invalid(f"a = 1{ws}&& b = 2")


# -- limits and cache -------------------------------------------------------------------------------


def test_expression_limit() -> None:
    parse(" || ".join(["a = 1"] * MAX_EXPRESSIONS))
    parse(" || ".join(["(a = 1 && b = 2)"] * (MAX_EXPRESSIONS // 2)))
    invalid(" || ".join(["a = 1"] * (MAX_EXPRESSIONS + 1)))
    invalid(" || ".join(["(a = 1 && b = 2)"] * (MAX_EXPRESSIONS // 2)) + " || c = 3")


def test_length_limit_counts_utf8_bytes() -> None:
    head = "title = '"
    assert MAX_LENGTH == 3500
    parse(head + "x" * (MAX_LENGTH - len(head) - 1) + "'")
    invalid(head + "x" * (MAX_LENGTH - len(head)) + "'")
    parse(head + "é" * ((MAX_LENGTH - len(head) - 1) // 2) + "'")
    invalid(head + "é" * ((MAX_LENGTH - len(head)) // 2 + 1) + "'")


def test_nesting_limit_without_recursion() -> None:
    deep = "(" * MAX_NESTING + "a = 1" + ")" * MAX_NESTING
    assert parse(deep) == parse("a = 1")
    invalid("(" * (MAX_NESTING + 1) + "a = 1" + ")" * (MAX_NESTING + 1))
    chain = "a = 0"
    for i in range(1, MAX_EXPRESSIONS):
        chain = f"a = {i} || ({chain})"
    tree = parse(chain)
    depth = 0
    node = tree
    while isinstance(node, Group):
        depth += 1
        node = node.items[-1][1]
    assert depth >= MAX_EXPRESSIONS - 1


def test_parse_is_cached_and_immutable() -> None:
    first = parse("title = 'cached' && views > 1")
    assert parse("title = 'cached' && views > 1") is first
    with pytest.raises(AttributeError):
        first.items = ()  # type: ignore[misc]


def test_cached_errors_raise_fresh_exceptions() -> None:
    errors = [invalid("title = ") for _ in range(2)]
    assert errors[0] is not errors[1]
    assert errors[0].detail == errors[1].detail


def test_non_string_input() -> None:
    with pytest.raises(FilterError):
        parse(None)  # type: ignore[arg-type]


def test_a_placeholder_is_its_own_token_outside_quotes() -> None:
    assert only("title = {:t}") == Comparison(ident("title"), "=", Operand("placeholder", "t"))
    assert only("{:a}!={:b_2}").left == Operand("placeholder", "a")
    assert only('title = "{:t}"').right == text("{:t}")
    assert only("title = '{:t} || id != '").right == text("{:t} || id != ")
    fn = only("strftime('%Y', {:when}) = {:year}").left
    assert fn.args[1] == Operand("placeholder", "when")


@pytest.mark.parametrize("bad", ["title = {t}", "title = {:}", "title = {:t", "title = {:é}", "title = {:a-b}"])
def test_invalid_placeholders(bad: str) -> None:
    with pytest.raises(FilterError):
        parse(bad)
