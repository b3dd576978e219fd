"""A declared input encoding (``--encoding``, ``sources.csv.encoding``): cp1252, Latin-1 and
UTF-16 exports are decided exactly like the same accounts in UTF-8, in every engine, and
nothing is ever decoded silently wrong (docs/data.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules.errors import InputError, RecordError
from upsell_rules.io.encoding import EncodingNameError, bom_problem, codec_name
from upsell_rules_files.csv_source import read_csv
from upsell_rules_files.json_source import read_json, read_jsonl

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = Path(__file__).resolve().parent / "exports"
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
AS_OF = "2026-11-02"
#: (encoded export, what to declare, the same text in UTF-8)
ENCODED = [
    ("accented_cp1252.csv", "cp1252", "accented_utf8.csv"),
    ("accented_cp1252.csv", "windows-1252", "accented_utf8.csv"),
    ("accented_latin1.csv", "latin-1", "accented_latin1_utf8.csv"),
    ("accented_utf16.tsv", "utf-16", "accented_utf8.csv"),
]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args])
    return result.exit_code, result.stdout, result.stderr


def _dry_run(data: Path, *extra: str, ruleset: Path = RULESET) -> tuple[int, str, str]:
    return _run("dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
                "--format", "jsonl", *extra)


def _without_ruleset(jsonl: str) -> list[dict[str, object]]:
    """The decisions, less the ruleset's identity (another file has another sha256)."""
    decisions = [json.loads(line) for line in jsonl.splitlines()]
    for decision in decisions:
        decision.pop("ruleset")
    return decisions


