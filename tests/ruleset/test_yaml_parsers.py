"""The C parser and the pure-Python parser load every text to the same document.

:mod:`upsell_rules.ruleset.yamlload` parses once, with libyaml's parser in C (the
``ruamel.yaml.clib`` package) when it is installed and with ruamel's pure-Python parser
otherwise, or wherever the two could disagree. Every test here loads the same text both
ways and requires the same data, key and value positions, string styles and findings.
Documents are also compared with ruamel's own round-trip constructor, which decided
what a ruleset means before the loader built the data itself (and still does for the
rare constructs handed to it): a YAML 1.2 core schema, dates kept as text.

Nothing here is timed; bench/run_all.py measures the load.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from upsell_rules.errors import Diagnostic
from upsell_rules.ruleset import yaml_events, yaml_fallback, yamlload
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.yamlload import YamlDocument, load_yaml

ROOT = Path(__file__).resolve().parents[2]
RULESETS = sorted((ROOT / "rulesets").glob("*.yaml"))
CORPUS = sorted((ROOT / "fuzz" / "corpus" / "ruleset").iterdir())

needs_c = pytest.mark.skipif(not yamlload.C_PARSER, reason="ruamel.yaml.clib is not installed")
PARSERS = [pytest.param("c", marks=needs_c), "pure"]

Snapshot = tuple[Any, ...]


def snapshot(doc: YamlDocument | None, findings: list[Diagnostic]) -> Snapshot:
    """What a load gives, comparable: ``repr`` tells 1 from 1.0 and True, and NaN from NaN."""
    messages = [str(f) for f in findings]
    if doc is None:
        return (None, messages)
    return (repr(doc.data), doc.keys, doc.values, doc.styles, messages)


def load(text: str, parser: str) -> Snapshot:
    return snapshot(*load_yaml("r.yaml", text, pure=parser == "pure"))


def reference(text: str, findings: list[Diagnostic]) -> Snapshot | None:
    """The document as ruamel's round-trip constructor builds it (``None``: it cannot)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ReusedAnchorWarning and the like
        try:
            list(YAML(typ="rt").compose_all(text))
        except (NotImplementedError, AssertionError):
            return None  # its round-trip parser gives up on some comment layouts
        return snapshot(*yaml_fallback.ruamel_load("r.yaml", text, findings))


def assert_same_both_ways(text: str) -> Snapshot:
    """Load ``text`` with each available parser; all agree, and agree with ruamel."""
    pure = load(text, "pure")
    if yamlload.C_PARSER:
        assert load(text, "c") == pure, text
    doc, findings = load_yaml("r.yaml", text, pure=True)
    if doc is not None:
        assert reference(text, findings) in (pure, None), text
    return pure


# --- the shipped files -------------------------------------------------------------


