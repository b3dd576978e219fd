"""Hostile ruleset files: each is refused with a located finding, in bounded time and memory.

The cases: alias expansion bombs ("billion laughs"), aliases that contain themselves,
too many aliases or values, deep nesting (flow and block), a huge scalar, object-
constructing and custom tags, duplicate keys, several documents, a file over the size
limit. One test runs all of them in a child process under a hard memory limit and
checks the time each took and the process's peak memory; the others check the
message and location of each finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.errors import Diagnostic
from upsell_rules.limits import Limits, using
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.yamlload import MAX_NODES

ROOT = Path(__file__).resolve().parents[2]


def laughs(levels: int = 9, width: int = 9) -> str:
    """A billion-laughs document: ``width ** levels`` values from ``levels * width`` aliases."""
    lines = ["lol0: &lol0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*lol{level - 1}"] * width)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def mapping_laughs(levels: int = 6) -> str:
    """The same bomb built from mappings, reached through a merge key."""
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}"]
    for level in range(1, levels):
        items = ", ".join(f"k{i}: *m{level - 1}" for i in range(10))
        lines.append(f"m{level}: &m{level} {{{items}}}")
    lines.append(f"top: {{<<: *m{levels - 1}}}")
    return "\n".join(lines) + "\n"


#: name -> (file text, expected code, expected words, expected line (0: any)).
HOSTILE: dict[str, tuple[str, str, str, int]] = {
    "billion_laughs": (laughs(), "E004", f"more than {MAX_NODES:,} values", 0),
    "mapping_bomb": (mapping_laughs(), "E004", f"more than {MAX_NODES:,} values", 0),
    "too_many_aliases": (
        "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n", "E004", "more than 100 aliases", 2,
    ),
    "self_containing_alias": ("a: &x [1, *x]\n", "E004", "inside the value it refers to", 1),
    "self_containing_mapping": ("a: &x {b: {c: *x}}\n", "E004", "inside the value", 1),
    "deep_flow": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "E004", "deeper than 64", 1),
    "deep_flow_mappings": ("a: " + "{b: " * 50_000 + "}" * 50_000, "E004", "deeper than 64", 1),
    "deep_block": (
        "".join("  " * i + f"k{i}:\n" for i in range(300)), "E004", "deeper than 64", 65,
    ),
    "many_values": (
        "a:\n" + "".join(f"- {i}\n" for i in range(40_000)), "E004", "more than 25,000", 0,
    ),
    "python_object_apply": (
        "name: !!python/object/apply:os.system ['touch pwned']\n", "E002",
        "python/object/apply:os.system", 1,
    ),
    "python_name": ("name: !!python/name:os.system\n", "E002", "python/name:os.system", 1),
    "python_module_on_a_key": ("? !!python/module:os\n: 1\n", "E002", "python/module:os", 1),
    "custom_tag": ("name: !custom thing\n", "E002", "'!custom'", 1),
    "tagged_sequence": ("signals: !!set {a, b}\n", "E002", "yaml.org,2002:set", 1),
    "duplicate_keys": ("name: a\nversion: 1\nname: b\n", "E006", "duplicate key 'name'", 3),
    "second_document": ("name: a\n---\nname: b\n", "E003", "second '---'", 2),
    "not_utf8": ("name: caf\udce9\n", "E001", "not UTF-8", 0),
    "huge_integer": ("name: a\nconstants:\n  n: 1" + "0" * 5000 + "\n", "E004",
                     "an integer of 5,001 digits: at most 4,300", 3),
    "huge_integer_in_a_list": ("name: a\nx:\n  - 1\n  - -" + "9" * 4301 + "\n", "E004",
                               "an integer of 4,301 digits", 4),
}

#: A 50 MB scalar: refused by size before it is parsed (written by the tests).
HUGE_SCALAR_BYTES = 50 * 1024 * 1024


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


def _codes(findings: list[Diagnostic]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_refused_with_a_located_finding(tmp_path: Path, name: str) -> None:
    text, code, words, line = HOSTILE[name]
    path = _write(tmp_path, name, text)
    ruleset, findings = check_ruleset(str(path))
    assert ruleset is None or any(f.is_error for f in findings)
    matching = [f for f in findings if f.code == code and words in f.message]
    assert matching, [str(f) for f in findings]
    finding = matching[0]
    assert finding.location.path == str(path)
    if line:
        assert finding.location.line == line, str(finding)
    assert str(finding).startswith(f"{path}:")
    assert "sys." not in finding.message  # Python's advice is not the user's


def test_tags_never_construct_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\nversion: 1\n"
    path = _write(tmp_path, "apply", text)
    monkeypatch.chdir(tmp_path)
    _, findings = check_ruleset(str(path))
    assert "E002" in _codes(findings)
    assert not marker.exists()


def test_both_duplicates_are_reported_each_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup", "name: a\nversion: 1\nname: b\nversion: 2\n")
    _, findings = check_ruleset(str(path))
    duplicates = [f for f in findings if f.code == "E006"]
    assert [(f.location.line, f.location.col) for f in duplicates] == [(3, 1), (4, 1)]
    assert "first defined at line 1" in duplicates[0].message


def test_a_huge_scalar_is_refused_by_size_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"name: ")
        handle.truncate(HUGE_SCALAR_BYTES)  # a sparse file: fast to make, 50 MB to read
    start = time.perf_counter()
    ruleset, findings = check_ruleset(str(path))
    assert time.perf_counter() - start < 1.0
    assert ruleset is None
    assert [str(f) for f in findings] == [
        f"{path}:1:1: E007 the file is 50.0 MB, above the 1 MB limit for a YAML file "
        "(UPSELL_RULES_MAX_RULESET_MB); it was not parsed"
    ]


def test_the_size_limit_applies_to_text_passed_in_and_is_configurable(tmp_path: Path) -> None:
    text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")
    assert _codes(check_ruleset("r.yaml", text=text)[1]) == []
    with using(Limits(ruleset_mb=0.01)):
        _, findings = check_ruleset("r.yaml", text=text)
    assert _codes(findings) == ["E007"]
    with using(Limits(ruleset_mb=0)):
        assert _codes(check_ruleset("r.yaml", text=text + "# " + "x" * 2_000_000)[1]) == []


def test_validate_takes_the_size_limit_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes((ROOT / "rulesets" / "upsell_timing.yaml").read_bytes())
    size = path.stat().st_size
    result = CliRunner().invoke(
        cli, ["validate", str(path)], env={"UPSELL_RULES_MAX_RULESET_MB": "0.01"}
    )
    assert result.exit_code == 1
    assert (
        f"{path}:1:1: E007 the file is {size / 1024:.1f} KB, above the 0.01 MB limit for a "
        "YAML file (UPSELL_RULES_MAX_RULESET_MB); it was not parsed"
    ) in result.output


def test_validate_reports_a_bomb_quickly(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb", laughs())
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert time.perf_counter() - start < 5
    assert result.exit_code == 1
    assert f"{path}:" in result.output and "E004" in result.output


def test_harmless_aliases_and_merge_keys_still_load(tmp_path: Path) -> None:
    text = "a: &a {x: 1}\nb: {<<: *a, y: 2}\nc: [*a, *a]\n"
    _, findings = check_ruleset(str(_write(tmp_path, "ok", text)))
    assert not [f for f in findings if f.code.startswith("E00")]


# --- bounds: every hostile case in one child process under a hard memory limit ------

_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    def peak_kb():
        # This process's own peak (VmHWM). ru_maxrss would also count the test process
        # that started it (Linux keeps the larger of the two across vfork and exec).
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from upsell_rules.ruleset.loader import check_ruleset
    from upsell_rules.plugin.build import default_registry
    registry = default_registry()
    out = {}
    for path in sys.argv[2:]:
        start = time.perf_counter()
        ruleset, findings = check_ruleset(path, registry)
        seconds = time.perf_counter() - start
        out[path] = [seconds, peak_kb(), [f.code for f in findings]]
    print(json.dumps(out))
    """
)

