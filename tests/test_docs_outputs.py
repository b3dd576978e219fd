"""Pasted outputs in the docs come from the tool: every console block marked
``<!-- output-checked -->`` is run and must match, byte for byte.

Each ``$ upsell-rules ...`` line in such a block runs in a fresh folder holding copies of
``rulesets/`` and ``samples/`` (so the commands may write files); the lines after it,
up to the next ``$``, are its standard output followed by its error output.

A hidden ``<!-- setup: ... -->`` line after the mark runs first (the edit the text
describes, a small file to read), and a block shown whole with ``<!-- file: PATH -->``
above it is saved at PATH for the checked blocks after it. A console block that cannot
run here (a network, a warehouse, an install) is marked ``<!-- illustrative -->`` and the
text says why; a console block with neither mark fails the suite.

To regenerate the marked blocks after an intended change:

    UPSELL_RULES_UPDATE_DOCS=1 python -m pytest -q tests/test_docs_outputs.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
MARK = "<!-- output-checked -->"
#: A hidden step before a checked block's commands (e.g. the edit the text describes):
#: ``<!-- setup: COMMAND -->`` on the line after the mark, run in the same folder.
SETUP = r"(?:\n<!-- setup: (.*?) -->)?"
BLOCK = re.compile(re.escape(MARK) + SETUP + r"\n```console\n(.*?)```", re.S)
#: A console block that cannot be run here (a network, a paid warehouse, an install),
#: said so in the text just above it.
ILLUSTRATIVE = "<!-- illustrative -->"
#: A file the text shows whole (``<!-- file: rulesets/seat_only.yaml -->`` above its
#: block): the checked blocks after it in the same page run with it saved there.
FILE = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", re.S)
UPDATE = bool(os.environ.get("UPSELL_RULES_UPDATE_DOCS"))


def blocks() -> list[tuple[Path, int, int]]:
    """Each checked block: its page, its line and its place among the page's blocks
    (the place finds it again after an update has moved the lines)."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for place, match in enumerate(BLOCK.finditer(text)):
            found.append((doc, text[: match.start()].count("\n") + 1, place))
    return found


def _commands(body: str) -> list[tuple[str, str]]:
    parts = re.split(r"^\$ ", body, flags=re.M)
    return [(p.partition("\n")[0], p.partition("\n")[2]) for p in parts[1:]]


