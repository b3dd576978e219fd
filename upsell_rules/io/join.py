"""Joining several ``--data`` inputs by ``account_id``: the report and the merged account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upsell_rules.io.account import Account, make_account
from upsell_rules.safetext import hide_credentials


@dataclass
class JoinReport:
    """How several ``--data`` inputs lined up, joined by ``account_id``.

    ``present`` maps each input to the accounts it has (read or failed); an account
    missing from an input is decided with what the other inputs say about it.
    """

    inputs: list[str]
    present: dict[str, set[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def missing(self, spec: str) -> list[str]:
        """Accounts some other input has and ``spec`` has not, in reading order."""
        have = self.present.get(spec, set())
        return [aid for aid in self.order if aid not in have]

    def inputs_of(self, account_id: str) -> dict[str, list[str]]:
        """Which inputs have the account and which do not (for its decision record)."""
        found = [spec for spec in self.inputs if account_id in self.present.get(spec, ())]
        return {"present": [hide_credentials(s) for s in found],
                "missing": [hide_credentials(s) for s in self.inputs if s not in found]}

    def lines(self, limit: int = 10) -> list[str]:
        """The human-readable report: a summary, then each input that lacks accounts."""
        everywhere = sum(
            1 for aid in self.order if all(aid in self.present[s] for s in self.inputs)
        )
        out = [
            f"joined {len(self.inputs)} inputs by account_id: {len(self.order)} accounts, "
            f"{everywhere} in every input"
        ]
        for spec in self.inputs:
            missing = self.missing(spec)
            if missing:
                shown = ", ".join(missing[:limit])
                more = f" and {len(missing) - limit} more" if len(missing) > limit else ""
                out.append(
                    f"{len(missing)} account(s) missing from {hide_credentials(spec)} "
                    f"(present in another input): {shown}{more}"
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "accounts": len(self.order),
            "inputs": [
                {"input": hide_credentials(spec), "accounts": len(self.present.get(spec, ())),
                 "missing": self.missing(spec)}
                for spec in self.inputs
            ],
        }


def merge_accounts(parts: list[Account]) -> Account:
    """One account from its records in several inputs; later inputs win per field."""
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    for part in parts:
        values.update(part.values)
    first = parts[0]
    return make_account(first.account_id, values, first.location)