def _ruleset(tmp_path: Path, options: str, source: str = "csv") -> Path:
    block = "".join(f"    {line}\n" for line in options.splitlines())
    text = RULESET.read_text(encoding="utf-8").replace(
        "sources:\n", f"sources:\n  {source}:\n{block}", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """The UTF-8 files decided by the python engine: the bytes every other run must give."""
    out = {}
    for name in {utf8 for _, _, utf8 in ENCODED}:
        code, stdout, stderr = _dry_run(EXPORTS / name, "--engine", "python")
        assert code == 0, stderr
        out[name] = stdout
    return out


@pytest.mark.parametrize("engine", ["python", "auto", "duckdb"])
@pytest.mark.parametrize(("export", "declared", "utf8"), ENCODED)
def test_a_declared_encoding_decides_like_utf8(
    reference: dict[str, str], export: str, declared: str, utf8: str, engine: str
) -> None:
    code, stdout, stderr = _dry_run(EXPORTS / export, "--encoding", declared, "--engine", engine)
    assert code == 0, stderr
    assert stdout == reference[utf8]
    assert "Zoë Lefèvre" in stdout and "Müller GmbH" in stdout and "Société Générale ©" in stdout


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_the_ruleset_may_declare_it_and_the_option_wins(
    tmp_path: Path, reference: dict[str, str], engine: str
) -> None:
    rules = _ruleset(tmp_path, "encoding: cp1252")
    code, stdout, stderr = _dry_run(EXPORTS / "accented_cp1252.csv", "--engine", engine,
                                    ruleset=rules)
    assert code == 0, stderr
    assert _without_ruleset(stdout) == _without_ruleset(reference["accented_utf8.csv"])
    # --encoding wins over the ruleset: the UTF-8 file read as UTF-8.
    code, stdout, stderr = _dry_run(EXPORTS / "accented_utf8.csv", "--encoding", "utf-8",
                                    "--engine", engine, ruleset=rules)
    assert code == 0, stderr
    assert _without_ruleset(stdout) == _without_ruleset(reference["accented_utf8.csv"])


def test_jobs_read_a_declared_file_like_one_process(reference: dict[str, str]) -> None:
    code, stdout, stderr = _dry_run(EXPORTS / "accented_cp1252.csv", "--encoding", "cp1252",
                                    "-j", "2")
    assert code == 0, stderr
    assert stdout == reference["accented_utf8.csv"]


def test_undeclared_cp1252_fails_each_accented_row_naming_the_option() -> None:
    data = EXPORTS / "accented_cp1252.csv"
    code, stdout, stderr = _dry_run(data)
    assert code == 1
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 5  # the five accounts with an accent; the three others decided
    assert f"{data}:2: the row is not UTF-8 text (byte 0xeb); export the file as UTF-8, " \
        "or declare its encoding (--encoding cp1252" in errors[0]
    assert len(stdout.splitlines()) == 3


def test_undeclared_utf16_stops_naming_the_option() -> None:
    code, _stdout, stderr = _dry_run(EXPORTS / "accented_utf16.tsv")
    assert code == 2
    assert "this is UTF-16 text" in stderr and "--encoding utf-16" in stderr


def test_excels_unicode_text_under_a_csv_name_reads_with_the_tab_declared(
    tmp_path: Path,
) -> None:
    rules = _ruleset(tmp_path, 'delimiter: "\\t"\nencoding: utf-16')
    code, stdout, stderr = _dry_run(EXPORTS / "excel_unicode_text.csv", ruleset=rules)
    assert code == 0, stderr
    assert len(stdout.splitlines()) == 8


@pytest.mark.parametrize("declared", ["cp1252", "latin-1"])
def test_utf8_declared_as_a_code_page_is_said_out_loud(declared: str) -> None:
    """The usual mistake: the file is UTF-8 already. Each row with an accent fails,
    naming the mistake; the ASCII rows read the same in both and are decided."""
    data = EXPORTS / "accented_utf8.csv"
    code, stdout, stderr = _dry_run(data, "--encoding", declared)
    assert code == 1
    codec = codec_name(declared)
    assert (f"{data}:2: the row is UTF-8 text, but the file is declared {codec} ('Zoë' "
            f"would read as 'ZoÃ«'); drop the encoding declaration") in stderr
    assert "Ã" not in stdout
    assert len(stdout.splitlines()) == 3


def test_a_utf8_byte_order_mark_under_a_code_page_stops_the_file(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes(b"\xef\xbb\xbfaccount_id,account_name\nA1,Acme\n")
    code, _stdout, stderr = _dry_run(data, "--encoding", "cp1252")
    assert code == 2
    assert "UTF-8's byte-order mark: it is UTF-8 text, not cp1252 as declared" in stderr


def test_utf16_without_a_byte_order_mark_is_never_guessed(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes("account_id,account_name\nA1,Zoë\n".encode("utf-16-le"))
    code, _stdout, stderr = _dry_run(data, "--encoding", "utf-16")
    assert code == 2
    assert "no byte-order mark" in stderr and "utf-16-le or utf-16-be" in stderr
    code, stdout, stderr = _dry_run(data, "--encoding", "utf-16-le")
    assert code == 0, stderr
    assert json.loads(stdout)["account_name"] == "Zoë"


def test_an_unknown_encoding_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    code, _stdout, stderr = _dry_run(EXPORTS / "accented_utf8.csv", "--encoding", "klingon")
    assert code == 2
    assert "encoding 'klingon' is not an encoding" in stderr
    rules = _ruleset(tmp_path, "encoding: ansi-1252")
    code, stdout, _stderr = _run("validate", str(rules))
    assert code == 1
    assert "E152 sources.csv.encoding: encoding 'ansi-1252' is not an encoding" in stdout
    with pytest.raises(EncodingNameError):
        codec_name("base64")  # a codec, but not of text


COMMANDS = ["dry-run", "run", "explain", "check-data", "diff", "report", "backtest",
            "calibrate", "watch"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_that_reads_data_takes_encoding(command: str) -> None:
    code, stdout, _stderr = _run(command, "--help")
    assert code == 0
    assert "--encoding NAME" in stdout


def test_explain_and_check_data_read_the_declared_file() -> None:
    data = str(EXPORTS / "accented_cp1252.csv")
    code, stdout, stderr = _run("explain", str(RULESET), "--data", data, "--encoding", "cp1252",
                                "--account", "ACC-1002", "--as-of", AS_OF)
    assert code == 0, stderr
    assert "Müller GmbH" in stdout
    code, stdout, stderr = _run("check-data", str(RULESET), "--data", data, "--encoding",
                                "cp1252", "--as-of", AS_OF, "--format", "json")
    assert "not UTF-8" not in stdout + stderr
    report = json.loads(stdout)
    assert (report["records"], report["failed"]) == (8, 0)


def test_json_and_json_lines_take_a_declared_encoding(tmp_path: Path) -> None:
    lines = tmp_path / "a.jsonl"
    lines.write_bytes('{"account_id": "A1", "account_name": "Société Générale €"}\n'
                      .encode("cp1252"))
    [record] = list(read_jsonl(str(lines), "cp1252"))
    assert not isinstance(record, RecordError)
    assert record.values["account_name"] == "Société Générale €"
    whole = tmp_path / "a.json"
    whole.write_bytes('[{"account_id": "A1", "account_name": "Zoë"}]'.encode("utf-16"))
    [record] = list(read_json(str(whole), "utf-16"))
    assert not isinstance(record, RecordError)
    assert record.values["account_name"] == "Zoë"
    whole.write_bytes('[{"account_id": "A1", "account_name": "Zoë"}]'.encode())
    with pytest.raises(InputError, match="UTF-8 text, but the file is declared cp1252"):
        list(read_json(str(whole), "cp1252"))


#: Text a person types in a name, with no line breaks or control characters.
_NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codec=st.sampled_from(["cp1252", "iso8859-1", "utf-16", "utf-16-le", "utf-8"]),
       names=st.lists(_NAMES, min_size=1, max_size=5), data=st.data())
def test_any_text_round_trips_through_a_declared_encoding(
    tmp_path: Path, codec: str, names: list[str], data: st.DataObject
) -> None:
    """Whatever the codec can write reads back exactly; the one exception is a row whose
    bytes in a code page happen to be UTF-8, which fails saying so rather than decode."""
    names = [data.draw(st.just(n.encode(codec, "ignore").decode(codec))) for n in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["account_id", "account_name"])
    writer.writerows([f"A{i}", name] for i, name in enumerate(names))
    path = tmp_path / f"round-{codec}.csv"
    path.write_bytes(buffer.getvalue().encode(codec))
    read = list(read_csv(str(path), encoding=codec))
    assert len(read) == len(names)
    for i, (name, item) in enumerate(zip(names, read, strict=True)):
        if isinstance(item, RecordError):
            raw = buffer.getvalue().splitlines()[i + 1].encode(codec)
            assert not raw.isascii() and raw.decode("utf-8")
            assert "UTF-8 text, but the file is declared" in item.message
            continue
        assert item.values["account_id"] == f"A{i}"
        assert item.values.get("account_name", "") == name.strip()


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize("bad", ["A\x1b[2J1", "A\x002", "A\u202e3", "A\x7f4", "A\u00855"])
def test_an_account_id_with_a_control_character_fails_its_row(
    tmp_path: Path, bad: str, engine: str
) -> None:
    """A NUL, an ESC, a bidi override or a C1 inside an id is a broken export: that row
    fails, located, with the id escaped; a name with one is decided and shown escaped."""
    data = tmp_path / "a.csv"
    data.write_text(f"account_id,account_name\n{bad},x\nA9,Na\x1bme\n", encoding="utf-8")
    code, stdout, stderr = _dry_run(data, "--engine", engine)
    assert code == 1
    assert f"{data}:2: account_id: '" in stderr and "holds a control character (U+" in stderr
    assert "\x1b" not in stderr and "\x00" not in stderr
    assert [json.loads(line)["account_id"] for line in stdout.splitlines()] == ["A9"]


MISSING = "missing_values: ['N/A', '-', '—', 'n/a', 'NULL', '#N/A']"
NA_CSV = ("account_id,account_name,health_score,seats_licensed,renewal_date\n"
          "A1,Alpha,N/A,10,#N/A\nA2,Beta,80,-,NULL\nA3,Gamma,—,n/a,2027-01-01\nA4,Delta,abc,5,\n")


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_declared_missing_tokens_are_missing_without_a_warning_and_counted(
    tmp_path: Path, engine: str
) -> None:
    data = tmp_path / "na.csv"
    data.write_text(NA_CSV, encoding="utf-8")
    rules = _ruleset(tmp_path, MISSING)
    code, stdout, stderr = _dry_run(data, "--engine", engine, ruleset=rules)
    assert code == 0, stderr
    warned = [line for line in stderr.splitlines() if "is not a" in line]
    assert len(warned) == 1 and "'abc' is not a number" in warned[0]  # only the real one
    assert "; 6 cells declared missing (missing_values)" in stderr.splitlines()[-1]
    decisions = {d["account_id"]: d for d in map(json.loads, stdout.splitlines())}
    assert "health_score" in decisions["A1"]["missing_signals"]
    assert "seats_licensed" in decisions["A2"]["missing_signals"]
    assert not decisions["A1"].get("data_warnings")
    # Without the declaration each token warns, as before.
    code, _stdout, stderr = _dry_run(data, "--engine", engine)
    assert len([line for line in stderr.splitlines() if "is not a" in line]) == 7
    assert "declared missing" not in stderr


def test_declared_missing_in_the_json_summary_and_run(tmp_path: Path) -> None:
    data = tmp_path / "na.csv"
    data.write_text(NA_CSV, encoding="utf-8")
    rules = _ruleset(tmp_path, MISSING)
    _code, _stdout, stderr = _dry_run(data, "--summary-format", "json", "-j", "2",
                                      ruleset=rules)
    assert json.loads(stderr.splitlines()[-1])["declared_missing"] == 6
    code, _stdout, stderr = _run("run", str(rules), "--data", str(data), "--as-of", AS_OF,
                                 "--no-state", "--sink", "file:" + str(tmp_path / "o.jsonl"))
    assert code == 0, stderr
    assert "6 cells declared missing" in stderr


def test_a_bad_missing_token_is_a_located_error(tmp_path: Path) -> None:
    rules = _ruleset(tmp_path, "missing_values: ['N/A', '']")
    code, stdout, _stderr = _run("validate", str(rules))
    assert code == 1
    assert "E152 sources.csv.missing_values.1: missing_values: an empty token" in stdout


def test_a_byte_order_mark_names_the_encoding_it_marks() -> None:
    """UTF-32's little-endian mark starts like UTF-16's: the file is named for what it is."""
    for start in ("account_id".encode("utf-32-le"), "account_id".encode("utf-32-be")):
        start = (b"\xff\xfe\x00\x00" if start[0] else b"\x00\x00\xfe\xff") + start
        problem = bom_problem(start[:4], "utf-8")
        assert problem.startswith("this is UTF-32 text, not UTF-8: declare it with "
                                  "--encoding utf-32"), problem
        assert bom_problem(start[:4], "utf-32") == ""
        assert bom_problem(start[:4], "utf-16").startswith("this is UTF-32 text, not utf-16")
    assert bom_problem("x".encode("utf-16"), "utf-8").startswith("this is UTF-16 text")
    assert bom_problem("x".encode("utf-16"), "utf-16") == ""
    assert bom_problem(b"\xef\xbb\xbfx", "utf-8") == ""
    assert "UTF-8's byte-order mark" in bom_problem(b"\xef\xbb\xbfx", "cp1252")
    assert "no byte-order mark" in bom_problem(b"ab", "utf-32")
