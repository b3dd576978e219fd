"""What a ruleset test case expects of a decision, compared with the decision made:
band, blocked, score (within :data:`SCORE_TOLERANCE`), the triggers, gates and red flags
that fired, the play, the owner..."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

#: Scores are rounded to two decimals; closer than this counts as equal.
SCORE_TOLERANCE = 0.005


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _ids(values: Iterable[str]) -> str:
    items = list(values)
    return ", ".join(items) if items else "none"


def _score_matches(expected: Any, actual: float) -> bool:
    if isinstance(expected, dict):
        low, high = expected.get("min"), expected.get("max")
        return (low is None or actual >= low - SCORE_TOLERANCE) and (
            high is None or actual <= high + SCORE_TOLERANCE
        )
    return abs(float(expected) - actual) < SCORE_TOLERANCE


def _score_text(expected: Any) -> str:
    if not isinstance(expected, dict):
        return _num(expected)
    low, high = expected.get("min"), expected.get("max")
    if low is not None and high is not None:
        return f"{_num(low)} to {_num(high)}"
    if low is not None:
        return f"at least {_num(low)}"
    return f"at most {_num(high)}"


#: (sub-key, whether the id must be in the actual list, wording of the miss).
_FIRED_WORDS: dict[str, tuple[bool, str, str]] = {
    "fired": (True, "to fire", "did not"),
    "not_fired": (False, "not to fire", "did"),
    "failed": (True, "to fail", "passed"),
    "passed": (False, "to pass", "failed"),
}


def _fired_check(
    key: str, spec: dict[str, Any], actual: list[str]
) -> Iterator[tuple[str, Any, Any, str]]:
    """Checks for ``{fired: [...], not_fired: [...]}`` (and ``failed`` / ``passed``)."""
    present = set(actual)
    label = "failed" if key == "gates" else "fired"
    for sub, expected in spec.items():
        must_be_in, wanted, happened = _FIRED_WORDS[sub]
        wrong = [i for i in expected if (i in present) != must_be_in]
        if wrong:
            subject = "it" if len(wrong) == 1 else "they"
            yield (
                f"{key}.{sub}",
                expected,
                actual,
                f"{key}.{sub}: expected {_ids(wrong)} {wanted}, but {subject} {happened} "
                f"({label}: {_ids(actual)})",
            )


def truth(value: Any) -> bool:
    """A test file's yes/no: true/false, and yes/no/y/n as the data files accept them."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "y", "t", "1", "on")
    return bool(value)


def compare(expect: dict[str, Any], decision: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """Compare expectations with a decision: ``(key, expected, actual, message)`` per miss."""
    out: list[tuple[str, Any, Any, str]] = []
    action = decision.get("action", {})
    for key in ("band", "play", "owner"):
        if key in expect:
            actual = decision["band"] if key == "band" else action.get(key)
            if expect[key] != actual:
                out.append((key, expect[key], actual,
                            f"{key}: expected {expect[key]}, got {actual}"))
    if "blocked" in expect and truth(expect["blocked"]) != decision["blocked"]:
        words = {True: "blocked", False: "not blocked"}
        out.append(("blocked", expect["blocked"], decision["blocked"],
                    f"blocked: expected {words[truth(expect['blocked'])]}, "
                    f"got {words[decision['blocked']]}"))
    for key in ("score", "raw_score"):
        if key in expect and not _score_matches(expect[key], decision[key]):
            out.append((key, expect[key], decision[key],
                        f"{key}: expected {_score_text(expect[key])}, got {_num(decision[key])}"))
    if "capped_at" in expect:
        want, got = expect["capped_at"], decision["capped_at"]
        same = (want is None and got is None) or (
            want is not None and got is not None and abs(want - got) < SCORE_TOLERANCE
        )
        if not same:
            out.append(("capped_at", want, got,
                        f"capped_at: expected {'no cap' if want is None else _num(want)}, "
                        f"got {'no cap' if got is None else _num(got)}"))
    for name, want in (expect.get("category_scores") or {}).items():
        got = decision["category_scores"].get(name)
        if got is None or abs(float(want) - got) >= SCORE_TOLERANCE:
            out.append((f"category_scores.{name}", want, got,
                        f"category_scores.{name}: expected {_num(want)}, got {_num(got)}"))
    fired_triggers = [t["id"] for t in decision["triggers"]]
    fired_flags = [f["id"] for f in decision["red_flags"]]
    failed_gates = [g["id"] for g in decision["gates"] if not g["passed"]]
    if "triggers" in expect:
        out += _fired_check("triggers", expect["triggers"], fired_triggers)
    if "red_flags" in expect:
        out += _fired_check("red_flags", expect["red_flags"], fired_flags)
    if "gates" in expect:
        out += _fired_check("gates", expect["gates"], failed_gates)
    for key, actual_list in (
        ("upsell_types", decision["upsell_types"]),
        ("prepare", action.get("prepare", [])),
    ):
        if key in expect and sorted(expect[key]) != sorted(actual_list):
            out.append((key, expect[key], actual_list,
                        f"{key}: expected [{', '.join(expect[key])}], "
                        f"got [{', '.join(actual_list)}]"))
    return out


def summary_of(decision: dict[str, Any]) -> str:
    """One line saying what the decision actually was (printed under a failure)."""
    cats = ", ".join(f"{k} {_num(v)}" for k, v in decision["category_scores"].items())
    score = _num(decision["score"])
    if decision["capped_at"] is not None:
        score += f" (capped from {_num(decision['raw_score'])})"
    failed = [g["id"] for g in decision["gates"] if not g["passed"]]
    parts = [
        f"score {score} ({cats})",
        f"band {decision['band']}",
        "blocked" if decision["blocked"] else "not blocked",
        f"play {decision['action']['play']} ({decision['action']['owner']})",
        f"triggers: {_ids(t['id'] for t in decision['triggers'])}",
        f"failed gates: {_ids(failed)}",
        f"red flags: {_ids(f['id'] for f in decision['red_flags'])}",
    ]
    return "; ".join(parts)
