"""The values a ruleset test file writes itself: its ``as_of`` dates, and the fields of
a case's ``overrides:`` and ``account:``, checked as strictly as the ruleset."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from upsell_rules.errors import Diagnostic
from upsell_rules.io.account import Account
from upsell_rules.io.coercion import date_advice
from upsell_rules.ruleset.schema import field_path
from upsell_rules.ruleset.yamlload import Path, YamlDocument

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def as_of_date(doc: YamlDocument, path: Path, errors: list[Diagnostic]) -> date | None:
    """The date at ``path`` (``None`` when absent); a malformed one adds an E306 error."""
    value: Any = doc.data
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = None
    if value is None:
        return None
    text = str(value)
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        errors.append(Diagnostic(doc.locate(path), "E306",
                                 f"{field_path(path)}: {text!r} is not a date "
                                 f"{date_advice(text)}"))
        return None


def written_value_problems(
    doc: YamlDocument, path: Path, case: dict[str, Any], account: Account,
    errors: list[Diagnostic],
) -> None:
    """A value the case writes that the reader leaves out (not a date, out of range...)
    is an error there: from a data file it would be a warning and a missing signal, but
    here the case would silently test something else."""
    found: list[Diagnostic] = []
    for warning in account.warnings:
        section = next((s for s in ("overrides", "account")
                        if warning.field in (case.get(s) or {})), None)
        if section is None:
            continue
        where: Path = (*path, section, warning.field)
        reason = warning.reason
        if reason.startswith("is not a date"):
            reason = f"is not a date {date_advice(warning.value)}"
        found.append(Diagnostic(doc.locate(where), "E305",
                                f"{field_path(where)}: {warning.value!r} {reason}"))
    errors.extend(sorted(found, key=Diagnostic.sort_key))
