"""The `where` parser: exact conditions for valid texts, exact columns for invalid ones, and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker_client.validation import name_problem
from tracker_server.domain import where
from tracker_server.domain.errors import InvalidArgument
from tracker_server.domain.where import KEYWORDS, MAX_WHERE_LENGTH, Condition, Op, Value, parse_where

NAN = float("nan")
INF = float("inf")


def cond(name: str, op: Op, value: Value, position: int) -> Condition:
    return Condition(name, op, value, (), position)


def among(name: str, values: tuple[Value, ...], position: int, *, negated: bool = False) -> Condition:
    return Condition(name, "not in" if negated else "in", None, values, position)


def _typed(value: object) -> tuple[str, str]:
    """Tells 1 from 1.0 from True and compares NaN equal to itself (Condition's == does neither)."""
    return type(value).__name__, repr(value)


def key(conditions: tuple[Condition, ...]) -> list[tuple[object, ...]]:
    return [(c.name, c.op, _typed(c.value), [_typed(v) for v in c.values], c.position) for c in conditions]


VALID: list[tuple[str, tuple[Condition, ...]]] = [
    ("", ()),
    (" \t\n  ", ()),
    ("lr < 0.01", (cond("lr", "<", 0.01, 0),)),
    ("lr < 0.01 and optimizer = 'adam'", (cond("lr", "<", 0.01, 0), cond("optimizer", "=", "adam", 14))),
    ("  lr<0.01", (cond("lr", "<", 0.01, 2),)),
    # operators; == is =
    ("x == 1", (cond("x", "=", 1, 0),)),
    ("x=1", (cond("x", "=", 1, 0),)),
    ("x != 1", (cond("x", "!=", 1, 0),)),
    ("x <= 1", (cond("x", "<=", 1, 0),)),
    ("x > 1", (cond("x", ">", 1, 0),)),
    ("x>=1", (cond("x", ">=", 1, 0),)),
    # numbers: int stays int, anything with a point or an exponent is a float
    ("x = 1.0", (cond("x", "=", 1.0, 0),)),
    ("x = 1e-3", (cond("x", "=", 0.001, 0),)),
    ("x = 1E3", (cond("x", "=", 1000.0, 0),)),
    ("x=-1", (cond("x", "=", -1, 0),)),
    ("x = +7", (cond("x", "=", 7, 0),)),
    ("x = 007", (cond("x", "=", 7, 0),)),
    ("x = -0", (cond("x", "=", 0, 0),)),
    ("x = -0.0", (cond("x", "=", -0.0, 0),)),
    ("x >= -2.5E+3", (cond("x", ">=", -2500.0, 0),)),
    ("x<=-1e-3", (cond("x", "<=", -0.001, 0),)),
    ("x < .5", (cond("x", "<", 0.5, 0),)),
    ("x < 5.", (cond("x", "<", 5.0, 0),)),
    ("x = 9223372036854775807", (cond("x", "=", 2**63 - 1, 0),)),
    ("x = -9223372036854775808", (cond("x", "=", -(2**63), 0),)),
    ("x = 1e300", (cond("x", "=", 1e300, 0),)),
    ("x != nan", (cond("x", "!=", NAN, 0),)),
    ("x = NaN", (cond("x", "=", NAN, 0),)),
    ("x = -nan", (cond("x", "=", NAN, 0),)),
    ("x < inf", (cond("x", "<", INF, 0),)),
    ("x > -INF", (cond("x", ">", -INF, 0),)),
    ("x = +Inf", (cond("x", "=", INF, 0),)),
    # booleans, case-insensitive
    ("flag = true", (cond("flag", "=", True, 0),)),
    ("flag = FALSE", (cond("flag", "=", False, 0),)),
    ("flag != True", (cond("flag", "!=", True, 0),)),
    # strings, either quote, with escapes; comparisons accept strings
    ("x = '1'", (cond("x", "=", "1", 0),)),
    ('x = "adam"', (cond("x", "=", "adam", 0),)),
    ("x = ''", (cond("x", "=", "", 0),)),
    ("x = 'it\\'s'", (cond("x", "=", "it's", 0),)),
    ('x = "say \\"hi\\""', (cond("x", "=", 'say "hi"', 0),)),
    ("x = 'C:\\\\data'", (cond("x", "=", "C:\\data", 0),)),
    ("x = 'a\"b'", (cond("x", "=", 'a"b', 0),)),
    ('x = "a\'b"', (cond("x", "=", "a'b", 0),)),
    ("x = 'a\\\"b'", (cond("x", "=", 'a"b', 0),)),
    ("x = ' and y = 1 '", (cond("x", "=", " and y = 1 ", 0),)),
    ("x = 'β\nγ'", (cond("x", "=", "β\nγ", 0),)),
    ("x < 'b'", (cond("x", "<", "b", 0),)),
    ('x >= "m"', (cond("x", ">=", "m", 0),)),
    ("x = 'true'", (cond("x", "=", "true", 0),)),
    ("x = '1'and y=2", (cond("x", "=", "1", 0), cond("y", "=", 2, 11))),
    # bare names
    ("val/acc >= 0.9", (cond("val/acc", ">=", 0.9, 0),)),
    ("model.depth = 18", (cond("model.depth", "=", 18, 0),)),
    ("train-loss <= 1", (cond("train-loss", "<=", 1, 0),)),
    ("train/loss_ema != nan", (cond("train/loss_ema", "!=", NAN, 0),)),
    ("β > 0", (cond("β", ">", 0, 0),)),
    ("学习率=1", (cond("学习率", "=", 1, 0),)),
    ("a\\b = 1", (cond("a\\b", "=", 1, 0),)),
    ("x~y = 1", (cond("x~y", "=", 1, 0),)),
    ("1 = 2", (cond("1", "=", 2, 0),)),
    ("nan = 1", (cond("nan", "=", 1, 0),)),
    ("or = 1", (cond("or", "=", 1, 0),)),
    ("Android = 1", (cond("Android", "=", 1, 0),)),
    ("x" * 256 + " = 1", (cond("x" * 256, "=", 1, 0),)),
    # quoted names
    ("`batch size` = 32", (cond("batch size", "=", 32, 0),)),
    ("`in` = 1 and `TRUE` = true", (cond("in", "=", 1, 0), cond("TRUE", "=", True, 13))),
    ("`a\\`b` = 1", (cond("a`b", "=", 1, 0),)),
    ("`a\\\\b` = 1", (cond("a\\b", "=", 1, 0),)),
    ("`x = y` != 'z'", (cond("x = y", "!=", "z", 0),)),
    ('`it\'s` = "x"', (cond("it's", "=", "x", 0),)),
    # in / not in, trailing comma, mixed values, keywords in any case
    ("x in (1)", (among("x", (1,), 0),)),
    ("x IN (1, 2.0, 'a', true,)", (among("x", (1, 2.0, "a", True), 0),)),
    ("x in(1,2)", (among("x", (1, 2), 0),)),
    ("x in ( 1 , 2 , )", (among("x", (1, 2), 0),)),
    ("x not in ('sgd', \"rmsprop\")", (among("x", ("sgd", "rmsprop"), 0, negated=True),)),
    ("x NOT In(-1e3, nan)", (among("x", (-1000.0, NAN), 0, negated=True),)),
    ("model.depth in (18, 34, 50)", (among("model.depth", (18, 34, 50), 0),)),
    ("x in (1, 1)", (among("x", (1, 1), 0),)),
    # and, case-insensitive, with any whitespace
    (
        "a = 1 AND b = 2 And c = 3 and d in (4)",
        (cond("a", "=", 1, 0), cond("b", "=", 2, 10), cond("c", "=", 3, 20), among("d", (4,), 30)),
    ),
    ("lr < 1\nand\tx = 2", (cond("lr", "<", 1, 0), cond("x", "=", 2, 11))),
    ("x in (1)and`y`=2", (among("x", (1,), 0), cond("y", "=", 2, 11))),
    (
        "β > -1e-3 and `batch size` = 32 and use_amp = TRUE",
        (cond("β", ">", -0.001, 0), cond("batch size", "=", 32, 14), cond("use_amp", "=", True, 36)),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[repr(t[:40]) for t, _ in VALID])
def test_valid_expressions_parse_to_exact_conditions(text: str, expected: tuple[Condition, ...]) -> None:
    assert key(parse_where(text)) == key(expected)


INVALID: list[tuple[str, int, tuple[str, ...]]] = [
    # missing or wrong values
    ("lr < and x = 1", 6, ("expected a value after '<'",)),
    ("x =", 4, ("expected a value after '='",)),
    ("x == ", 6, ("expected a value after '=='",)),
    ("x = adam", 5, ("expected a value", "strings need quotes, e.g. 'adam'")),
    ("x = 1.2.3", 5, ("expected a value", "'1.2.3' is not a number")),
    ("x = -", 5, ("expected a value", "not a number")),
    ("x = 1and y = 2", 5, ("expected a value", "not a number")),
    ("x = truex", 5, ("strings need quotes",)),
    ("x = `a`", 5, ("expected a value", "backticks quote names")),
    ("x = (1, 2)", 5, ("expected a value", "after 'in'")),
    ("x = 1e999", 5, ("number out of range",)),
    ("x = 9223372036854775808", 5, ("integer out of range", "64-bit")),
    ("x = -9223372036854775809", 5, ("integer out of range",)),
    # strings
    ("x = 'abc", 5, ("unterminated string", "'")),
    ('x = "abc\\"', 5, ("unterminated string", '"')),
    ("x = 'a\\'", 5, ("unterminated string",)),
    ("x = 'a\\n'", 7, ("unknown escape '\\n'",)),
    # operators
    ("x => 1", 3, ("unknown operator '=>'", "'>='")),
    ("x =< 1", 3, ("unknown operator '=<'", "'<='")),
    ("x <> 1", 3, ("unknown operator '<>'", "'!='")),
    ("x === 1", 3, ("unknown operator '==='",)),
    ("x ! 1", 3, ("unknown operator '!'",)),
    ("x ~ 1", 3, ("unknown operator '~'",)),
    ("x ~= 1", 3, ("unknown operator '~='",)),
    ("x !~ 'a'", 3, ("unknown operator '!~'",)),
    ("x % 1", 3, ("unknown operator '%'",)),
    ("lr 0.1", 4, ("expected an operator after 'lr'",)),
    ("lr", 3, ("expected an operator after 'lr'",)),
    ("lr 'a'", 4, ("expected an operator",)),
    ("lr -1", 4, ("expected an operator",)),
    ("x not = 1", 7, ("expected 'in' after 'not'", "!=")),
    ("x not", 6, ("expected 'in' after 'not'",)),
    # in lists
    ("x in ()", 7, ("empty list", "at least one value")),
    ("x in ( )", 8, ("empty list",)),
    ("x not in ()", 11, ("empty list",)),
    ("x in 1", 6, ("expected '(' after 'in'",)),
    ("x in", 5, ("expected '(' after 'in'",)),
    ("x in (1, 2", 11, ("expected ',' or ')'", "'(' at column 6 is not closed")),
    ("x in (1 2)", 9, ("expected ',' or ')'",)),
    ("x in (1,,2)", 9, ("expected a value after ','",)),
    ("x in (,)", 7, ("expected a value after '('",)),
    ("x in ((1))", 7, ("expected a value after '('",)),
    # no or
    ("x = 1 or y = 2", 7, ('only "and" is supported', "'or'")),
    ("x = 1 OR y = 2", 7, ('only "and" is supported', "'OR'")),
    ("x = 1 || y = 2", 7, ('only "and" is supported',)),
    ("x = 1 and or y = 2", 11, ('only "and" is supported',)),
    ("x = 1 && y = 2", 7, ("expected 'and' or the end", "write 'and'")),
    # trailing garbage, stray parentheses
    ("x = 1 y = 2", 7, ("expected 'and' or the end of the expression",)),
    ("x = 1 2", 7, ("expected 'and' or the end",)),
    ("x = 'a' 'b'", 9, ("expected 'and' or the end",)),
    ("x = 1)", 6, ("unexpected ')'", "no '(' is open")),
    ("x in (1))", 9, ("unexpected ')'",)),
    (") x = 1", 1, ("unexpected ')'",)),
    ("(x = 1)", 1, ("expected a name", "parentheses")),
    ("x = 1 and", 10, ("expected a condition after 'and'",)),
    ("x = 1 and ", 11, ("expected a condition after 'and'",)),
    # names
    ("and x = 1", 1, ("expected a name", "'and' is a keyword", "`and`")),
    ("In = 1", 1, ("expected a name", "keyword")),
    ("not x = 1", 1, ("expected a name", "keyword")),
    ("x = 1 and true = 1", 11, ("expected a name", "keyword")),
    ("'x' = 1", 1, ("expected a name", "backticks")),
    ("= 1", 1, ("expected a name",)),
    ("`lr < 1", 1, ("unbalanced backtick", "not closed")),
    ("x = 1 and `y = 2", 11, ("unbalanced backtick",)),
    ("lr` < 1", 3, ("unbalanced backtick",)),
    ("`` = 1", 1, ("invalid name", "must not be empty")),
    ("`a\\nb` = 1", 3, ("unknown escape '\\n'",)),
    ("a\x00b = 1", 1, ("invalid name", "non-printable")),
    ("`a\tb` = 1", 1, ("invalid name", "non-printable")),
    ("x" * 257 + " = 1", 1, ("invalid name", "the limit is 256")),
]


@pytest.mark.parametrize(("text", "column", "words"), INVALID, ids=[repr(t[:40]) for t, _, _ in INVALID])
def test_invalid_expressions_name_the_column(text: str, column: int, words: tuple[str, ...]) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_where(text)
    message = str(raised.value)
    first = message.splitlines()[0]
    assert first.startswith("where: ") and f" at column {column}" in first, message
    for word in words:
        assert word in first, message
    _assert_caret(text, message)


def _assert_caret(text: str, message: str) -> None:
    """The caret line points at the reported column of the text shown (on one line) above it."""
    first, shown, caret = message.split("\n")
    found = re.search(r" at column (\d+)", first)
    assert found is not None, message
    offset, at = int(found.group(1)) - 1, len(caret) - 1
    assert 0 <= offset <= len(text) and caret == " " * at + "^" and shown.startswith("  "), message
    if len(text) <= 60:  # shown whole
        assert at - 2 == offset and len(shown) - 2 == len(text), message
    if offset < len(text):
        char = text[offset]
        assert shown[at] == (char if char.isprintable() else " " if char.isspace() else "?"), message
    else:
        assert len(shown) == at or shown.endswith("..."), message


def test_the_message_reads_as_documented() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_where("lr < and x = 1")
    assert str(raised.value) == "where: expected a value after '<' at column 6\n  lr < and x = 1\n       ^"


def test_a_multiline_text_is_shown_on_one_line() -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_where("lr < 1\nand\tx ~ 2")
    assert str(raised.value).split("\n")[1:] == ["  lr < 1 and x ~ 2", "  " + " " * 13 + "^"]


def test_a_long_text_is_shown_around_the_column() -> None:
    text = " and ".join(f"n{i} = {i}" for i in range(100)) + " and bad ~ 1"
    with pytest.raises(InvalidArgument) as raised:
        parse_where(text)
    offset = text.index("~")
    _, shown, caret = str(raised.value).split("\n")
    assert f"at column {offset + 1}" in str(raised.value)
    assert shown.startswith("  ...") and len(shown) < 140
    assert shown[len(caret) - 1] == "~" and caret.strip() == "^"


def test_the_text_is_limited() -> None:
    longest = "x = '" + "a" * (MAX_WHERE_LENGTH - 6) + "'"
    assert len(longest) == MAX_WHERE_LENGTH
    assert parse_where(longest)[0].value == "a" * (MAX_WHERE_LENGTH - 6)
    with pytest.raises(InvalidArgument, match="4097 characters long; the limit is 4096"):
        parse_where(longest + " ")


# Properties: rendering random conditions and parsing them back; garbage only ever raises InvalidArgument.

_NOT_BARE = set("=!<>(),'\"`")


def _can_be_bare(name: str) -> bool:
    return not any(c.isspace() or c in _NOT_BARE for c in name) and not (
        name.isascii() and name.lower() in KEYWORDS
    )


def _quoted(text: str, quote: str) -> str:
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _cased(draw: st.DrawFn, word: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


names = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_./-]{0,12}", fullmatch=True),
    st.sampled_from(
        ["and", "In", "not", "TRUE", "false", "or", "nan", "1", "β", "a b", "x`y", "a\\b", "=", "()"]
    ),
    st.text(min_size=1, max_size=12),
).filter(lambda name: name_problem("name", name) is None)
values: st.SearchStrategy[Value] = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
)
OPS: dict[str, Op] = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "in": "in",
    "not in": "not in",
}
spaces = st.sampled_from(["", " ", "  ", "\t", "\n", " \r\n "])


