"""Data contract v1: the fields an account record may carry, their types and meaning.

The one list of the contract: the ``files`` plugin registers these fields, the sample
generators write them in this order.
"""

from __future__ import annotations

import re

from upsell_rules.plugin.types import FieldSpec
from upsell_rules.safetext import printable

#: An account id that is a report's totals label ("Grand Totals (8 records)", "Total",
#: "Subtotal:"): a spreadsheet or CRM report row summing the accounts above it, never an
#: account. Written for both Python's re and DuckDB's RE2, which read it alike.
TOTALS_ROW_ID = r"(?i)(grand +)?(sub)?totals?( *\(.*\))? *:?"

#: Characters no account id holds: control characters (NUL, ESC, line breaks, tabs, C1),
#: line and paragraph separators, bidirectional marks and overrides. An id with one inside
#: is a broken export (or a hostile one), so its record fails.
_ID_CONTROL_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0x61C, 0x61C), (0x200E, 0x200F),
                      (0x2028, 0x202E), (0x2066, 0x2069))
#: The same as a Python pattern and as a DuckDB (RE2) one.
ID_CONTROL = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _ID_CONTROL_RANGES)
                        + "]")
ID_CONTROL_RE2 = "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _ID_CONTROL_RANGES) + "]"


def id_control_problem(account_id: str) -> str | None:
    """Why ``account_id`` cannot be an id (a control character inside), or ``None``."""
    if account_id.isprintable():
        return None
    found = ID_CONTROL.search(account_id)
    if found is None:
        return None
    shown = printable(account_id)
    return (f"'{shown}' holds a control character (U+{ord(found.group()):04X}): "
            "a broken export? An id is one line of printable text")


CONTRACT_V1: tuple[FieldSpec, ...] = (
    FieldSpec("account_id", "string", "Unique identifier of the account (required)."),
    FieldSpec("account_name", "string", "Display name of the account."),
    FieldSpec("plan", "string", "The plan or tier the account is on today."),
    FieldSpec("owner", "string", "The CSM or AE who owns the account."),
    FieldSpec("arr", "number", "Annual recurring revenue; routes larger deals to CSM + AE."),
    FieldSpec("customer_since", "date", "When the relationship started (onboarding window)."),
    FieldSpec("seats_licensed", "integer", "Seats the contract pays for."),
    FieldSpec(
        "seats_active_history",
        "integer_list",
        "Active seats per billing cycle, oldest first; the last one is the current cycle.",
    ),
    FieldSpec(
        "usage_limit", "number", "The plan's metered limit per cycle (API calls, records...)."
    ),
    FieldSpec(
        "usage_history",
        "number_list",
        "Metered usage per billing cycle, oldest first; the last one is the current cycle.",
    ),
    FieldSpec(
        "gated_feature_attempts",
        "date_list",
        "Dates on which someone tried to use a feature the current plan does not include.",
    ),
    FieldSpec("departments_active", "integer", "Departments or teams using the product now."),
    FieldSpec("departments_at_purchase", "integer", "Departments or teams using it at purchase."),
    FieldSpec("power_users", "integer", "Users far above the account's average depth of use."),
    FieldSpec("health_score", "number", "Customer health score, 0 to 100."),
    FieldSpec(
        "success_milestone_on", "date", "When a success milestone was documented (empty: none)."
    ),
    FieldSpec(
        "champion_last_engaged_on", "date", "Last substantive conversation with the champion."
    ),
    FieldSpec("champion_changed_on", "date", "When the champion or an executive sponsor changed."),
    FieldSpec("renewal_date", "date", "Next contract renewal."),
    FieldSpec("last_renewal_date", "date", "Most recent contract renewal."),
    FieldSpec("funding_announced_on", "date", "When the customer last announced a funding round."),
    FieldSpec(
        "headcount_growth_90d",
        "number",
        "Headcount growth over 90 days as a fraction (0.25 = +25%).",
    ),
    FieldSpec(
        "open_ticket_priorities",
        "string_list",
        "Priorities of the account's open support tickets, e.g. P1|P3.",
    ),
    FieldSpec("nps_score", "integer", "Score of the latest NPS response, 0 to 10."),
    FieldSpec("nps_responded_on", "date", "When the latest NPS response came in."),
    FieldSpec(
        "competitor_evaluation", "boolean", "The account is actively evaluating a competitor."
    ),
    FieldSpec("downgrade_requested_on", "date", "Latest downgrade request or save offer."),
    FieldSpec("named_gaps", "string_list", "Add-on modules the customer has asked for."),
    FieldSpec("named_gaps_on", "date", "When the most recent gap was named."),
    FieldSpec(
        "engagement_trend", "string", "Engagement direction; 'declining' marks an at-risk account."
    ),
)

#: The field names, in contract order (the CSV header and the JSON key order).
CONTRACT_FIELDS: tuple[str, ...] = tuple(spec.name for spec in CONTRACT_V1)
