"""Issue 12: hostile data and hostile file situations end cleanly, one record at a time.

Huge JSON integers and lone surrogates fail only their record; terminal escapes from
the data never reach the screen in explain, diff or dry-run's errors; account names
cannot inject Markdown into a pull request; a full disk or a file-size limit is a
clear exit 2 with the old output kept; --output cannot overwrite an input; the file
sink honours the umask and the old file's mode.
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from upsell_rules.safetext import markdown_text, printable, printable_lines

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
AS_OF = "2026-11-02"
HOSTILE = "Evil\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\x1b]8;;https://x.example\x1b\\Co"


def run(*args: str, cwd: Path = ROOT, preexec: object = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", *args], capture_output=True, text=True,
        encoding="utf-8", errors="surrogateescape", cwd=cwd, timeout=300,
        preexec_fn=preexec,  # type: ignore[arg-type]
    )


def jsonl_with(tmp_path: Path, index: int, old: str, new: str) -> tuple[Path, int]:
    lines = (ROOT / "samples" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new, 1)
    path = tmp_path / "accounts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines)


def csv_with_name(tmp_path: Path, account_id: str, name: str) -> Path:
    with open(ROOT / "samples" / "accounts.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["account_id"] == account_id:
            row["account_name"] = name
    path = tmp_path / "accounts.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- items 6 and 7: one bad JSON record fails alone ------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "table"])
@pytest.mark.parametrize(("old", "new", "message"), [
    ('"health_score": ', '"huge": ' + "9" * 5000 + ', "health_score": ',
     "a number of 5,000 digits: longer than the 4,300 digits"),
    ('"account_name": "', '"account_name": "\\ud800', "not valid text: a lone surrogate"),
])
def test_one_bad_json_record_fails_alone(
    tmp_path: Path, fmt: str, old: str, new: str, message: str
) -> None:
    data, total = jsonl_with(tmp_path, 4, old, new)
    result = run("dry-run", RULESET, "--data", str(data), "--as-of", AS_OF, "--format", fmt)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{data}:5: {message}" in result.stderr
    assert f"read {total}, decided {total - 1}, failed 1" in result.stderr
    if fmt == "jsonl":
        assert len(result.stdout.splitlines()) == total - 1


def test_the_same_in_a_json_array_and_with_jobs(tmp_path: Path) -> None:
    lines = (ROOT / "samples" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"account_name": "', '"account_name": "\\udfff', 1)
    lines[7] = lines[7].replace('"health_score": ', '"n": -' + "1" * 4400 + ', "health_score": ')
    array = tmp_path / "accounts.json"
    array.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    result = run("dry-run", RULESET, "--data", str(array), "--as-of", AS_OF, "--format", "jsonl")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"read {len(lines)}, decided {len(lines) - 2}, failed 2" in result.stderr
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    jobs = run("dry-run", RULESET, "--data", str(tmp_path / "a.jsonl"), "--as-of", AS_OF,
               "--format", "jsonl", "--jobs", "2")
    assert jobs.returncode == 1 and len(jobs.stdout.splitlines()) == len(lines) - 2


# --- items 9 and 13: terminal escapes and Markdown from data ---------------------------------


def test_explain_shows_escapes_as_text(tmp_path: Path) -> None:
    data = csv_with_name(tmp_path, "ACC-1001", HOSTILE)
    result = run("explain", RULESET, "--data", str(data), "--account", "ACC-1001",
                 "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Evil\\x1b]0;pwned\\x07\\x1b[2J" in result.stdout


def test_diff_text_shows_escapes_as_text_and_markdown_is_inert(tmp_path: Path) -> None:
    data = csv_with_name(tmp_path, "ACC-1016", HOSTILE)
    args = ("diff", RULESET, "--data", str(data), "--as-of", AS_OF,
            "--set", "constants.health_ready=80")
    text = run(*args)
    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout and "Evil\\x1b]0;pwned" in text.stdout
    evil = "![x](https://evil.example/p.png) <img src=x onerror=alert(1)> [pay](http://e.x) **b**"
    data = csv_with_name(tmp_path, "ACC-1016", evil)
    markdown = run(*args, "--format", "markdown").stdout
    row = next(line for line in markdown.splitlines() if line.startswith("| ACC-1016"))
    bare = re.sub(r"\\.", "", row)  # what Markdown still reads once escapes are taken out
    for needle in ("!", "[", "(", "<", "*", "https:", "http:"):
        assert needle not in bare.split(" | ")[0]
    assert bare.count(" | ") == 4  # the cells are still five (account, before, after, what, why)


def test_markdown_text_leaves_nothing_active() -> None:
    for hostile in ("<script>x</script>", "[a](javascript:x)", "![i](u)", "`code`",
                    "www.evil.example", "a|b", "x\ny", "&lt;b&gt;"):
        shown = re.sub(r"\\.", "", markdown_text(hostile))
        assert not set(shown) & set("\n<>[]()`!|") and "&lt;" not in shown
    assert printable_lines("a\x1b[2J\nb") == "a\\x1b[2J\nb"
    assert printable("\u202eevil") == "\\u202eevil"


# --- item 15: a full disk or a file-size limit -----------------------------------------------


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_a_file_size_limit_is_exit_2_and_the_old_output_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "queue.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    result = run("dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                 "--format", "jsonl", "--output", str(out), preexec=_limit_file_size)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"--output {out}: cannot write: File too large; the previous file" in result.stderr
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["queue.jsonl"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_through_the_file_sink_is_reported(tmp_path: Path) -> None:
    from datetime import date

    from upsell_rules.io.sinks import deliver_file
    from upsell_rules.plugin.types import SinkContext

    report = deliver_file([{"account_id": "A"}], SinkContext(
        {"path": "/dev/full/x.jsonl"}, {}, date(2026, 11, 2), "f", "--sink"))
    assert report.results[0].status == "failed" and "cannot write" in report.results[0].detail


# --- item 17: --output naming an input --------------------------------------------------------


def test_output_over_an_input_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "accounts.csv"
    data.write_bytes((ROOT / "samples" / "accounts.csv").read_bytes())
    before = data.read_bytes()
    for target in (str(data), str(tmp_path / "." / "accounts.csv")):
        result = run("dry-run", RULESET, "--data", f"csv:{data}", "--as-of", AS_OF,
                     "--output", target)
        assert result.returncode == 2
        assert "is the input" in result.stderr and data.read_bytes() == before
    ruleset = tmp_path / "r.yaml"
    ruleset.write_bytes(Path(RULESET).read_bytes())
    result = run("dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
                 "--output", str(ruleset))
    assert result.returncode == 2 and ruleset.read_bytes() == Path(RULESET).read_bytes()


# --- item 18: the file sink's permissions ----------------------------------------------------


def test_file_sink_honours_umask_and_the_old_mode(tmp_path: Path) -> None:
    new = tmp_path / "new.jsonl"
    old = tmp_path / "old.jsonl"
    old.write_text("x\n", encoding="utf-8")
    old.chmod(0o640)
    for target in (new, old):
        result = subprocess.run(
            [sys.executable, "-c",
             "import os, sys; os.umask(0o022); from upsell_rules.cli.main import main; "
             "sys.argv = ['upsell-rules'] + sys.argv[1:]; main()",
             "run", "--no-state", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
             "--sink", f"file:{target}"],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
        assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o640
    assert json.loads(new.read_text(encoding="utf-8").splitlines()[0])["account_id"]


# --- item 19: a test file reads only inside its repository or the current folder -----------


def test_a_tests_file_cannot_read_data_outside(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "rulesets").mkdir(parents=True)
    (project / "rulesets" / "r.yaml").write_bytes(Path(RULESET).read_bytes())
    secrets = tmp_path / "secrets.csv"
    secrets.write_bytes((ROOT / "samples" / "accounts.csv").read_bytes())
    inside = project / "accounts.csv"
    inside.write_bytes(secrets.read_bytes())
    case = ("as_of: 2026-11-02\ncases:\n  - name: probe\n    sample: ACC-1001\n"
            "    expect: {band: act_now}\n")
    for data, ok in (("../../secrets.csv", False), (str(secrets), False),
                     ("../accounts.csv", True)):
        test_file = project / "rulesets" / "r.tests.yaml"
        test_file.write_text(f"ruleset: r.yaml\ndata: {data}\n" + case, encoding="utf-8")
        result = run("test", "rulesets/r.tests.yaml", cwd=project)
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        else:
            assert result.returncode != 0
            assert "is outside the repository and the current folder" in result.stdout
            assert "E308" in result.stdout


def test_validate_findings_show_ruleset_escapes_as_text(tmp_path: Path) -> None:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(Path(RULESET).read_text(encoding="utf-8")
                       + '\n"\\e]0;pwned\\a\\e[2J": {}\n', encoding="utf-8")
    for command in ("validate", "dry-run"):
        args = [command, str(ruleset)]
        if command == "dry-run":
            args += ["--data", "samples/accounts.csv", "--as-of", AS_OF]
        result = run(*args)
        shown = result.stdout + result.stderr
        assert result.returncode in (1, 2) and "\\x1b]0;pwned" in shown
        assert "\x1b" not in shown and "\x07" not in shown


# --- a value nested hundreds of levels deep (valid JSON) ------------------------------------


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize(("field", "says"), [
    ("named_gaps", "named_gaps: [[[[[...]]]]] has an item [[[[[...]]]]] that is not text"),
    ("arr", "arr: [[[[[...]]]]] is not a number"),
    ("account_name", "account_name: [[[[[...]]]]] is not text"),
])
def test_a_deeply_nested_value_is_a_warning_not_a_traceback(
    tmp_path: Path, engine: str, field: str, says: str
) -> None:
    # 990 levels: inside what the JSON reader takes, past what json.dumps and repr take.
    deep = "[" * 990 + "1" + "]" * 990
    lines = (ROOT / "samples" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[4])
    record.pop(field, None)
    lines[4] = json.dumps(record)[:-1] + f', "{field}": {deep}}}'
    data = tmp_path / "accounts.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("dry-run", RULESET, "--data", str(data), "--as-of", AS_OF, "--format", "jsonl",
                 "--engine", engine)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{data}:5: {says}; {field} is missing for {record['account_id']}" in result.stderr
    assert len(result.stdout.splitlines()) == len(lines)
