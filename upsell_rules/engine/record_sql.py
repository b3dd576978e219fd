"""Whole decision records as JSON text, written by DuckDB: the columnar path's output.

:func:`record_chain` extends the compiled query (inputs, derived signals, one boolean per
condition, then scores, band, play and owner: ``sql/query.py``) with every signal under a
name no decision column can take. :func:`record_query` then adds, over that chain, the
text the Python engine renders per account (evidence, window, message, the narrative)
and the JSON line of the record, key for key and byte for byte what
``Evaluator.assemble`` followed by ``dumps_compact`` writes.

What follows from the outcomes alone is copied from :class:`~upsell_rules.engine.outline.
Outliner` step by step (category scores, gates, red flags, triggers, the play's framing
and preparatory plays, the opening sentence); fixed values (ids, titles, tier scores,
caps) are written as JSON text here, by Python's own ``json``, so their spelling cannot
differ. A line is NULL where DuckDB cannot guarantee the same text (a value outside the
range the text functions are exact for, a message over the render limit): the caller
renders that one account the Python way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.engine.outline import ConditionLayout, blocking_step
from upsell_rules.engine.record_pieces import (
    any_of,
    by_value,
    case_sql,
    constant_text,
    joined,
    json_after,
    json_head,
    json_literal,
    keyed,
    lookup,
    number_of,
)
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Play, Ruleset
from upsell_rules.ruleset.templates import Template
from upsell_rules.sql.errors import NotCompilable
from upsell_rules.sql.input_checks import quote_text as quote_literal
from upsell_rules.sql.query import add_decision, values_chain
from upsell_rules.sql.text_sql import (
    Column,
    Constant,
    Placeholder,
    float_json_sql,
    json_string_sql,
    score_text_sql,
    template_sql,
)
from upsell_rules.sql.values import col

#: The account's own columns in the chain (the reader's identity fields and the plan).
IDENTITY = {"account_id": "_id", "account_name": "_name", "owner": "_owner", "plan": "_plan"}


@dataclass(frozen=True)
class RecordChain:
    """The compiled decision over a table, every signal kept as a column.

    ``columns`` maps each input field and derived signal to its column in ``sql``;
    :func:`record_query` asks DuckDB for their types before it writes text from them.
    """

    sql: str
    columns: dict[str, str]


def record_chain(ruleset: Ruleset, registry: Registry, conditions: Sequence[Any],
                 as_of: date, table: str, inputs: Mapping[str, str]) -> RecordChain:
    """The decision of every row of ``table`` (the typed ``inputs``), in its order.

    Raises :class:`NotCompilable` naming what has no SQL form.
    """
    chain, derived, lists = values_chain(ruleset, registry, conditions, as_of, table, inputs)
    names = [*inputs, *(n for n in [*derived, *lists] if n not in inputs)]
    columns = {name: f"_s{index}" for index, name in enumerate(names)}
    kept = [*(col(name).as_(alias, quoted=True) for name, alias in columns.items()),
            *(col(field).as_(alias, quoted=True) for field, alias in IDENTITY.items()
              if field in inputs),
            *(col(f"_c{index}") for index in range(len(conditions)))]
    chain.add("kept", kept, star=False)
    add_decision(chain, ruleset)
    return RecordChain(chain.query().sql(dialect="duckdb", copy=False), columns)


class _RecordText:
    """Writes the SQL of one ruleset's record, layer by layer (see :func:`record_query`)."""

    def __init__(self, ruleset: Ruleset, registry: Registry, layout: ConditionLayout,
                 chain: RecordChain, types: Mapping[str, str], inputs_used: Sequence[str],
                 as_of: date) -> None:
        self.rs = ruleset
        self.registry = registry
        self.layout = layout
        self.chain = chain
        self.types = types
        self.inputs_used = inputs_used
        self.as_of = as_of
        self.hard_gates = {g.id for g in ruleset.gates if g.severity == "hard"}

    # --- values the templates read -----------------------------------------------------

    def band_title(self) -> str:
        return lookup("_bn", [quote_literal(b.title) for b in self.rs.bands])

    def value_of(self, name: str) -> Placeholder:
        """What a template placeholder reads, as ``Evaluator.assemble`` fills ``values``."""
        if name == "account_id":
            return Column("_id", "VARCHAR")
        if name == "account_name":
            return Column("CASE WHEN coalesce(_name, '') = '' THEN _id ELSE _name END",
                          "VARCHAR")
        if name == "owner":
            return Column("coalesce(_owner, '')", "VARCHAR")
        if name == "score":
            return Column("score", "DOUBLE")
        if name == "band":
            return Column(self.band_title(), "VARCHAR")
        if name in ("as_of", "_as_of"):
            return Constant(self.as_of)
        alias = self.chain.columns.get(name)
        if alias is not None:
            if name in self.rs.constants:
                raise NotCompilable(f"'{name}' is both a constant and a signal")
            return Column(f'"{alias}"', self.types[alias])
        if name in self.rs.constants:
            return Constant(self.rs.constants[name])
        return None

    def render(self, template: Template) -> str:
        return template_sql(template, self.value_of)

    # --- per-play and per-trigger text -------------------------------------------------

    def fired(self, position: int) -> str:
        return f'"_c{position}"'

    def evidence(self, index: int) -> str:
        slot = self.layout.triggers[index]
        trigger = slot.trigger
        if trigger.evidence is not None:
            text = self.render(trigger.evidence)
        else:
            kind = self.registry.upsell_types.get(trigger.upsell_type)
            if kind is not None and kind.describe is not None:
                provider = self.registry.provider("upsell type", trigger.upsell_type)
                raise NotCompilable(
                    f"trigger '{trigger.id}' has no evidence template and upsell type "
                    f"'{trigger.upsell_type}' (plugin '{provider}') describes it in Python")
            text = "''"
        return f"CASE WHEN {self.fired(slot.position)} THEN {text} END"

    def by_play(self, pick: Callable[[Play], str | None]) -> str:
        """The value ``pick`` gives for the row's play (NULL where it gives ``None``)."""
        return lookup("_pn", [pick(play) for play in self.rs.plays.values()])

    def numbers(self) -> list[str]:
        """Layer zero: the position of the row's play and band among the ruleset's."""
        return [f"{number_of('play', list(self.rs.plays))} AS _pn",
                f"{number_of('band', [b.id for b in self.rs.bands])} AS _bn"]

    def has_message(self) -> str | None:
        """The condition that the chosen play has a message (``None``: no play has)."""
        plays = [p for p, play in self.rs.plays.items() if play.message is not None]
        return f"play IN ({', '.join(quote_literal(p) for p in plays)})" if plays else None

    def steps(self) -> list[tuple[str, str]]:
        """(condition, play) of each preparatory play in the record's order."""
        candidates: list[tuple[str, str]] = []
        for slot in self.layout.flags:
            flag = slot.flag
            if flag.effect == "prepare" and flag.play:
                candidates.append((self.fired(slot.position), flag.play))
        for gate in self.layout.gates:
            if not gate.hard:
                candidates.append((f"NOT {self.fired(gate.position)}", gate.play))
        outreach = [b.id for b in self.rs.bands if b.outreach]
        if not outreach:
            return []
        active = (f"NOT blocked AND band IN "
                  f"({', '.join(quote_literal(b) for b in outreach)})")
        out = []
        for index, (cond, play) in enumerate(candidates):
            earlier = [c for c, p in candidates[:index] if p == play]
            repeat = f" AND NOT {any_of(earlier)}" if earlier else ""
            out.append((f"({active} AND {cond} AND play <> {quote_literal(play)}{repeat})", play))
        return out

    def opening(self) -> str:
        shown = f"{score_text_sql('score')} || '/100'"
        # The flag whose cap holds: the first that fired with the lowest cap, as in Python.
        capping = [f'WHEN {self.fired(s.position)} AND "_cap" = {float(s.flag.cap)!r} '
                   f"THEN {quote_literal(s.flag.id)}" for s in self.layout.flags
                   if s.flag.effect == "cap" and s.flag.cap is not None]
        if capping:
            shown += (f" || CASE WHEN raw_score > score THEN ', capped from ' || "
                      f"{score_text_sql('raw_score')} || ' by ' || "
                      f"CASE {' '.join(capping)} END ELSE '' END")
        reasons = [(self.fired(s.position), quote_literal(s.flag.id)) for s in self.layout.flags
                   if s.flag.effect == "block"]
        hard = self.hard_gates
        reasons += [(f"NOT {self.fired(g.position)}", quote_literal(g.id))
                    for g in self.layout.gates if g.id in hard]
        title = self.by_play(lambda p: quote_literal(blocking_step(p.title)))
        band = self.band_title()
        return (f"CASE WHEN blocked THEN 'Blocked by ' || {joined(', ', reasons)} || "
                f"': ' || {title} || ' (timing score ' || {shown} || ', ' || {band} || "
                f"' band).' ELSE {band} || ' at ' || {shown} || '.' END")

    def frame_piece(self) -> str:
        """``,"frame":...`` of the action, or '' when the frame is empty."""
        def piece(frame: str) -> str:
            text = f',"frame":{json.dumps(frame, ensure_ascii=False)}' if frame else ""
            return quote_literal(text)

        by_trigger = []
        for slot in self.layout.triggers:
            kind = self.registry.upsell_types.get(slot.trigger.upsell_type)
            by_trigger.append((slot.trigger.id, piece(kind.frame if kind is not None else "")))
        framed = [piece(play.frame) if play.frame else None for play in self.rs.plays.values()]
        # A play without a frame of its own takes the fired trigger's kind's frame when it
        # is the trigger's play: the row's two columns compared, not one WHEN a play.
        chosen = "NOT blocked AND trigger IS NOT NULL AND _trigger_play = play"
        fixed = [value or "''" for value in framed]
        if all(value is not None for value in framed):
            return lookup("_pn", fixed)
        own = ", ".join(str(number) for number, value in enumerate(framed, start=1)
                        if value is not None)
        return case_sql([(f"_pn IN ({own})" if own else "FALSE", lookup("_pn", fixed)),
                      (chosen, by_value("trigger", by_trigger, "''"))], "''")

    # --- the layers ----------------------------------------------------------------------

    def texts(self) -> list[str]:
        """Layer one: the raw text pieces, each NULL where it could not be made exactly."""
        steps = self.steps()
        titles = [(cond, quote_literal(self.rs.plays[play].title)) for cond, play in steps]
        return [
            *(f"{self.evidence(i)} AS _ev{i}" for i in range(len(self.layout.triggers))),
            f"{self.by_play(lambda p: self.render(p.window))} AS _win",
            f"{self.by_play(lambda p: None if p.message is None else self.render(p.message))}"
            " AS _msg",
            f"{self.opening()} AS _open",
            f"{joined(',', [(c, json_literal(p)) for c, p in steps])} AS _steps",
            f"{joined('; ', titles)} AS _step_titles",
            f"{self.frame_piece()} AS _frame",
        ]

    def shown(self) -> str:
        """The non-empty evidence of the fired triggers, ``; ``-joined."""
        count = len(self.layout.triggers)
        return joined("; ", [(f"_ev{i} <> ''", f"_ev{i}") for i in range(count)])

    def narrative(self) -> str:
        message = self.has_message()
        message_part = f"CASE WHEN {message} THEN _msg END" if message else "NULL"
        return ("concat_ws(' ', _open, CASE WHEN _shown <> '' THEN concat('Signals: ', _shown, "
                "'.') END, CASE WHEN _steps <> '' THEN concat('Before outreach: ', "
                f"_step_titles, '.') END, {message_part})")

    def encoded(self) -> list[str]:
        """Layer two: the JSON text of each value the line holds as it is."""
        count = len(self.layout.triggers)
        plan = "'null'"
        if "plan" in self.chain.columns:
            if self.types[self.chain.columns["plan"]] != "VARCHAR":
                raise NotCompilable("the plan field is not text")
            plan = f"CASE WHEN _plan IS NULL THEN 'null' ELSE {json_string_sql('_plan')} END"
        return [
            *(f"{json_string_sql(f'_ev{i}')} AS _evj{i}" for i in range(count)),
            f"{self.shown()} AS _shown",
            f"{json_string_sql('_id')} AS _idj",
            json_string_sql("coalesce(_name, '')") + " AS _namej",
            json_string_sql("coalesce(_owner, '')") + " AS _ownerj",
            f"{plan} AS _planj",
            f"{json_string_sql('action_owner')} AS _aownj",
            f"{self.window_json()} AS _winj",
            f"{float_json_sql('raw_score')} AS _rawj",
        ]

    def window_json(self) -> str:
        """The JSON text of ``_win``: a constant for a play whose window has no value in it."""
        def encoded(play: Play) -> str:
            text = constant_text(self.render(play.window))
            return json_string_sql("_win") if text is None else json_literal(text)

        return f"coalesce({self.by_play(encoded)}, 'null')"

    def unsure(self) -> str:
        """True where a piece the line needs could not be made exactly."""
        count = len(self.layout.triggers)
        # A text function's NULL means "unsure"; given NULL, the JSON ones write null.
        checks = [f"({self.fired(self.layout.triggers[i].position)} AND "
                  f"(_ev{i} IS NULL OR _evj{i} IS NULL))" for i in range(count)]
        checks.append("_win IS NULL")
        checks += [f"{name} IS NULL" for name in ("_open", "_idj", "_namej", "_ownerj",
                                                   "_planj", "_aownj", "_winj",
                                                   "_rawj", "_narr")]
        message = self.has_message()
        if message:
            checks.append(f"({message} AND _msg IS NULL)")
        return " OR ".join(checks)

    def category_scores(self) -> list[str]:
        """``"name":score`` of each category (its first tier that holds, else otherwise),
        each after a comma but the first: whole constants, one picked per row."""
        scores = []
        for number, category in enumerate(self.layout.categories):
            key = ("," if number else "") + json.dumps(category.name, ensure_ascii=False) + ":"
            whens = [(self.fired(t.position), json_after(key, t.score))
                     for t in category.tiers if t.score > category.otherwise]
            scores.append(case_sql(whens, json_after(key, category.otherwise)))
        return scores

    def kinds(self) -> list[tuple[str, str]]:
        """Each upsell type, where its first fired trigger stands among the fired ones."""
        kinds = []
        triggers = self.layout.triggers
        for index, slot in enumerate(triggers):
            kind = slot.trigger.upsell_type
            earlier = [self.fired(t.position) for t in triggers[:index]
                       if t.trigger.upsell_type == kind]
            first = f" AND NOT {any_of(earlier)}" if earlier else ""
            kinds.append((f"{self.fired(slot.position)}{first}", json_literal(kind)))
        return kinds

    def trigger_items(self) -> list[tuple[str, str]]:
        items = []
        for i, slot in enumerate(self.layout.triggers):
            head = json_head({"id": slot.trigger.id, "upsell_type": slot.trigger.upsell_type})
            opener = quote_literal(head + ',"evidence":')
            items.append((self.fired(slot.position), f"concat({opener}, _evj{i}, '}}')"))
        return items

    def gate_items(self) -> list[str]:
        """Each gate's JSON object, after a comma but the first: two constants a gate."""
        items = []
        for number, gate in enumerate(self.layout.gates):
            fields = {"id": gate.id, "passed": True, "severity": "hard" if gate.hard else "soft",
                      "play": gate.play}
            comma = "," if number else ""
            passed = json_after(comma, fields)
            failed = json_after(comma, {**fields, "passed": False})
            items.append(f"CASE WHEN {self.fired(gate.position)} THEN {passed} ELSE {failed} END")
        return items

    def cap(self) -> str:
        """The JSON text of the lowest cap among the fired ``cap`` red flags."""
        caps = sorted([s for s in self.layout.flags
                       if s.flag.effect == "cap" and s.flag.cap is not None],
                      key=lambda s: s.flag.cap or 0.0)
        return case_sql([(self.fired(s.position), json_literal(s.flag.cap)) for s in caps],
                        "'null'")

    def missing(self) -> list[tuple[str, str]]:
        missing = []
        for name in sorted(self.inputs_used):
            alias = self.chain.columns.get(name)
            missing.append((f'"{alias}" IS NULL' if alias else "TRUE", json_literal(name)))
        return missing

    def action_head(self) -> str:
        """``,"action":{"play":...,"title":...,"owner":`` for the row's play, a constant."""
        def head(play: str, title: str) -> str:
            return f',"action":{{"play":{play},"title":{title},"owner":'

        return keyed("_pn", head("null", ""), [
            head(json.dumps(play_id, ensure_ascii=False), json.dumps(play.title,
                                                                   ensure_ascii=False))
            for play_id, play in self.rs.plays.items()], prefixed=False)

    def line(self) -> str:
        """Layer four: the record's JSON text, keys in ``Evaluator.assemble``'s order, and
        the newline that ends its line."""
        rs = self.rs
        flags = [(self.fired(s.position), json_literal({"id": s.flag.id, "effect": s.flag.effect,
                                                 "play": s.flag.play}))
                 for s in self.layout.flags]
        cap = self.cap()
        capped = "(_cap IS NOT NULL AND raw_score > _cap)"
        parts = [
            "'{\"account_id\":'", "_idj", "',\"account_name\":'", "_namej",
            "',\"owner\":'", "_ownerj", "',\"plan\":'", "_planj",
            quote_literal(f',"as_of":"{self.as_of.isoformat()}","score":'),
            f"CASE WHEN {capped} THEN {cap} ELSE _rawj END",
            "',\"raw_score\":'", "_rawj",
            keyed("_bn", ',"band":', [json.dumps(b.id, ensure_ascii=False) for b in rs.bands]),
            "CASE WHEN blocked THEN ',\"blocked\":true,\"category_scores\":{' "
            "ELSE ',\"blocked\":false,\"category_scores\":{' END",
            *self.category_scores(),
            "'},\"upsell_types\":['", joined(",", self.kinds()),
            "'],\"triggers\":['", joined(",", self.trigger_items()),
            "'],\"gates\":['", *self.gate_items(),
            "'],\"red_flags\":['", joined(",", flags),
            "'],\"capped_at\":'", f"CASE WHEN {capped} THEN {cap} ELSE 'null' END",
            self.action_head(), "_aownj", "',\"window\":'", "_winj", "_frame",
            "CASE WHEN _steps <> '' THEN concat(',\"prepare\":[', _steps, ']') ELSE '' END",
            "'},\"narrative\":'", "_narr",
            "',\"missing_signals\":['", joined(",", self.missing()),
            quote_literal("],\"ruleset\":" + json.dumps(rs.identity(), ensure_ascii=False,
                                                 separators=(",", ":")) + "}\n"),
        ]
        # One concat: chained || would copy the growing text once per piece.
        return f"concat({', '.join(parts)})"


