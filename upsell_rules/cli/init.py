"""``upsell-rules init``: start a rules repository (ruleset, tests, samples, CI, pre-commit)."""

from __future__ import annotations

import os
import shlex

import click

from upsell_rules.cli.exits import EXIT_OK, usage_error
from upsell_rules.io.inside import outside_through_link
from upsell_rules.ruleset.bundled import BundledFileMissing
from upsell_rules.workflow.scaffold import scaffold_files


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--install-from", "requirement", default=None, metavar="REQUIREMENT",
    help="The requirements.txt line CI installs upsell-rules with (a version pin, a git "
    "URL, a wheel path). Default: the source this copy was installed from when it is a "
    "public URL, else upsell-rules==VERSION.",
)
@click.option("--force", is_flag=True, help="Write into DIRECTORY even if it is not empty "
              "(files of the same name are replaced; nothing else is touched).")
def init_command(directory: str, requirement: str | None, force: bool) -> None:
    """Create a rules repository in DIRECTORY, ready for git, CI and review.

    Writes every bundled ruleset (upsell_timing is the starter) with its test file, the
    bundled samples, the JSON Schemas editors use for completion, a README for the RevOps
    team, a requirements.txt saying where upsell-rules is installed from, a CI workflow
    (.github/workflows/rules.yml: validate, test, layout check, and a diff on pull
    requests) and a .pre-commit-config.yaml. DIRECTORY must be empty or new, unless
    --force.
    """
    if os.path.isdir(directory) and os.listdir(directory) and not force:
        usage_error(f"{directory} is not empty; choose a new folder or "
                    "pass --force")
    try:
        files = scaffold_files(requirement)
    except BundledFileMissing as exc:
        usage_error(str(exc))
    refused = outside_through_link(directory, list(files))
    if refused is not None:
        usage_error(f"{directory}: {refused}")
    for relative, text in files.items():
        target = os.path.join(directory, *relative.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        click.echo(f"  created {target}")
    # Initialised in the current folder, there is nowhere to go first.
    here = os.path.abspath(directory) == os.path.abspath(os.curdir)
    go = "" if here else f"\n  cd {shlex.quote(directory)}"
    click.echo(f"""
Next steps:{go}
  git init -b main && git add . && git commit -m "Upsell rules"
  upsell-rules validate rulesets/*.yaml
  upsell-rules test""")
    pin = files["requirements.txt"].strip().splitlines()[-1]
    click.echo(f"\nCI installs {pin} (requirements.txt); change it if that is not where "
               "your team gets upsell-rules.")
    raise SystemExit(EXIT_OK)