@pytest.mark.parametrize("path", [*RULESETS, *CORPUS], ids=lambda p: p.name)
def test_shipped_and_corpus_files_load_the_same_both_ways(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    assert_same_both_ways(text)


@needs_c
@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_the_c_parser_reads_the_shipped_rulesets_itself(path: Path) -> None:
    # The point of the C parser is speed: the shipped rulesets must not fall back.
    text = path.read_text(encoding="utf-8")
    assert yamlload._C_UNSAFE.search(text) is None
    result = yaml_events.EventPass(str(path), text, from_c=True).run(yamlload._c_events(text))
    assert not result.unmodelled
    assert result.root is not None


def test_check_ruleset_gives_the_same_findings_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")
    variants = {
        "as shipped": text,
        "typo": text.replace("require: health_score", "require: health_scor", 1),
        "empty value": text.replace("name: upsell_timing", "name:", 1),
        "empty constant": text.replace("health_floor: 65 ", "health_floor:", 1),
        "duplicate key": text.replace("version:", "name: again\nversion:", 1),
        "syntax error": text.replace("signals:", "signals: [", 1),
        "tab": text.replace("\n  health_floor", "\n\thealth_floor", 1),
        "anchor": text.replace("health_floor: 65", "health_floor: &floor 65", 1).replace(
            "health_ready: 75", "health_ready: *floor", 1
        ),
    }

    assert all(t != text for name, t in variants.items() if name != "as shipped")

    def findings() -> dict[str, list[str]]:
        return {name: [str(f) for f in check_ruleset("r.yaml", text=t)[1]]
                for name, t in variants.items()}

    loaded = findings()
    monkeypatch.setattr(yamlload, "CParser", None)
    assert findings() == loaded
    assert loaded["as shipped"] == []
    assert all(loaded[name] for name in variants if name not in ("as shipped", "anchor")), loaded


# --- tricky snippets ---------------------------------------------------------------

SNIPPETS = [
    "", "# only a comment\n", "---\n", "--- \n...\n", "a: 1\n...\n---\nb: 2\n", "--- |\n  x\n",
    "x", "'x'", "- a\n- b\n", "a: [1,\n  2, # c\n  3]\n", "a: {b: 1,\n    c: 2}\n",
    "? a\n: 1\n", "? [a, b]\n: 1\n", "a:\n  ? x\n  : y\n", "k" * 1100 + ": 1\n",
    "a: b\n  c\n", "a: 'b\n\n  c'\n", 'a: "b\\\n  c"\n', "a: |\n  x\n\n\n", "a: |+\n  x\n\n",
    "a: >-\n  x\n\n  y\n   z\n", "a: |2\n   x\n  y\n", "a: |#\n", "a: |\n  \n   x\n",
    "a:\n- 1\n- 2\n", "a:\n  - 1\n  -\n  - 3\n", "- a: 1\n  b: 2\n- c: 3\n",
    # anchors, aliases and merge keys
    "a: &x 1\nb: *x\n", "a: &x [1, {k: 'v'}]\nb: *x\nc: *x\n",
    "a: &x {k: v}\nb:\n  <<: *x\n  k2: v2\n",
    "x: &x {a: 1, b: 2}\ny: &y {b: 3, c: 4}\nz:\n  <<: [*x, *y]\n  a: 0\n",
    "x: &x {a: 1}\nz: {<<: *x, <<: *x}\n", "z: {<<: 1}\n", "z: {<<: [1]}\n", "z: <<\n",
    "z: =\n", "=: 1\n", "a: *nope\n", "&k key: 1\nb: *k\n", "a: &k 1\n*k : 2\n",
    "a: &k [1]\n*k : 2\n", "a: &x\nb: *x\n", "a: &t true\nb: *t\n&u false: 1\n",
    "a: &x [*x]\n", "a: &x [1]\nb: &x [2]\nc: *x\n",
    # tags and the YAML version
    "a: !!str 1\n", "a: !custom x\n", "!t &a x: 1\n", "a: !t &a x\n", "a: ! x\n",
    "%YAML 1.2\n---\na: 012\n", "%YAML 1.1\n---\na: 012\nb: yes\nc: 1:30\nd: &t true\n",
    # keys: duplicates, and keys Python finds equal
    "a: 1\nb: 2\na: 3\n", "a: 1\n'a': 2\n\"a\": 3\n", "1: a\n0x1: b\n1.0: c\ntrue: d\n",
    "~: a\nnull: b\n: c\n", ".nan: 1\n.nan: 2\n", "1: a\n'1': b\n",
    # numbers, booleans, nulls, dates
    "a: 0o17\nb: 017\nc: 0x1F\nd: 0b101\ne: 1_000\nf: +1\ng: -0\n",
    "a: 1.5\nb: 1.\nc: .5\nd: 1e3\ne: 1E-3\nf: .inf\ng: -.Inf\nh: .nan\nj: 1_0.5\nk: -0.0\n",
    "a: 0x_\n", "a: +_\n", "a: ._\n", "a: " + "9" * 5000 + "\n",
    "a: 2024-01-01\nb: 2024-01-01 10:00:00\nc: '2024-01-01'\nd: 2024-1-1\n",
    "a: true\nb: True\nc: TRUE\nd: tRue\ne: yes\nf: on\n",
    "a: null\nb: Null\nc: NULL\nd: ~\ne:\nf: nULL\n",
    # quoting and block styles
    "a: 'it''s'\nb: \"\\t\\u00e9\\x41\"\nc: \"\\/\"\n",
    "a: >\n  folded\n  text\n\n  para\nb: |\n  lit\n   eral\n", "? >\n  folded\n  key\n: 1\n",
    # line ends, tabs, unusual characters
    "a:\r\n  b: 1\r\n  c:\r\n\r\nd: 2\r\n", "a: 1\rb: 2\r", "a:\tb\n", "a: b\x85c: d\n",
    "\ufeffa: 1\n", "a: café\nb: [é, x]\nc: 日本語\n", "a: \udce9\n",
    # where an empty value sits
    "a:\nb:\n", "a:   \n\nb: 1\n", "a: # c\nb: 1\n", "a:\n  # c\nb: 1\n", "x:\n  a: # c\nb: 1\n",
    "a:\n? b\n: c\n", "- a:\n- b\n", "a:", "{a: }\n", "[a: ]\n", "{a}\n", "- \n- x\n",
    # anchor names the two scanners end differently
    "a: *b:\n", "a: &b: 1\n", "a: x*y:\n", "a: R&D: plan\n",
    # comment layouts ruamel's round-trip parser gives up on
    "k: #h\n   x >\n \n", "- #h - \"\n  | #h\n- |-\n\n",
    # syntax errors
    "a: 'unterminated\n", "a: [1, 2\n", "a: b: c\n", "  a: 1\n b: 2\n", "a: @x\n",
]


@pytest.mark.parametrize("text", SNIPPETS, ids=range(len(SNIPPETS)))
def test_snippets_load_the_same_both_ways(text: str) -> None:
    assert_same_both_ways(text)


def _load(text: str, parser: str) -> tuple[YamlDocument | None, list[str]]:
    doc, findings = load_yaml("r.yaml", text, pure=parser == "pure")
    return doc, [str(f) for f in findings]


@pytest.mark.parametrize("parser", PARSERS)
def test_values_get_ruamels_yaml_1_2_types(parser: str) -> None:
    text = (
        "n: [~, null, '', ]\nb: [true, False, yes, on]\n"
        "i: [0o17, 017, 0x1F, 0b101, 1_000, -7]\n"
        "f: [1.5, 1e3, .inf, -.inf, 1.]\n"
        "d: [2026-11-02, 2026-11-02 10:00:00]\n"
        "s: ['1', \"2\", 3a]\n"
        "e:\n"
    )
    doc, findings = _load(text, parser)
    assert doc is not None and findings == []
    assert doc.data == {
        "n": [None, None, ""],
        "b": [True, False, "yes", "on"],
        "i": [15, 17, 31, 5, 1000, -7],
        "f": [1.5, 1000.0, float("inf"), float("-inf"), 1.0],
        "d": ["2026-11-02", "2026-11-02 10:00:00"],
        "s": ["1", "2", "3a"],
        "e": None,
    }
    assert [type(v) for v in doc.data["b"]] == [bool, bool, str, str]
    assert doc.styles[("s", 0)] == "single" and doc.styles[("s", 1)] == "double"
    assert doc.styles[("d", 0)] == "plain"


@pytest.mark.parametrize("parser", PARSERS)
def test_an_anchored_boolean_stays_a_boolean(parser: str) -> None:
    # ruamel builds an anchored boolean as an int subclass; it used to arrive as 1.
    doc, _ = _load("a: &t true\nb: *t\n", parser)
    assert doc is not None
    assert doc.data == {"a": True, "b": True}
    assert type(doc.data["b"]) is bool


@pytest.mark.parametrize("parser", PARSERS)
def test_aliases_and_merge_keys(parser: str) -> None:
    text = (
        "base: &base {tier: gold, seats: 10}\n"
        "extra: &extra {seats: 20, region: eu}\n"
        "account:\n"
        "  <<: [*base, *extra]\n"
        "  seats: 5\n"
        "copy: *base\n"
    )
    doc, findings = _load(text, parser)
    assert doc is not None and findings == []
    # Own keys first, then merged keys in merge order; the first mapping wins.
    assert list(doc.data["account"].items()) == [("seats", 5), ("tier", "gold"), ("region", "eu")]
    assert doc.keys[("account", "seats")] == (5, 3)
    assert ("account", "tier") not in doc.keys
    # An alias is a copy of its anchor's value, placed where the anchor is.
    assert doc.data["copy"] == {"tier": "gold", "seats": 10}
    assert doc.data["copy"] is not doc.data["base"]
    assert doc.values[("copy",)] == doc.values[("base",)] == (1, 7)
    assert doc.values[("copy", "seats")] == (1, 33)


@pytest.mark.parametrize("parser", PARSERS)
def test_an_empty_value_sits_where_the_next_token_starts(parser: str) -> None:
    doc, _ = _load("name:\n\nversion: 1\nplays:\n", parser)
    assert doc is not None
    assert doc.values[("name",)] == (3, 1)
    assert doc.values[("plays",)] == (5, 1)
    doc, _ = _load("name:  # later\nversion: 1\n", parser)
    assert doc is not None
    assert doc.values[("name",)] == (1, 6)


@pytest.mark.parametrize("parser", PARSERS)
def test_duplicate_keys_keep_the_first_value(parser: str) -> None:
    doc, findings = _load("a: 1\nb: 2\na: 3\n", parser)
    assert doc is not None
    assert doc.data == {"a": 1, "b": 2}
    assert findings == ["r.yaml:3:1: E006 duplicate key 'a' (first defined at line 1)"]


@pytest.mark.parametrize("parser", PARSERS)
def test_constructs_ruamel_refuses_are_located_errors(parser: str) -> None:
    # These once escaped as IndexError from ruamel's constructor.
    assert _load("a: 0x_\n", parser) == (
        None, ["r.yaml:1:1: E001 YAML error: string index out of range"]
    )
    assert _load("a: *nope\n", parser) == (
        None, ["r.yaml:1:4: E001 YAML syntax error: found undefined alias 'nope'"]
    )


@pytest.mark.parametrize("parser", PARSERS)
def test_comment_layouts_that_stopped_ruamels_round_trip_parser_load(parser: str) -> None:
    # ruamel's round-trip parser raised NotImplementedError ("overlap in comment").
    doc, findings = _load("k: #h\n   x >\n \n", parser)
    assert doc is not None and findings == []
    assert doc.data == {"k": "x >"}
    assert doc.values[("k",)] == (2, 4)


# --- generated documents -----------------------------------------------------------

_SCALARS = [
    "a", "b c", "true", "False", "yes", "null", "~", "", "0", "-0", "+1", "007", "0o17", "0x1F",
    "0b101", "1_000", "1.5", "1.", ".5", "1e3", "-0.0", ".inf", "-.Inf", ".nan", "2024-01-01",
    "2024-01-01 10:00:00", "12:30", "<<", "=", "a:b", "a #b", "café", "- a", "'q'", '"dq"',
    "'it''s'", '"a\\tb"', '"\\x41\\u00e9"', "'multi\n  line'", '"multi\n  line"',
    "plain\n  multi\n  line", "0x", "+", ".", "0b2", "9" * 30,
]
_KEYS = [
    "a", "b", "name", "1", "01", "0x1", "1.0", "true", "null", "~", "'a'", '"a"', "2024-01-01",
    "<<", "=", ".nan", "k k", "é", "? a", "&k a", "*k", "*a", "''",
]


class _Generator:
    """Random YAML-ish documents: nested block and flow collections, every scalar style,
    anchors and aliases, merge keys, comments, empty values, CRLF, the odd broken line."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.anchors: list[str] = []

    def anchor(self) -> str:
        if self.rng.random() < 0.15:
            name = self.rng.choice("abxy")
            self.anchors.append(name)
            return f"&{name} "
        return ""

    def alias(self) -> str:
        names = self.anchors if self.anchors and self.rng.random() < 0.7 else ["q"]
        return "*" + self.rng.choice(names)

    def flow(self, depth: int) -> str:
        rng = self.rng
        roll = rng.random()
        if depth > 2 or roll < 0.45:
            if rng.random() < 0.1:
                return self.alias()
            return self.anchor() + rng.choice(_SCALARS).replace("\n", " ")
        if roll < 0.7:
            items = [self.flow(depth + 1) for _ in range(rng.randint(0, 3))]
            return self.anchor() + "[" + ", ".join(items) + rng.choice(["", ", "]) + "]"
        pairs = []
        for _ in range(rng.randint(0, 3)):
            key = rng.choice([k for k in _KEYS if not k.startswith("?")])
            pairs.append(f"{key}: {self.flow(depth + 1)}" if rng.random() < 0.9 else key)
        return self.anchor() + "{" + ", ".join(pairs) + "}"

    def block(self, indent: int, depth: int) -> list[str]:
        rng = self.rng
        pad = " " * indent
        lines: list[str] = []
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 4)):
                lines += self.entry(pad + rng.choice(_KEYS) + ":", indent, depth)
        else:
            for _ in range(rng.randint(1, 4)):
                lines += self.entry(pad + "-", indent + 2, depth, in_sequence=True)
        return lines

    def entry(self, head: str, indent: int, depth: int, *, in_sequence: bool = False) -> list[str]:
        rng = self.rng
        roll = rng.random()
        comment = rng.choice(["", "", "", "  # c"])
        inner = indent if in_sequence else indent + rng.choice([2, 4])
        if depth > 3 or roll < 0.35:
            value = self.alias() if rng.random() < 0.1 else rng.choice(_SCALARS)
            value = value.replace("\n", "\n" + " " * inner)
            return [f"{head} {self.anchor()}{value}".rstrip() + comment]
        if roll < 0.45:
            return [head + comment, *([""] if rng.random() < 0.3 else [])]
        if roll < 0.55:
            header = rng.choice("|>") + rng.choice(["", "-", "+", "2", "-1"])
            body = [" " * (inner + rng.choice([0, 0, 2])) + rng.choice(["text", "", "x: y", "# no"])
                    for _ in range(rng.randint(0, 3))]
            return [f"{head} {self.anchor()}{header}{comment}", *body]
        if roll < 0.65:
            return [f"{head} {self.flow(depth)}{comment}"]
        if roll < 0.7 and not in_sequence:
            return [f"{head} <<: {self.alias()}"]
        return [(f"{head} {self.anchor()}".rstrip() + comment), *self.block(inner, depth + 1)]

    def document(self) -> str:
        rng = self.rng
        lines = ["---"] if rng.random() < 0.1 else []
        lines += [self.flow(0)] if rng.random() < 0.1 else self.block(0, 0)
        if rng.random() < 0.05:
            lines += ["---", "x: 1"]
        text = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
        if rng.random() < 0.1:
            text = text.replace("\n", "\r\n")
        if rng.random() < 0.05:
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(["\t", " ", "\n", ":", "#", "'", "- ", "!x "]) + text[at:]
        return text


@pytest.mark.parametrize("seed", range(8))
def test_generated_documents_load_the_same_both_ways(seed: int) -> None:
    generator = _Generator(random.Random(seed))
    for _ in range(150):
        assert_same_both_ways(generator.document())
