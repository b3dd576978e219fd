"""The files ``upsell-rules init`` writes: a rules repository ready for review and CI.

Every bundled ruleset (``upsell_timing`` is the starter) with its tests, the samples, the JSON
Schemas editors use, a README for the RevOps team, a CI workflow and a pre-commit
configuration. The ruleset and test files point their ``yaml-language-server`` comment at
the schema copies inside the new repository, so completion works without network access.
"""

from __future__ import annotations

import json
from importlib import metadata

from upsell_rules import __version__
from upsell_rules.ruleset.bundled import bundled_file, schema_file

#: The evaluation date the bundled samples were written for.
SAMPLE_AS_OF = "2026-11-02"

_SCHEMA_COMMENT = "# yaml-language-server: $schema="

_CI = """\
# Checks the rules on every push and pull request with the same commands you run locally.
name: rules

on:
  push:
  pull_request:

jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the diff step compares with the target branch
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install upsell-rules (from requirements.txt)
        run: python -m pip install -r requirements.txt
      - name: Validate the rulesets and their test files
        run: upsell-rules validate rulesets/*.yaml
      - name: Run the ruleset tests
        run: upsell-rules test rulesets --junit-xml ruleset-tests.xml
      - name: Check the layout (fix with upsell-rules fmt rulesets/*.yaml)
        run: upsell-rules fmt --check rulesets/*.yaml
      # On a pull request, show which sample accounts change band and why, in the run's
      # summary page. {as_of} is the date the sample data was written for; with your own
      # export, point --data at it and leave --as-of out.
      - name: What the change does to the sample accounts
        if: github.event_name == 'pull_request'
        run: |
          for ruleset in rulesets/*.yaml; do
            case "$ruleset" in *.tests.yaml) continue ;; esac
            upsell-rules diff --git "origin/${{{{ github.base_ref }}}}" "$ruleset" \\
              --data samples/accounts.csv --as-of {as_of} --format markdown \\
              >> "$GITHUB_STEP_SUMMARY" || echo "$ruleset is new in this branch"
          done
"""

_PRE_COMMIT = """\
# pre-commit (https://pre-commit.com) runs these checks before each commit:
#   pip install pre-commit && pre-commit install
# They call the upsell-rules command installed in your environment.
repos:
  - repo: local
    hooks:
      - id: upsell-rules-validate
        name: upsell-rules validate
        entry: upsell-rules validate
        language: system
        files: ^rulesets/.*\\.ya?ml$
      - id: upsell-rules-test
        name: upsell-rules test
        entry: upsell-rules test
        language: system
        files: ^(rulesets|samples)/
        pass_filenames: false
      - id: upsell-rules-fmt
        name: upsell-rules fmt --check
        entry: upsell-rules fmt --check
        language: system
        files: ^rulesets/.*\\.ya?ml$
"""

_README = """\
# Upsell rules

This repository holds our upsell timing rules: *when* a Customer Success or Account
team should start an expansion conversation with an account. The rules are YAML files
that RevOps owns; [upsell-rules](https://pypi.org/project/upsell-rules/) checks them,
runs them against an account export and explains every decision.

| path | what |
|---|---|
| `rulesets/upsell_timing.yaml` | the ruleset: scores, bands, gates, red flags, triggers, plays |
| `rulesets/upsell_timing.tests.yaml` | its tests: accounts in, the decisions we expect out |
| `rulesets/expansion_triggers.yaml` (+ tests) | the second ruleset, organised by trigger |
| `samples/accounts.csv` | sample accounts the tests and the pull-request diff use (dated {as_of}) |
| `samples/` (the rest) | JSON Lines, events, tickets, and history for backtests |
| `requirements.txt` | where CI (and you) install upsell-rules from |
| `schema/` | JSON Schemas: your editor completes and checks the YAML as you type |
| `.github/workflows/rules.yml` | CI: validate, test, layout check; a diff on pull requests |
| `.pre-commit-config.yaml` | the same checks before each commit |

## Set up once

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt pre-commit
pre-commit install
```

In VS Code, install the "YAML" extension (Red Hat): the first line of each ruleset names
its schema, so keys and values are completed and checked while you type.

## Change a rule

1. Edit `rulesets/upsell_timing.yaml` (for example a threshold under `constants:`).
2. Check it: `upsell-rules validate rulesets/*.yaml`. Every problem is reported as
   `file:line:col: CODE message`.
3. Run the tests: `upsell-rules test`. A failing case shows what was expected, what the
   ruleset decided, and the line of the case.
4. If the change is intended, update or add test cases in
   `rulesets/upsell_timing.tests.yaml`, so the next person cannot undo it by accident.
5. See what it does to real accounts (one command):
   `upsell-rules diff --git main rulesets/upsell_timing.yaml
   --data samples/accounts.csv --as-of {as_of}`
   lists every account that changes band or blocked state, and the rule behind it.
6. Try a value without editing the file (one command):
   `upsell-rules dry-run rulesets/upsell_timing.yaml --data samples/accounts.csv
   --as-of {as_of} --set constants.health_floor=70`
7. Tidy the layout with `upsell-rules fmt rulesets/*.yaml`, commit, and open a pull
   request. CI runs the same checks and writes the diff on the pull request's summary
   page; paste it into the description (`--format markdown`).

## Write a test

```yaml
  - name: health below 65 blocks outreach
    sample: ACC-1013              # an account from samples/accounts.csv ...
    overrides: {{health_score: 58}} # ... with fields changed for this case
    expect:
      blocked: true
      play: health_recovery
```

A case may also write a whole account under `account:`, set its own `as_of:`, and
expect `band`, `blocked`, `score` (a number or `{{min: 70, max: 100}}`), `capped_at`,
`category_scores`, `triggers` / `red_flags` (`fired`, `not_fired`), `gates` (`failed`,
`passed`), `upsell_types`, `play`, `owner` and `prepare`. Only what you write is checked.

Reference: `upsell-rules --help`, `upsell-rules COMMAND --help`, and the project's
documentation (docs/workflow.md, docs/authoring.md, docs/cli.md).
"""


