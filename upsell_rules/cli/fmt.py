"""``upsell-rules fmt``: rewrite ruleset files in canonical layout, comments kept."""

from __future__ import annotations

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from upsell_rules.cli.loading import print_diagnostics
from upsell_rules.io.sinks import replacing
from upsell_rules.workflow.fmt import FormatError, format_text


def _write(path: str, text: str) -> None:
    """Replace ``path`` atomically, keeping its permissions."""
    with replacing(path) as handle:
        handle.write(text)


@click.command("fmt")
@click.argument("rulesets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; list the files that would change and exit 1 if there are any.",
)
def fmt_command(rulesets: tuple[str, ...], check: bool) -> None:
    """Rewrite RULESET files (and test files) in canonical layout.

    Comments, key order, quoting and flow/block styles are kept; indentation becomes 2
    for mappings and 4 for list items (dash at 2), trailing spaces go, and the file ends
    in one newline. A file is only written when its meaning is unchanged. Exit status:
    0 done (or, with --check, nothing to change), 1 with --check when a file would
    change, 2 when a file is not valid YAML.
    """
    changed: list[str] = []
    broken = 0
    for path in rulesets:
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"upsell-rules: error: {path}: cannot read: {exc}", err=True)
            broken += 1
            continue
        try:
            formatted = format_text(text, path)
        except FormatError as exc:
            print_diagnostics(exc.diagnostics)
            click.echo(f"upsell-rules: error: {exc}", err=True)
            broken += 1
            continue
        if formatted == text:
            continue
        changed.append(path)
        if check:
            click.echo(f"would reformat {path}")
        else:
            _write(path, formatted)
            click.echo(f"reformatted {path}")
    same = len(rulesets) - len(changed) - broken
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{len(changed)} file(s) {verb}, {same} already canonical", err=True)
    if broken:
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if check and changed else EXIT_OK)
