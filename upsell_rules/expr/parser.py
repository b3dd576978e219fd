"""Tokenizer and recursive-descent parser for conditions.

Grammar (lowest precedence first)::

    expr     := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | test
    test     := sum (CMP sum)*                       chained: 60 <= x <= 90
              | sum ["not"] "in" sum
              | sum "is" ["not"] ("missing" | "present")
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | atom
    atom     := NUMBER ["%"] | STRING | "true" | "false" | NAME | "(" expr ")"
              | NAME "(" [sum ("," sum)*] ")"        a call to a registered function
              | "[" [atom ("," atom)*] "]"
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from upsell_rules.expr.nodes import (
    And,
    Arith,
    Bool,
    Call,
    Compare,
    In,
    IsMissing,
    ListLit,
    Name,
    Neg,
    Node,
    Not,
    Num,
    Or,
    Str,
)

#: Longest expression accepted, in characters, and deepest nesting.
MAX_LENGTH = 4000
MAX_DEPTH = 50

KEYWORDS = {"and", "or", "not", "in", "is", "missing", "present", "true", "false"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?%?)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|<|>|\(|\)|\[|\]|,|\+|-|\*|/)
    """,
    re.VERBOSE,
)


_CURLY_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a"


class ExprSyntaxError(ValueError):
    """A condition that does not parse; ``offset`` is the 0-based character position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Token:
    """One lexical token."""

    kind: str  # num | str | name | kw | op | end
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split a condition into tokens, or raise :class:`ExprSyntaxError`."""
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(f"condition is longer than {MAX_LENGTH} characters", 0)
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            hint = ""
            following = text[pos + 1 : pos + 2]
            if char == "=" and following in "<>" and following:
                hint = f" (did you mean '{following}='?)"
            elif char == "=":
                hint = " (use == to compare)"
            elif char == ".":
                hint = " (signals are plain names: there is no attribute access)"
            elif char == "&" or char == "|":
                hint = " (use 'and' / 'or')"
            elif char == "!":
                hint = " (use 'not' or !=)"
            elif char in "\"'":
                hint = " (unterminated string)"
            elif char in _CURLY_QUOTES:
                hint = (" (a curly quote, as a word processor types it: use a straight "
                        "quote, \" or ')")
            raise ExprSyntaxError(f"unexpected character {char!r}{hint}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            value = match.group()
            if kind == "name" and value in KEYWORDS:
                kind = "kw"
            tokens.append(Token(kind, value, match.start(), match.end()))
        pos = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(_ESCAPES.get(body[index + 1], body[index + 1]))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.tok
        return token.kind == kind and (text is None or token.text == text)

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise self.error(f"expected {what}")
        return self.advance()

    def error(self, expected: str) -> ExprSyntaxError:
        token = self.tok
        found = "the end of the condition" if token.kind == "end" else repr(token.text)
        return ExprSyntaxError(f"{expected}, found {found}", token.start)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprSyntaxError(f"condition nests deeper than {MAX_DEPTH} levels", self.tok.start)

    def parse(self) -> Node:
        if self.at("end"):
            raise ExprSyntaxError("empty condition", 0)
        node = self.expr()
        if not self.at("end"):
            raise self.error("expected 'and', 'or' or the end of the condition")
        return node

    def expr(self) -> Node:
        self.enter()
        items = [self.and_()]
        while self.at("kw", "or"):
            self.advance()
            items.append(self.and_())
        self.depth -= 1
        if len(items) == 1:
            return items[0]
        return Or(tuple(items), (_start(items[0]), _end(items[-1])))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.at("kw", "and"):
            self.advance()
            items.append(self.not_())
        if len(items) == 1:
            return items[0]
        return And(tuple(items), (_start(items[0]), _end(items[-1])))

    def not_(self) -> Node:
        if self.at("kw", "not"):
            start = self.advance().start
            self.enter()
            operand = self.not_()
            self.depth -= 1
            return Not(operand, (start, _end(operand)))
        return self.test()

    def test(self) -> Node:
        left = self.sum_()
        if self.at("kw", "is"):
            self.advance()
            negated = False
            if self.at("kw", "not"):
                self.advance()
                negated = True
            if self.at("kw", "missing"):
                end = self.advance().end
                return IsMissing(left, negated, (_start(left), end))
            if self.at("kw", "present"):
                end = self.advance().end
                return IsMissing(left, not negated, (_start(left), end))
            raise self.error("expected 'missing' or 'present' after 'is'")
        if self.at("kw", "in") or (
            self.at("kw", "not") and self.tokens[self.pos + 1].text == "in"
        ):
            negated = self.at("kw", "not")
            if negated:
                self.advance()
            self.advance()
            container = self.sum_()
            return In(left, container, negated, (_start(left), _end(container)))
        comparisons: list[Compare] = []
        while self.tok.kind == "op" and self.tok.text in ("<", "<=", ">", ">=", "==", "!="):
            op = self.advance().text
            right = self.sum_()
            comparisons.append(Compare(op, left, right, (_start(left), _end(right))))  # type: ignore[arg-type]
            left = right
        if not comparisons:
            return left
        if len(comparisons) == 1:
            return comparisons[0]
        return And(tuple(comparisons), (_start(comparisons[0]), _end(comparisons[-1])))

    def sum_(self) -> Node:
        left = self.product()
        chain = 0
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.advance().text
            self.enter()
            chain += 1
            right = self.product()
            left = Arith(op, left, right, (_start(left), _end(right)))  # type: ignore[arg-type]
        self.depth -= chain
        return left

    def product(self) -> Node:
        left = self.unary()
        chain = 0
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.advance().text
            self.enter()
            chain += 1
            right = self.unary()
            left = Arith(op, left, right, (_start(left), _end(right)))  # type: ignore[arg-type]
        self.depth -= chain
        return left

    def unary(self) -> Node:
        if self.at("op", "-"):
            start = self.advance().start
            self.enter()
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Num):
                return Num(-operand.value, (start, operand.span[1]), operand.percent)
            return Neg(operand, (start, _end(operand)))
        return self.atom()

    def atom(self) -> Node:
        token = self.tok
        if token.kind == "num":
            self.advance()
            text = token.text
            percent = text.endswith("%")
            if percent:
                text = text[:-1]
            value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
            try:
                if percent:
                    value = round(value / 100, 12)
                finite = math.isfinite(value)
            except OverflowError:
                finite = False
            if not finite:
                raise ExprSyntaxError(f"number {token.text!r} is too large", token.start)
            return Num(value, (token.start, token.end), percent)
        if token.kind == "str":
            self.advance()
            return Str(_unquote(token.text), (token.start, token.end))
        if token.kind == "kw" and token.text in ("true", "false"):
            self.advance()
            return Bool(token.text == "true", (token.start, token.end))
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            return Name(token.text, (token.start, token.end))
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.expr()
            self.expect("op", ")", "')'")
            return inner
        if token.kind == "op" and token.text == "[":
            start = self.advance().start
            self.enter()
            items: list[Node] = []
            if not self.at("op", "]"):
                items.append(self.unary())
                while self.at("op", ","):
                    self.advance()
                    items.append(self.unary())
            end = self.expect("op", "]", "',' or ']'").end
            self.depth -= 1
            return ListLit(tuple(items), (start, end))
        if token.kind == "kw":
            raise self.error("expected a value")
        raise self.error("expected a value")

    def call(self, name: Token) -> Call:
        """The arguments of ``name(``; whether the function exists is the checker's job."""
        self.advance()
        self.enter()
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.sum_())
            while self.at("op", ","):
                self.advance()
                args.append(self.sum_())
        end = self.expect("op", ")", "',' or ')'").end
        self.depth -= 1
        return Call(name.text, tuple(args), (name.start, end))


def _start(node: Node) -> int:
    return node.span[0]


def _end(node: Node) -> int:
    return node.span[1]


def parse(text: str) -> Node:
    """Parse a condition into its AST, or raise :class:`ExprSyntaxError`."""
    return _Parser(text).parse()