def _point_schema(text: str, schema: str) -> str:
    """``text`` whose first line is the yaml-language-server comment naming ``schema``."""
    first, _, rest = text.partition("\n")
    comment = f"{_SCHEMA_COMMENT}{schema}"
    if first.startswith(_SCHEMA_COMMENT):
        return f"{comment}\n{rest}"
    return f"{comment}\n{text}"


#: Sample files ``init`` copies (the generators that wrote them stay behind).
_SAMPLE_SUFFIXES = (".csv", ".jsonl", ".json", ".md")


def install_requirement() -> str:
    """How CI should install this upsell-rules: the source it was installed from when
    that is a public URL (a git repository, a wheel on the web), else the released
    version from the package index."""
    pinned = f"upsell-rules=={__version__}"
    try:
        raw = metadata.distribution("upsell-rules").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return pinned
    if not raw:
        return pinned
    try:
        origin = json.loads(raw)
    except ValueError:
        return pinned
    url = str(origin.get("url", ""))
    vcs = origin.get("vcs_info") or {}
    if vcs and url.startswith(("https://", "ssh://", "git@")):
        commit = vcs.get("commit_id") or vcs.get("requested_revision") or ""
        return f"upsell-rules @ {vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
    if url.startswith("https://") and url.endswith(".whl"):
        return f"upsell-rules @ {url}"
    return pinned


_REQUIREMENTS = """\
# Where CI (and everyone on the team) installs upsell-rules from. If this is not on your
# package index, replace the line: a git URL ("upsell-rules @ git+https://...@TAG"),
# a wheel committed next to this file ("./wheels/upsell_rules-X-py3-none-any.whl") or
# your internal index.
{requirement}
"""


def _bundled_samples() -> dict[str, str]:
    folder = bundled_file("samples", "accounts.csv").parent
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in _SAMPLE_SUFFIXES:
            relative = path.relative_to(folder).as_posix()
            out[f"samples/{relative}"] = path.read_text("utf-8")
    return out


def _bundled_rulesets() -> dict[str, str]:
    folder = bundled_file("rulesets", "upsell_timing.yaml").parent
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        schema = ("../schema/ruleset_tests.schema.json" if path.name.endswith(".tests.yaml")
                  else "../schema/ruleset.schema.json")
        out[f"rulesets/{path.name}"] = _point_schema(path.read_text("utf-8"), schema)
    return out


def scaffold_files(requirement: str | None = None) -> dict[str, str]:
    """Relative path -> contents of every file ``init`` writes: every bundled ruleset and
    its tests, the bundled samples, schemas, README, CI, pre-commit, requirements.txt.

    ``requirement`` is the requirements.txt line CI installs upsell-rules with (default:
    :func:`install_requirement`).
    """
    fill = {"version": __version__, "as_of": SAMPLE_AS_OF}
    return {
        **_bundled_rulesets(),
        **_bundled_samples(),
        "requirements.txt": _REQUIREMENTS.format(
            requirement=requirement or install_requirement()
        ),
        "schema/ruleset.schema.json": schema_file("ruleset.schema.json").read_text("utf-8"),
        "schema/ruleset_tests.schema.json": schema_file("ruleset_tests.schema.json").read_text(
            "utf-8"
        ),
        "README.md": _README.format(**fill),
        ".github/workflows/rules.yml": _CI.format(**fill),
        ".pre-commit-config.yaml": _PRE_COMMIT,
    }