@st.composite
def _value_text(draw: st.DrawFn, value: Value) -> str:
    if isinstance(value, bool):
        return _cased(draw, str(value).lower())
    if isinstance(value, int):
        return draw(st.sampled_from(["", "+"])) + str(value) if value >= 0 else str(value)
    if isinstance(value, float):
        return _cased(
            draw, repr(value)
        )  # repr keeps a "." or an "e" (or is nan/inf): it reads back as a float
    return _quoted(value, draw(st.sampled_from(["'", '"'])))


@st.composite
def rendered(draw: st.DrawFn) -> tuple[str, tuple[Condition, ...]]:
    """A valid text and the conditions it must parse to."""
    parts: list[str] = []
    expected: list[Condition] = []

    def add(token: str) -> None:
        space, before = draw(spaces), "".join(parts)
        if not space and before and not (before[-1].isspace() or {before[-1], token[0]} & _NOT_BARE):
            space = " "  # two bare words would run together
        parts.append(space + token)

    parts.append(draw(spaces))
    for i in range(draw(st.integers(min_value=1, max_value=4))):
        if i:
            add(_cased(draw, "and"))
        name = draw(names)
        add(name if _can_be_bare(name) and draw(st.booleans()) else _quoted(name, "`"))
        position = len("".join(parts)) - len(parts[-1].lstrip())
        written = draw(st.sampled_from(["=", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]))
        op = OPS[written]
        if op in ("in", "not in"):
            listed = tuple(draw(st.lists(values, min_size=1, max_size=4)))
            add(_cased(draw, written).replace(" ", draw(st.sampled_from([" ", "  ", "\n"]))))
            add("(")
            for j, value in enumerate(listed):
                if j:
                    add(",")
                add(draw(_value_text(value)))
            if draw(st.booleans()):
                add(",")
            add(")")
            expected.append(Condition(name, op, None, listed, position))
        else:
            value = draw(values)
            add(written)
            add(draw(_value_text(value)))
            expected.append(Condition(name, op, value, (), position))
    parts.append(draw(spaces))
    return "".join(parts), tuple(expected)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rendered())