def record_query(ruleset: Ruleset, registry: Registry, layout: ConditionLayout,
                 chain: RecordChain, types: Mapping[str, str], inputs_used: Sequence[str],
                 as_of: date) -> str:
    """The query giving ``band`` and ``_line`` (the record's JSON line as UTF-8 bytes, its
    newline included, ready to be written as it is; NULL where only Python can write it
    exactly) for every row, in the table's order (no ``ORDER BY``: it would hold every
    line until the last).

    ``types`` are the DuckDB types of the chain's columns. Raises :class:`NotCompilable`
    when some part of the record has no SQL form (an evidence written by a plugin).
    """
    text = _RecordText(ruleset, registry, layout, chain, types, inputs_used, as_of)
    layers = [", ".join(text.numbers()), ", ".join(text.texts()), ", ".join(text.encoded()),
              f"{json_string_sql(text.narrative())} AS _narr"]
    sql = chain.sql
    for number, columns in enumerate(layers, start=1):
        sql = f"SELECT *, {columns} FROM ({sql}) AS _layer{number}"
    return (f"SELECT band, CASE WHEN {text.unsure()} THEN NULL ELSE encode({text.line()}) "
            f"END AS _line FROM ({sql}) AS _texts")

__all__ = ["IDENTITY", "RecordChain", "record_chain", "record_query"]
