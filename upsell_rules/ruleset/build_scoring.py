"""Building a ruleset's scoring and actions: categories and their tiers, bands, gates,
red flags, triggers, owner rules and plays."""

from __future__ import annotations

import itertools
from typing import Any

from upsell_rules.ruleset.build_context import BuildContext
from upsell_rules.ruleset.model import (
    Band,
    Category,
    Gate,
    OwnerRule,
    Play,
    RedFlag,
    Tier,
    Trigger,
)
from upsell_rules.ruleset.templates import parse_template
from upsell_rules.ruleset.type_defaults import default_template, default_text, play_type
from upsell_rules.ruleset.yamlload import Path


class ScoringSections(BuildContext):
    """The scoring, bands, gates, red flags, triggers, owners and plays sections."""

    def build_categories(self) -> tuple[tuple[Category, ...], float]:
        """The scoring categories and the scale; weights must sum to 1 (E120) and the best
        tiers may not score above 100 (E124)."""
        scoring = self.section("scoring", dict)
        categories_raw = scoring.get("categories")
        if not isinstance(categories_raw, dict):
            return (), 10.0
        categories: list[Category] = []
        total = 0.0
        all_numeric = True
        for cname, spec in categories_raw.items():
            if not isinstance(spec, dict):
                continue
            weight = spec.get("weight")
            if isinstance(weight, int | float) and not isinstance(weight, bool) and (
                    0 <= weight <= 1):
                total += float(weight)
            else:
                # Reported once where it is written (E013, E015); no sum over it too.
                all_numeric = False
            categories.append(self.category(cname, spec))
        scale_raw = scoring.get("scale", 10)
        scale = float(scale_raw) if isinstance(scale_raw, int | float) else 10.0
        if categories and all_numeric:
            self.check_weights(categories, total, scale)
        return tuple(categories), scale

    def category(self, cname: str, spec: dict[str, Any]) -> Category:
        """One scoring category with the tiers that built cleanly."""
        tiers: list[Tier] = []
        for index, tier in enumerate(spec.get("tiers") or []):
            if not isinstance(tier, dict):
                continue
            path: Path = ("scoring", "categories", cname, "tiers", index)
            cond = self.condition((*path, "when"))
            score = self.number((*path, "score"), tier.get("score"))
            if cond is not None and score is not None and isinstance(tier.get("id"), str):
                tiers.append(Tier(tier["id"], score, cond))
        weight = spec.get("weight")
        otherwise = spec.get("otherwise", 0)
        return Category(
            cname,
            float(weight) if isinstance(weight, int | float) else 0.0,
            tuple(tiers),
            float(otherwise) if isinstance(otherwise, int | float) else 0.0,
        )

    def check_weights(self, categories: list[Category], total: float, scale: float) -> None:
        """Weights (all numbers) sum to 1, and the best tiers stay within 0-100."""
        if abs(total - 1.0) > 1e-9:
            parts = ", ".join(f"{c.name} {c.weight:g}" for c in categories)
            self.add(
                ("scoring", "categories"),
                "E120",
                f"scoring.categories: weights must sum to 1, they sum to {total:g} ({parts})",
                key=True,
            )
            return
        highest = sum(
            max([c.otherwise, *(t.score for t in c.tiers)]) * c.weight for c in categories
        )
        if highest * scale > 100 + 1e-9:
            self.add(
                ("scoring", "categories"),
                "E124",
                f"scoring.categories: the best tiers give {highest * scale:g} points, above "
                "the 0-100 scale (lower a tier score, a weight or scoring.scale)",
                key=True,
            )

    def build_bands(self, plays: dict[str, Any]) -> tuple[Band, ...]:
        """The score bands, highest first; together they must cover 0-100 once (E121)."""
        bands: list[tuple[Band, int]] = []
        unreadable = False
        for index, spec in enumerate(self.section("bands", list)):
            if not isinstance(spec, dict):
                continue
            lo, hi = spec.get("min"), spec.get("max")
            if not isinstance(lo, int | float) or not isinstance(hi, int | float):
                unreadable = True
                continue
            if not isinstance(spec.get("id"), str):
                continue
            self.check_ref(("bands", index, "play"), spec.get("play"), plays, "E131", "play")
            band = Band(
                id=spec["id"],
                title=str(spec.get("title") or spec["id"].replace("_", " ").capitalize()),
                min=float(lo),
                max=float(hi),
                play=str(spec.get("play", "")),
                outreach=bool(spec.get("outreach", False)),
            )
            if band.min >= band.max:
                self.add(
                    ("bands", index, "max"),
                    "E121",
                    f"bands[{index}] ({band.id}): max {band.max:g} must be above min {band.min:g}",
                )
            bands.append((band, index))
        if not unreadable:
            # With a limit that is not a number (reported by the schema), every gap it
            # leaves would be a second error for the same mistake.
            self.check_coverage(sorted(bands, key=lambda pair: pair[0].min))
        return tuple(sorted((b for b, _ in bands), key=lambda b: -b.min))

    def check_coverage(self, ordered: list[tuple[Band, int]]) -> None:
        """Bands (lowest first, with their index) leave no gap and do not overlap."""
        if not ordered:
            return
        first, first_index = ordered[0]
        if first.min > 0:
            self.add(
                ("bands", first_index, "min"),
                "E121",
                f"bands: scores from 0 to {first.min:g} fall in no band",
            )
        last, last_index = ordered[-1]
        if last.max < 100:
            self.add(
                ("bands", last_index, "max"),
                "E121",
                f"bands: scores from {last.max:g} to 100 fall in no band",
            )
        for (low, _), (high, high_index) in itertools.pairwise(ordered):
            if high.min > low.max:
                self.add(
                    ("bands", high_index, "min"),
                    "E121",
                    f"bands: gap between {low.id} (max {low.max:g}) and {high.id} "
                    f"(min {high.min:g}): scores in between fall in no band",
                )
            elif high.min < low.max:
                self.add(
                    ("bands", high_index, "min"),
                    "E121",
                    f"bands: {high.id} (min {high.min:g}) overlaps {low.id} "
                    f"(max {low.max:g}); a band's max is the next band's min",
                )

    def build_gates(self, plays: dict[str, Any]) -> tuple[Gate, ...]:
        """The gates that built cleanly (each names a known play)."""
        gates: list[Gate] = []
        for index, spec in enumerate(self.section("gates", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("gates", index)
            self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            cond = self.condition((*path, "require"))
            if cond is not None and isinstance(spec.get("id"), str):
                gates.append(
                    Gate(spec["id"], str(spec.get("severity")), cond, str(spec.get("play")))
                )
        return tuple(gates)


    def build_red_flags(self, plays: dict[str, Any]) -> tuple[RedFlag, ...]:
        """The red flags that built cleanly."""
        flags: list[RedFlag] = []
        for index, spec in enumerate(self.section("red_flags", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("red_flags", index)
            if "play" in spec:
                self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            cond = self.condition((*path, "when"))
            cap = self.number((*path, "cap"), spec["cap"]) if "cap" in spec else None
            if cond is not None and isinstance(spec.get("id"), str):
                flags.append(
                    RedFlag(
                        spec["id"],
                        cond,
                        str(spec.get("effect")),
                        spec.get("play") if isinstance(spec.get("play"), str) else None,
                        cap,
                    )
                )
        return tuple(flags)


    def build_triggers(self, plays: dict[str, Any]) -> tuple[Trigger, ...]:
        """The triggers that built cleanly (known play and upsell type)."""
        triggers: list[Trigger] = []
        for index, spec in enumerate(self.section("triggers", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("triggers", index)
            self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            self.check_ref(
                (*path, "upsell_type"),
                spec.get("upsell_type"),
                self.registry.upsell_types,
                "E130",
                "upsell type",
            )
            cond = self.condition((*path, "when"))
            evidence = self.template((*path, "evidence")) if "evidence" in spec else None
            if cond is not None and isinstance(spec.get("id"), str):
                triggers.append(
                    Trigger(
                        spec["id"],
                        str(spec.get("upsell_type")),
                        cond,
                        str(spec.get("play")),
                        evidence,
                    )
                )
        return tuple(triggers)


    def build_owners(self) -> dict[str, tuple[OwnerRule, ...]]:
        """Each owner rule set's rules, in order."""
        owners: dict[str, tuple[OwnerRule, ...]] = {}
        for name, rules in self.section("owners", dict).items():
            built: list[OwnerRule] = []
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                if not isinstance(rule, dict) or not isinstance(rule.get("role"), str):
                    continue
                cond = None
                if "when" in rule:
                    cond = self.condition(("owners", name, index, "when"))
                built.append(OwnerRule(rule["role"], cond))
            owners[name] = tuple(built)
        return owners


    def build_plays(self, owners: dict[str, Any]) -> dict[str, Play]:
        """Every play; keys it leaves out come from its upsell type's defaults."""
        plays: dict[str, Play] = {}
        default_owner = next(iter(owners), "")
        for name, spec in self.section("plays", dict).items():
            if not isinstance(spec, dict):
                continue
            path: Path = ("plays", name)
            # Keys the play leaves out come from the upsell type it names, if any.
            kind = play_type(self, path, spec)
            owner = spec.get("owner", default_text(kind, "owner") or default_owner)
            if "owner" in spec:
                self.check_ref((*path, "owner"), owner, owners, "E132", "owner rule set")
            elif kind is not None and kind.default_owner and owner not in owners:
                self.add((*path, "upsell_type"), "E132",
                         f"plays.{name}: upsell type '{kind.name}' gives the owner rule set "
                         f"'{owner}', which this ruleset has not; write owner: in the play")
            if "window" in spec:
                window = self.template((*path, "window"))
            elif kind is not None and default_text(kind, "window"):
                window = default_template(self, path, kind, "window")
            else:
                window = None
                if kind is not None or "upsell_type" not in spec:
                    self.add(path, "E010", f"plays.{name}: missing required key 'window'"
                             + (f" (upsell type '{kind.name}' gives no default window)"
                                if kind is not None else ""))
            if "message" in spec:
                message = self.template((*path, "message"))
            else:
                message = default_template(self, path, kind, "message") if kind else None
            plays[name] = Play(
                name,
                str(spec.get("title", name)),
                window or parse_template(""),
                str(owner),
                message,
                str(spec.get("frame", "")),
            )
        return plays