def _run_block(commands: list[str], folder: Path, setup: str | None = None) -> list[str]:
    """Run a block's commands in one shell, in order (``echo $?`` sees the previous
    command's status); each gives its standard output, then its error output."""
    env = {**os.environ, "COLUMNS": "100", "UPSELL_RULES_QUIET_BUNDLED": "1",
           "UPSELL_RULES_NO_PROGRESS": "1", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    bin_dir = folder / ".bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "upsell-rules"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m upsell_rules "$@"\n', "utf-8")
    shim.chmod(0o755)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', "utf-8")
    python.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    lines = ["rc=0"]
    if setup:
        lines.append(f"{{ {setup}\n}} || exit 97")
    for index, command in enumerate(commands):
        command = command.replace("python -m upsell_rules", f'"{sys.executable}" -m upsell_rules')
        # Absolute paths: a setup step may change the folder (``cd acme-rules``).
        lines.append(f"(exit $rc); {{ {command}\n}} > '{bin_dir}/out{index}' "
                     f"2> '{bin_dir}/err{index}'; rc=$?")
    subprocess.run(["bash", "-c", "\n".join(lines)], cwd=folder, env=env, timeout=600,
                   check=False)
    outputs = []
    for i in range(len(commands)):
        text = (bin_dir / f"out{i}").read_text("utf-8") + (bin_dir / f"err{i}").read_text("utf-8")
        # A block shows whole lines (``head -c`` may cut the last one).
        outputs.append(text if not text or text.endswith("\n") else text + "\n")
    return outputs


def _fresh(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("rulesets", "samples"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


@pytest.mark.parametrize(("doc", "line", "place"), blocks(),
                         ids=[f"{d.name}:{n}" for d, n, _ in blocks()])
def test_pasted_output_matches_the_tool(doc: Path, line: int, place: int,
                                        tmp_path: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    match = list(BLOCK.finditer(text))[place]
    folder = _fresh(tmp_path)
    for shown in FILE.finditer(text[: match.start()]):
        target = folder / shown.group(1)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(shown.group(2), encoding="utf-8")
    commands = _commands(match.group(2))
    outputs = _run_block([c for c, _ in commands], folder, match.group(1))
    pieces = []
    for (command, shown), got in zip(commands, outputs, strict=True):
        if UPDATE:
            pieces.append(f"$ {command}\n{got}")
        else:
            assert got == shown, f"{doc.name}:{line}: $ {command}\n--- docs\n{shown}--- tool\n{got}"
    if UPDATE:
        body = "".join(pieces)
        fresh = doc.read_text(encoding="utf-8")
        start = fresh.index(match.group(0))
        setup = f"\n<!-- setup: {match.group(1)} -->" if match.group(1) else ""
        block = f"{MARK}{setup}\n```console\n{body}```"
        fresh = fresh[:start] + block + fresh[start + len(match.group(0)):]
        doc.write_text(fresh, encoding="utf-8")


def test_some_outputs_are_checked() -> None:
    assert len(blocks()) >= 10


def test_every_console_block_is_checked_or_said_to_be_illustrative() -> None:
    """A ``console`` block shows what the tool prints, so the test runs it; one that
    cannot run here is marked ``<!-- illustrative -->`` (and the text says why)."""
    unmarked = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        # The line of each checked block's fence (its body starts on the next line).
        checked = {text[: m.start(2)].count("\n") for m in BLOCK.finditer(text)}
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            if not line.startswith("```console") or number in checked:
                continue
            if number < 2 or lines[number - 2] != ILLUSTRATIVE:
                unmarked.append(f"{doc.relative_to(ROOT)}:{number}")
    assert not unmarked, "console blocks neither output-checked nor illustrative: " + ", ".join(
        unmarked)


def test_planned_commands_are_the_ones_not_shipped_yet() -> None:
    """cli.md's "Planned commands" table and index.md's list name no shipped command."""
    from upsell_rules.cli.main import cli

    shipped = set(cli.list_commands(None))  # type: ignore[arg-type]
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = page.split("## Planned commands", 1)[1].split("\n## ", 1)[0]
    planned = set(re.findall(r"^\| `([a-z-]+)`", section, re.M))
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    listed = index.split("[Planned commands]", 1)[1].split("\n- ", 1)[0]
    planned |= set(re.findall(r"`([a-z-]+)`", listed))
    assert not planned & shipped, sorted(planned & shipped)


def test_the_index_says_where_to_start_for_every_page() -> None:
    """A newcomer finds every page from index.md's "Where to start" table."""
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    table = index.split("## Where to start", 1)[1].split("\n## ", 1)[0]
    linked = set(re.findall(r"\]\(([a-z]+\.md)\)", table))
    pages = {page.name for page in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert not pages - linked, sorted(pages - linked)


# The reference pages against the tool itself: every option a command has is documented
# where that command is, and every option a page gives a command exists, with its choices.

#: Options every command takes, documented once under "Plugin options (every command)".
EVERY_COMMAND = {"--debug", "-p", "--plugin", "--plugin-timeout", "--help", "-h"}
REFERENCE = ("cli.md", "backtest.md")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _sections() -> list[tuple[str, str]]:
    """The reference pages cut at their ``## `` headings: (heading, text) pairs."""
    found = []
    for name in REFERENCE:
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        for part in re.split(r"^## ", text, flags=re.M)[1:]:
            heading, _, body = part.partition("\n")
            found.append((heading, body))
    return found


def _own(command: str, heading: str) -> bool:
    """Whether the heading is the command's own section (``## backtest`` in backtest.md,
    ``## sample-history: data with a known answer``)."""
    return heading.split(":")[0].strip() == command


def _documents(command: str, heading: str, body: str) -> bool:
    """Whether a section speaks for the command: its own, one whose heading names it
    (``## --strict (dry-run, run, ...)``), or one with its synopsis line."""
    named = set(re.findall(r"[a-z][a-z-]*", heading.replace("`", " ")))
    return (_own(command, heading) or command in named
            or re.search(rf"^upsell-rules {re.escape(command)} ", body, re.M) is not None)


def _cli_commands() -> dict[str, object]:
    import click

    from upsell_rules.cli.main import cli

    context = click.Context(cli)
    return {name: cli.get_command(context, name) for name in cli.list_commands(context)}


def _options(command: object) -> dict[str, object]:
    import click

    assert isinstance(command, click.Command)
    return {flag: param for param in command.params
            if isinstance(param, click.Option) and not param.hidden
            for flag in (*param.opts, *param.secondary_opts)}


def test_every_option_of_every_command_is_documented() -> None:
    sections = _sections()
    missing = []
    for name, command in _cli_commands().items():
        text = "\n".join(body for heading, body in sections if _documents(name, heading, body))
        shown = set(FLAG.findall(text))
        options = _options(command)
        missing += [f"{name} {flag}" for flag in options
                    if flag.startswith("--") and flag not in shown | EVERY_COMMAND]
        words = set(re.findall(r"[\w-]+", text))
        missing += [f"{name} {flag} {choice}" for flag, option in options.items()
                    for choice in getattr(getattr(option, "type", None), "choices", ()) or ()
                    if flag.startswith("--") and choice not in words]
    assert not missing, "options (or choices) in --help that docs/cli.md (or backtest.md) never names: " + (
        ", ".join(sorted(missing)))


def test_documented_options_exist_with_their_choices() -> None:
    """Each option table row and synopsis line of a command's own section names an
    option the command has; a row ``--format X`` names one of its choices, and one marked
    ``(default)`` is the default."""
    import click

    commands = _cli_commands()
    wrong = []
    for heading, body in _sections():
        for name, command in commands.items():
            options = _options(command)
            synopsis = re.findall(rf"^upsell-rules {re.escape(name)} (.*(?:\n {{10,}}.*)*)",
                                  body, re.M)
            rows = re.findall(r"^\| `(--[a-z-]+)(?: ([^`]*))?`(?:, `[^`]*`)* \| (.*)\|$",
                              body, re.M) if _own(name, heading) else []
            for flag in FLAG.findall("\n".join(synopsis)):
                if flag not in options and flag not in EVERY_COMMAND:
                    wrong.append(f"{heading}: synopsis of {name}: no option {flag}")
            for flag, value, meaning in rows:
                option = options.get(flag)
                if option is None:
                    wrong.append(f"{heading}: {name} has no option {flag}")
                    continue
                assert isinstance(option, click.Option)
                choices = getattr(option.type, "choices", None)
                # ``NAME`` is a placeholder; ``a\|b`` lists the choices in a table cell.
                values = [] if not value or value.isupper() else value.split("\\|")
                if choices is not None and not set(values) <= set(choices):
                    wrong.append(f"{heading}: {name} {flag} {value} is not one of {choices}")
                # A default of None is worked out at run time (the table follows -o's name).
                if (meaning.startswith("(default)") and option.default is not None
                        and str(option.default) != value):
                    wrong.append(f"{heading}: {name} {flag}: the default is {option.default}")
    assert not wrong, "\n".join(wrong)


def _anchors(text: str) -> set[str]:
    """The anchors a page's headings get on GitHub (``## Dates and `--as-of` `` is
    ``#dates-and---as-of``; a repeated heading gets ``-1``, ``-2``...)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found = set(re.findall(r'<a (?:id|name)="([^"]+)"', text))
    repeats: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        repeats[slug] = repeats.get(slug, -1) + 1
        found.add(f"{slug}-{repeats[slug]}" if repeats[slug] else slug)
    return found


def test_links_between_pages_reach_a_file_and_a_heading() -> None:
    """A link to ``page.md#anchor`` (or ``#anchor``) lands on a heading that exists: a
    heading lost or renamed in an edit shows here, not in a reader's dead link."""
    anchors = {doc.resolve(): _anchors(doc.read_text(encoding="utf-8")) for doc in DOCS}
    broken = []
    for doc in DOCS:
        prose = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc.resolve()
            if not dest.exists() or (anchor and anchor not in anchors.get(dest, {anchor})):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, "links to nothing: " + ", ".join(broken)


#: Codes of authoring.md's table that no other test provokes: each with the edit of the
#: bundled ruleset that makes ``validate`` report it (text replaced, once).
PROVOKED = {
    "E005": ("constants:\n", "constants:\n  ? [a, b]\n  : 1\n"),
    "E012": ("name: upsell_timing", "name: Upsell-Timing"),
    "E016": ("bands:\n", "bands: []\nunused_bands:\n"),
    "E017": ("  plan: {type: string,", '  plan: {type: string, derive: latest, when: "arr > 1",'),
    "E111": ("constants:\n", "constants:\n  arr: 5\n"),
    "W123": ("    when: seat_utilization >= 85%\n", "    when: arr > 10 and arr < 5\n"),
    "E135": ("{type: number, unit: ratio, derive: latest, params: {series: seat_",
             "{type: date, unit: ratio, derive: latest, params: {series: seat_"),
    "E136": ("signals:\n", "signals:\n"
             "  loop_a: {type: number, derive: latest, params: {series: loop_b}}\n"
             "  loop_b: {type: number, derive: latest, params: {series: loop_a}}\n"),
    "E170": ("\nsources:", "\nmemory:\n  cooldowns:\n    - {play: seat_expanson, days: 30}\nsources:"),
    "W203": ("constants:\n", "constants:\n  old_floor: 5\n"),
}


@pytest.mark.parametrize("code", sorted(PROVOKED))
def test_a_documented_code_is_reported(code: str, tmp_path: Path) -> None:
    """The authoring guide's table lists codes the checker really reports, in the form
    its example shows (``path:line:col: CODE message``)."""
    from click.testing import CliRunner

    from upsell_rules.cli.main import cli

    old, new = PROVOKED[code]
    text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the edit for {code} no longer applies"
    (tmp_path / "r.yaml").write_text(text.replace(old, new), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "r.yaml")])
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    example = re.search(rf"^\| {code} \|.*?`[^`]*?:\d+:\d+: {code} ([^`]*)`", guide, re.M)
    assert example, f"authoring.md shows no example of {code}"
    reported = re.findall(rf"^\S*r\.yaml:\d+:\d+: {code} (.*)$", result.output, re.M)
    assert reported, result.output
