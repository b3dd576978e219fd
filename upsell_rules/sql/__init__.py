"""Rulesets compiled to SQL: one query that decides every account of a table.

``compile_ruleset(ruleset, dialect=..., as_of=...)`` gives the query text; see
docs/sql.md. Derivations and functions take part through their optional ``sql`` form
(docs/plugins.md); a ruleset using one without it raises :class:`NotCompilable`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from upsell_rules.sql.dialects import DIALECTS, check_dialect
from upsell_rules.sql.errors import NotCompilable

if TYPE_CHECKING:
    from upsell_rules.plugin.registry import Registry
    from upsell_rules.ruleset.model import Ruleset
    from upsell_rules.sql.query import output_columns

__all__ = [
    "DIALECTS",
    "NotCompilable",
    "compilable",
    "compile_ruleset",
    "output_columns",
]


def compile_ruleset(
    ruleset: Ruleset,
    registry: Registry,
    *,
    dialect: str,
    as_of: date,
    table: str = "accounts",
    pretty: bool = True,
    native: bool = True,
) -> str:
    """The query deciding every account of ``table`` as of ``as_of``, in ``dialect``.

    ``native=False``: lists through portable ``UNNEST`` subqueries even where the dialect
    has list functions (DuckDB).
    """
    from upsell_rules.sql.query import build_query

    query = build_query(ruleset, registry, check_dialect(dialect), as_of, table,
                        native=native)
    return query.sql(dialect=dialect, pretty=pretty)


def compilable(ruleset: Ruleset, registry: Registry) -> str | None:
    """``None`` when the ruleset compiles to SQL, else why not (one line)."""
    from upsell_rules.sql.query import build_query

    try:
        build_query(ruleset, registry, "duckdb", date(2000, 1, 1))
    except NotCompilable as exc:
        return str(exc)
    return None


def __getattr__(name: str) -> Any:
    # The compiler (and SQLGlot) load on first use: reading a file's checks does not
    # need them.
    if name == "output_columns":
        from upsell_rules.sql.query import output_columns

        return output_columns
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