def test_rendered_conditions_parse_back(case: tuple[str, tuple[Condition, ...]]) -> None:
    text, expected = case
    assert key(parse_where(text)) == key(expected), text


def _render(condition: Condition) -> str:
    def value(v: Value) -> str:
        return _quoted(v, "'") if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else repr(v)

    name = _quoted(condition.name, "`")
    if condition.value is None:
        return f"{name} {condition.op} ({', '.join(value(v) for v in condition.values)})"
    return f"{name} {condition.op} {value(condition.value)}"


GRAMMAR_PIECES = [
    *"xβ`'\"\\(),=!<>~- \t\n.e+_0123456789",
    *("and", "AND", "or", "in", "not", "true", "False", "nan", "-inf", "1e3", "==", "!=", "<=", ">="),
]


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(GRAMMAR_PIECES), max_size=25).map("".join)))
def test_garbage_raises_only_invalid_argument(text: str) -> None:
    try:
        conditions = parse_where(text)
    except InvalidArgument as e:
        _assert_caret(text, str(e))
        return
    # Whatever parses has a canonical rendering that parses back to the same conditions.
    canonical = " and ".join(_render(c) for c in conditions)
    again = parse_where(canonical)
    assert [k[:4] for k in key(again)] == [k[:4] for k in key(conditions)]
    for condition in conditions:
        assert text[condition.position] == "`" or text.startswith(condition.name, condition.position)


def test_the_documented_examples_hold() -> None:
    doc = where.__doc__ or ""
    examples = doc.split("Examples::\n\n")[1].split("\n\n")[0].splitlines()
    assert len(examples) == 6
    for example in examples:
        assert parse_where(example.strip()), example
    shown_error = doc.split("counted in characters from 1)::\n\n")[1].rstrip().splitlines()
    with pytest.raises(InvalidArgument) as raised:
        parse_where(shown_error[1].strip())
    assert str(raised.value).splitlines() == [line.removeprefix("    ") for line in shown_error]