#: Hard cap on the child's address space, and what its peak resident memory may reach.
ADDRESS_SPACE = 1024 * 1024 * 1024
PEAK_RSS_MB = 600  # refusals stay far below; the unbounded case needed 1.7 GB
#: Slowest any single hostile file may take: the slowest, 25,000 values parsed before the
#: refusal, takes about 1 s on an idle laptop; the margin is for loaded CI machines.
SECONDS_PER_FILE = 15.0


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc: Linux")
def test_every_hostile_file_is_refused_within_time_and_memory(tmp_path: Path) -> None:
    paths = [_write(tmp_path, name, text) for name, (text, *_rest) in sorted(HOSTILE.items())]
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.write(b"name: ")
        handle.truncate(HUGE_SCALAR_BYTES)
    paths.append(huge)
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ADDRESS_SPACE), *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    for path in paths:
        seconds, peak_kb, codes = report[str(path)]
        assert seconds < SECONDS_PER_FILE, (path.name, seconds)
        assert peak_kb < PEAK_RSS_MB * 1024, (path.name, peak_kb)
        assert any(code in ("E001", "E002", "E003", "E004", "E006", "E007") for code in codes)


@pytest.mark.parametrize("pure", [False, True])
def test_aliases_cannot_nest_past_the_depth_limit(pure: bool) -> None:
    """Each anchor nests the one before 60 levels deeper: refused, not a RecursionError."""
    from upsell_rules.ruleset.yamlload import MAX_DEPTH, load_yaml

    lines = [f"a{i}: &a{i} " + "[" * 60 + ("x" if i == 0 else f"*a{i - 1}") + "]" * 60
             for i in range(25)]
    doc, findings = load_yaml("deep.yaml", "\n".join(lines) + "\n", pure=pure)
    assert doc is None
    assert [str(f) for f in findings] == [
        f"deep.yaml:2:69: E004 nested deeper than {MAX_DEPTH} levels (counting what aliases "
        "repeat)"
    ]
    # Up to the limit, with the alias counted, the document loads.
    inner = "[" * 30 + "1" + "]" * 30
    at_limit = f"a: &a {inner}\nb: " + "[" * 33 + "*a" + "]" * 33 + "\n"
    doc, findings = load_yaml("ok.yaml", at_limit, pure=pure)
    assert doc is not None and findings == []
    over = f"a: &a {inner}\nb: " + "[" * 34 + "*a" + "]" * 34 + "\n"
    assert load_yaml("over.yaml", over, pure=pure)[0] is None
