"""Shadow rulesets: a candidate decided beside production, logged, never delivered, and
compared with production over the logged period (``shadow-report``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from upsell_rules.state import schema as t
from upsell_rules.state.store import StateStore

#: Outcomes that count as a success / a failure when judging which ruleset did better.
GOOD = frozenset({"won", "closed_won"})
BAD = frozenset({"closed_lost", "lost", "not_now", "churned"})


@dataclass
class ShadowReport:
    """Production against one candidate over the runs that logged both."""

    candidate: str
    runs: int = 0
    decisions: int = 0
    agreed: int = 0
    #: account -> (production first act-now date or None, candidate's)
    earlier: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    later: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    period: tuple[str, str] | None = None
    #: Account-days the candidate could not decide (left out of the agreement).
    failed: int = 0
    #: account -> (as-of date, location, message) of its latest failure
    failures: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    @property
    def agreement(self) -> float:
        """Share of account-days where band, blocked state and play agreed."""
        return self.agreed / self.decisions if self.decisions else 1.0

    def to_dict(self) -> dict[str, Any]:
        """The report as data (``--format json``)."""
        return {
            "candidate": self.candidate, "runs": self.runs, "period": self.period,
            "decisions": self.decisions, "agreed": self.agreed,
            "agreement": round(self.agreement, 4),
            "candidate_earlier": {k: {"production": p, "candidate": c}
                                  for k, (p, c) in sorted(self.earlier.items())},
            "candidate_later": {k: {"production": p, "candidate": c}
                                for k, (p, c) in sorted(self.later.items())},
            "outcomes": self.outcomes,
            "failed": self.failed,
            "failures": {k: {"as_of": d, "location": w, "message": m}
                         for k, (d, w, m) in sorted(self.failures.items())},
        }


def _rows(store: StateStore, run_ids: Sequence[int]) -> dict[int, dict[str, tuple[Any, ...]]]:
    d = t.decisions
    out: dict[int, dict[str, tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for run_id, account, band, blocked, play in conn.execute(
            select(d.c.run_id, d.c.account_id, d.c.band, d.c.blocked, d.c.play)
            .where(d.c.run_id.in_(list(run_ids)))
        ):
            out.setdefault(run_id, {})[account] = (band, bool(blocked), play)
    return out


def _failures(store: StateStore, run_ids: Sequence[int]) -> dict[int, list[tuple[str, ...]]]:
    f = t.failures
    out: dict[int, list[tuple[str, ...]]] = {}
    with store.engine.connect() as conn:
        for run_id, account, where, message in conn.execute(
            select(f.c.run_id, f.c.account_id, f.c.location, f.c.message)
            .where(f.c.run_id.in_(list(run_ids))).order_by(f.c.run_id, f.c.seq)
        ):
            out.setdefault(run_id, []).append((account, where, message))
    return out


def shadow_reports(store: StateStore, outreach_bands: frozenset[str] = frozenset({"act_now"}),
                   since: str | None = None, until: str | None = None) -> list[ShadowReport]:
    """One report per candidate (by ruleset name and sha256) over the logged runs."""
    r = t.runs
    with store.engine.connect() as conn:
        shadows = conn.execute(
            select(r.c.run_id, r.c.shadow_of, r.c.as_of, r.c.ruleset_name, r.c.ruleset_version,
                   r.c.ruleset_sha256).where(r.c.role == "shadow").order_by(r.c.as_of, r.c.run_id)
        ).all()
        feedback = conn.execute(select(t.feedback.c.account_id, t.feedback.c.outcome)).all()
    # A day run again counts once, as its last run: the report is of account-days.
    last_of_day = {(s[3], s[5], s[2]): s for s in shadows if (since is None or s[2] >= since)
                   and (until is None or s[2] <= until)}
    shadows = sorted(last_of_day.values(), key=lambda s: (s[2], s[0]))
    rows = _rows(store, [s[0] for s in shadows] + [s[1] for s in shadows])
    failed = _failures(store, [s[0] for s in shadows])
    reports: dict[str, ShadowReport] = {}
    first: dict[str, dict[str, dict[str, str]]] = {}
    for run_id, prod_id, as_of, name, version, sha in shadows:
        label = f"{name} {version} ({sha[:12]})"
        report = reports.setdefault(label, ShadowReport(label))
        firsts = first.setdefault(label, {"production": {}, "candidate": {}})
        report.runs += 1
        report.period = (report.period[0] if report.period else as_of, as_of)
        prod, cand = rows.get(prod_id, {}), rows.get(run_id, {})
        for account, where, message in failed.get(run_id, ()):
            report.failed += 1
            report.failures[account] = (as_of, where, message)
        for account, mine in cand.items():
            theirs = prod.get(account)
            if theirs is None:
                continue
            report.decisions += 1
            report.agreed += mine == theirs
            for side, state in (("production", theirs), ("candidate", mine)):
                if state[0] in outreach_bands and not state[1]:
                    firsts[side].setdefault(account, as_of)
    outcomes: dict[str, set[str]] = {}
    for account, outcome in feedback:
        outcomes.setdefault(outcome, set()).add(account)
    for label, report in reports.items():
        prod_first, cand_first = first[label]["production"], first[label]["candidate"]
        for account in sorted(set(prod_first) | set(cand_first)):
            p, c = prod_first.get(account), cand_first.get(account)
            if c is not None and (p is None or c < p):
                report.earlier[account] = (p, c)
            elif p is not None and (c is None or p < c):
                report.later[account] = (p, c)
        report.outcomes = _judge(prod_first, cand_first, outcomes)
    return list(reports.values())


def _judge(prod: dict[str, str], cand: dict[str, str],
           outcomes: dict[str, set[str]]) -> dict[str, Any]:
    won = set().union(*(v for k, v in outcomes.items() if k in GOOD)) if outcomes else set()
    lost = set().union(*(v for k, v in outcomes.items() if k in BAD)) if outcomes else set()
    if not won and not lost:
        return {}
    won_p, won_c = len(won & set(prod)), len(won & set(cand))
    lost_p, lost_c = len(lost & set(prod)), len(lost & set(cand))
    result: dict[str, Any] = {
        "won_flagged": {"production": won_p, "candidate": won_c},
        "lost_flagged": {"production": lost_p, "candidate": lost_c},
        "won": len(won), "lost": len(lost),
    }
    gain_p, gain_c = won_p - lost_p, won_c - lost_c
    result["better"] = "candidate" if gain_c > gain_p else "production" if gain_p > gain_c \
        else "tie"
    return result
