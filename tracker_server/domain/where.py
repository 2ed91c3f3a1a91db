r"""The ``where`` filter language: parsed here, apart from SQL and gRPC, so every caller rejects the same
texts with the same message (an InvalidArgument naming the column, with a caret under it). The parser
only builds Condition values and never evaluates the text; what a condition means for a run (a missing
name, ordering strings, NaN) is the caller's business.

Grammar (EBNF). The words ``and``, ``in``, ``not``, ``true``, ``false``, ``nan`` and ``inf`` are
case-insensitive. Whitespace between tokens is free (and optional where they cannot run together)::

    expression = [ condition { "and" condition } ] ;
    condition  = name operator value
               | name [ "not" ] "in" "(" value { "," value } [ "," ] ")" ;
    operator   = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" ;
    value      = number | string | "true" | "false" ;
    number     = [ "+" | "-" ] ( digits [ "." [ digits ] ] [ exponent ]
                               | "." digits [ exponent ]
                               | "nan" | "inf" ) ;
    exponent   = ( "e" | "E" ) [ "+" | "-" ] digits ;
    digits     = digit { digit } ;
    string     = "'" { ? any character but ' and \ ? | escape } "'"
               | '"' { ? any character but " and \ ? | escape } '"' ;
    escape     = "\'" | '\"' | "\\" ;
    name       = bare | quoted ;
    bare       = ? one or more characters, none of them whitespace or one of  = ! < > ( ) , ' " `
                   and not a keyword: and, in, not, true, false ? ;
    quoted     = "`" { ? any character but ` and \ ? | "\`" | "\\" } "`" ;

- A number without a "." or an exponent is an integer (``1``, ``-7``; signed 64-bit); any other number
  is a float (``1.0``, ``1e-3``, ``.5``, ``nan``, ``-inf``).
- ``==`` is the same as ``=``. Comparisons accept any value, strings included.
- There is no ``or`` and no grouping with parentheses: for alternatives of one name, use ``in``.
- Bare names cover the usual tag and hyperparameter names (``val/acc``, ``model.depth``, ``train-loss``,
  ``β``). Put a name in backticks when it has whitespace, an operator character or a quote, or equals a
  keyword. Names follow the usual rules: 1-256 printable characters.
- An empty text filters nothing. The text is at most 4096 characters long.

Examples::

    lr < 0.01 and optimizer = 'adam'
    val/acc >= 0.9 AND model.depth in (18, 34, 50)
    optimizer not in ("sgd", 'rmsprop',)
    train/loss_ema != nan and use_amp = TRUE
    β > -1e-3 and `batch size` = 32 and `in` = 'x'
    note = 'it\'s' and path = "C:\\data"

A rejected text names what was expected and the column (counted in characters from 1)::

    where: expected a value after '<' at column 6
      lr < and x = 1
           ^
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, NoReturn

from tracker_client.validation import name_problem
from tracker_server.domain.errors import InvalidArgument

MAX_WHERE_LENGTH = 4096
KEYWORDS = frozenset({"and", "in", "not", "true", "false"})

Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
Value = int | float | str | bool


@dataclass(frozen=True, slots=True)
class Condition:
    """``name op value``, or ``name [not] in (values...)`` (then ``value`` is None)."""

    name: str
    op: Op
    value: Value | None
    values: tuple[Value, ...]
    position: int  # 0-based offset of the name (its opening backtick when quoted) in the text


def parse_where(text: str) -> tuple[Condition, ...]:
    """The conditions of ``text``, all of which must hold; () for an empty or blank text."""
    if len(text) > MAX_WHERE_LENGTH:
        raise InvalidArgument(f"where is {len(text)} characters long; the limit is {MAX_WHERE_LENGTH}")
    return _Parser(text).expression()


_NOT_BARE = frozenset("=!<>(),'\"`")
_OPERATOR_RUN = frozenset("=!<>~")  # what an operator, right or wrong, is reported as
_OPERATORS: dict[str, Op] = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_DID_YOU_MEAN = {"=>": ">=", "=<": "<=", "<>": "!=", "=!": "!=", "!==": "!=", "===": "=", "!": "!="}
_OPERATOR_LIST = "=, ==, !=, <, <=, >, >=, in, not in"
_NUMBER = re.compile(
    r"[+-]?(?:(?P<int>[0-9]+)|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?|nan|inf)",
    re.ASCII | re.IGNORECASE,
)
_INT64 = range(-(2**63), 2**63)
_CONTEXT = 60  # characters of the text shown either side of the caret
_SHOWN_WORD = 40


def _keyword(word: str) -> str:
    """``word`` lowercased when it could be a keyword (keywords are ASCII), else unchanged."""
    return word.lower() if word.isascii() else word


def _quote(word: str, quote: str = "'") -> str:
    return quote + word.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _excerpt(text: str, offset: int) -> tuple[str, int]:
    """The part of ``text`` around ``offset`` on one line, and the index of ``offset`` in it."""
    start, end = max(0, offset - _CONTEXT), min(len(text), offset + _CONTEXT)
    shown = "".join(c if c.isprintable() else " " if c.isspace() else "?" for c in text[start:end])
    head, tail = ("..." if start else ""), ("..." if end < len(text) else "")
    return head + shown + tail, len(head) + offset - start


class _Parser:
    """Recursive descent over the text itself: what a word means depends on where it stands."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, offset: int, what: str, detail: str = "") -> NoReturn:
        shown, caret = _excerpt(self.text, offset)
        raise InvalidArgument(f"where: {what} at column {offset + 1}{detail}\n  {shown}\n  {' ' * caret}^")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def bare(self) -> str:
        """The bare word at the current position ("" if none), not consumed."""
        end = self.pos
        while end < len(self.text) and not self.text[end].isspace() and self.text[end] not in _NOT_BARE:
            end += 1
        return self.text[self.pos : end]

    def expression(self) -> tuple[Condition, ...]:
        self.skip_space()
        if self.pos == len(self.text):
            return ()
        conditions = [self.condition()]
        while True:
            self.skip_space()
            if self.pos == len(self.text):
                return tuple(conditions)
            start, word = self.pos, self.bare()
            keyword = _keyword(word)
            if keyword == "and":
                self.pos += len(word)
                self.skip_space()
                if self.pos == len(self.text):
                    self.fail(self.pos, "expected a condition after 'and'")
                conditions.append(self.condition())
            elif keyword in ("or", "||"):
                self.no_or(start, word)
            elif self.peek() == ")":
                self.fail(start, "unexpected ')'", ": no '(' is open")
            elif keyword in ("&&", "&"):
                self.fail(start, "expected 'and' or the end of the expression", f": write 'and' for {word!r}")
            else:
                self.fail(start, "expected 'and' or the end of the expression")

    def no_or(self, start: int, word: str) -> NoReturn:
        self.fail(
            start,
            f"{word!r} is not supported",
            ': only "and" is supported (for alternatives of one name, use "in (...)")',
        )

    def condition(self) -> Condition:
        position = self.pos
        name = self.name()
        self.skip_space()
        start, char = self.pos, self.peek()
        if char in _OPERATOR_RUN:
            end = start
            while end < len(self.text) and self.text[end] in _OPERATOR_RUN:
                end += 1
            written = self.text[start:end]
            if (op := _OPERATORS.get(written)) is None:
                self.unknown_operator(start, written)
            self.pos = end
            self.skip_space()
            return Condition(name, op, self.value(f"after {written!r}", listed=False), (), position)
        word = self.bare()
        keyword = _keyword(word)
        if keyword == "not":
            self.pos += len(word)
            self.skip_space()
            if _keyword(self.bare()) != "in":
                self.fail(
                    self.pos, "expected 'in' after 'not'", ": 'not' only negates 'in'; compare with '!='"
                )
            self.pos += 2
            return Condition(name, "not in", None, self.in_list("not in"), position)
        if keyword == "in":
            self.pos += 2
            return Condition(name, "in", None, self.in_list("in"), position)
        if char == "`":
            self.fail(start, "unbalanced backtick", ": backticks go around a whole name, `like this`")
        if word and not any(c.isalnum() for c in word) and not _NUMBER.fullmatch(word):
            end = start + len(word)
            while end < len(self.text) and self.text[end] in _OPERATOR_RUN:
                end += 1
            self.unknown_operator(start, self.text[start:end])
        if self.text[position] != "`" and _keyword(name) in ("or", "||"):
            self.no_or(position, name)  # "x = 1 and or y = 2": "or" is a valid name, but not meant as one
        self.fail(start, f"expected an operator after {_shown(name)}", f": one of {_OPERATOR_LIST}")

    def unknown_operator(self, start: int, written: str) -> NoReturn:
        if written in _DID_YOU_MEAN:
            self.fail(start, f"unknown operator {written!r}", f": did you mean {_DID_YOU_MEAN[written]!r}?")
        self.fail(start, f"unknown operator {_shown(written)}", f": the operators are {_OPERATOR_LIST}")

    def name(self) -> str:
        start, char = self.pos, self.peek()
        if char == "`":
            name = self.quoted_name()
        elif word := self.bare():
            if _keyword(word) in KEYWORDS:
                self.fail(start, "expected a name", f"; {word!r} is a keyword (as a name, write `{word}`)")
            self.pos += len(word)
            name = word
        elif char in ("'", '"'):
            self.fail(start, "expected a name", ": names are quoted with `backticks`; quotes make strings")
        elif char == "(":
            self.fail(start, "expected a name", ": parentheses only enclose the values of 'in'")
        elif char == ")":
            self.fail(start, "unexpected ')'", ": no '(' is open")
        else:
            self.fail(start, "expected a name")
        if (problem := name_problem("name", name)) is not None:
            self.fail(start, "invalid name", f": {problem}")
        return name

    def quoted(self, closing: str, escapes: str, what: str) -> str:
        """The text of the quoted token at the current position (a string or a name), unescaped."""
        chars: list[str] = []
        start, i = self.pos, self.pos + 1
        while i < len(self.text):
            char = self.text[i]
            if char == closing:
                self.pos = i + 1
                return "".join(chars)
            if char == "\\" and i + 1 < len(self.text):
                if self.text[i + 1] not in escapes:
                    allowed = " ".join("\\" + c for c in escapes)
                    self.fail(
                        i,
                        f"unknown escape '{self.text[i : i + 2]}'",
                        f": the escapes in {what} are {allowed}",
                    )
                char = self.text[i + 1]
                i += 1
            chars.append(char)
            i += 1
        if closing == "`":
            self.fail(start, "unbalanced backtick", ": the quoted name is not closed")
        self.fail(start, "unterminated string", f": the closing {closing} is missing")

    def quoted_name(self) -> str:
        return self.quoted("`", "`\\", "`names`")

    def value(self, after: str, *, listed: bool) -> Value:
        start, char = self.pos, self.peek()
        if char in ("'", '"'):
            return self.quoted(char, "'\"\\", "strings")
        what = f"expected a value {after}"
        if word := self.bare():
            keyword = _keyword(word)
            if keyword in ("true", "false"):
                self.pos += len(word)
                return keyword == "true"
            if number := _NUMBER.fullmatch(word):
                self.pos += len(word)
                return self.number(start, word, is_int=number["int"] is not None)
            if keyword in KEYWORDS:
                self.fail(start, what)
            if word[0] in "+-.0123456789":
                self.fail(start, what, f": {_shown(word)} is not a number")
            example = f", e.g. {_quote(word)}" if len(word) <= _SHOWN_WORD else ""
            self.fail(start, what, f": strings need quotes{example}")
        if char == "`":
            self.fail(start, what, ": backticks quote names; strings go in 'quotes' or \"quotes\"")
        if char == "(" and not listed:
            self.fail(start, what, ": a list of values goes after 'in'")
        self.fail(start, what)

    def number(self, start: int, word: str, *, is_int: bool) -> int | float:
        if is_int:
            if (whole := int(word)) not in _INT64:
                self.fail(
                    start, "integer out of range", f": {_shown(word)} is not signed 64-bit; write a float"
                )
            return whole
        number = float(word)
        if math.isinf(number) and "inf" not in word.lower():
            self.fail(start, "number out of range", f": {_shown(word)} does not fit in a float")
        return number

    def in_list(self, keyword: str) -> tuple[Value, ...]:
        self.skip_space()
        opening = self.pos
        if self.peek() != "(":
            self.fail(self.pos, f"expected '(' after {keyword!r}", f": write {keyword} (value, ...)")
        self.pos += 1
        self.skip_space()
        if self.peek() == ")":
            self.fail(self.pos, "empty list", f": '{keyword} ()' needs at least one value")
        values: list[Value] = []
        after = "after '('"
        while True:
            values.append(self.value(after, listed=True))
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
                self.skip_space()
                if self.peek() != ")":
                    after = "after ','"
                    continue
                char = ")"
            if char == ")":
                self.pos += 1
                return tuple(values)
            if not char:
                self.fail(self.pos, "expected ',' or ')'", f": the '(' at column {opening + 1} is not closed")
            self.fail(self.pos, "expected ',' or ')'")


def _shown(word: str) -> str:
    """``word`` quoted for a message, shortened when long."""
    return repr(word) if len(word) <= _SHOWN_WORD else repr(word[:_SHOWN_WORD]) + "..."
