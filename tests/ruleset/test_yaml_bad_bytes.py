"""Bytes YAML cannot hold (NUL, other control characters, text that is not UTF-8) are
found at their own line and column, in rulesets and test files alike.

ruamel reports a forbidden character with an offset into the text rather than a line, so
the finding used to point at 1:1 and quote the parser's multi-line message; a file that
was not UTF-8 was also reported at 1:1 whatever line held the bad byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules.ruleset.loader import check_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULESET = (ROOT / "rulesets" / "upsell_timing.yaml").read_bytes()
LINES = RULESET.split(b"\n")


def _with_line(at: int, line: bytes) -> bytes:
    """The bundled ruleset with ``line`` inserted as line ``at`` (from 1)."""
    return b"\n".join([*LINES[: at - 1], line, *LINES[at - 1:]])


def _findings(tmp_path: Path, raw: bytes) -> list[str]:
    path = tmp_path / "r.yaml"
    path.write_bytes(raw)
    return [f"{d.location.line}:{d.location.col}: {d.code} {d.message}"
            for d in check_ruleset(str(path))[1]]


@pytest.mark.parametrize(
    ("line", "where", "words"),
    [
        (b"# a\x00b", "300:4", "the character U+0000 is not allowed"),
        (b"# bell \x07", "300:8", "the character U+0007 is not allowed"),
        (b"# caf\xe9", "300:6", "not UTF-8 text: byte 0xe9 here"),
        (b"# \xc3\xa9t\xc3", "300:5", "not UTF-8 text: byte 0xc3 here"),
    ],
)
def test_a_bad_byte_is_found_at_its_line_and_column(
    tmp_path: Path, line: bytes, where: str, words: str
) -> None:
    findings = _findings(tmp_path, _with_line(300, line))
    assert len(findings) == 1
    assert findings[0].startswith(f"{where}: E001 "), findings
    assert words in findings[0]
    assert "\n" not in findings[0] and "<unicode string>" not in findings[0]


def test_a_nul_inside_a_quoted_value_is_located(tmp_path: Path) -> None:
    raw = RULESET.replace(b"\nversion:", b'\nnote: "a\x00b"\nversion:', 1)
    line = raw[: raw.index(b"\x00")].count(b"\n") + 1
    assert _findings(tmp_path, raw)[0].startswith(f"{line}:9: E001 ")


def test_utf16_is_named(tmp_path: Path) -> None:
    raw = RULESET.decode("utf-8").encode("utf-16")
    assert _findings(tmp_path, raw) == [
        "1:1: E001 this is UTF-16 text, not UTF-8: save the file as UTF-8"
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(1, len(LINES)), column=st.integers(0, 20),
       char=st.sampled_from(["\x00", "\x01", "\x08", "\x1b", "\x7f", "\ufffe"]))
def test_any_forbidden_character_anywhere_is_found_where_it_is(
    tmp_path: Path, at: int, column: int, char: str
) -> None:
    original = LINES[at - 1].decode("utf-8")
    column = min(column, len(original))
    changed = original[:column] + char + original[column:]
    raw = b"\n".join([*LINES[: at - 1], changed.encode("utf-8"), *LINES[at:]])
    findings = _findings(tmp_path, raw)
    assert f"{at}:{column + 1}: E001 the character" in findings[0].replace(
        "E001 YAML syntax error: the character", "E001 the character"), findings


def test_a_test_file_with_a_nul_byte_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_bytes(RULESET)
    tests = tmp_path / "r.tests.yaml"
    tests.write_bytes(b"ruleset: r.yaml\nas_of: 2026-11-02\n# x\x00\ncases: []\n")
    result = CliRunner().invoke(cli, ["test", str(tests)])
    assert result.exit_code == 2, result.output
    assert f"{tests}:3:4: E001 YAML syntax error: the character U+0000" in result.output
