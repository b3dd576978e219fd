"""The accounts table of the data contract, as ``CREATE TABLE`` in each dialect."""

from __future__ import annotations

from sqlglot import exp

from upsell_rules.io.contract import CONTRACT_V1
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql.dialects import check_dialect
from upsell_rules.sql.signals import sql_type
from upsell_rules.sql.tables import parse_table_name


def table_columns(ruleset: Ruleset | None = None) -> list[tuple[str, str]]:
    """(column, signal type) of the contract, then the ruleset's other inputs."""
    columns: list[tuple[str, str]] = [(spec.name, spec.type) for spec in CONTRACT_V1]
    known = {name for name, _ in columns}
    if ruleset is not None:
        columns += [(name, sig.type) for name, sig in ruleset.signals.items()
                    if sig.is_input and name not in known]
    return columns


def create_table(dialect: str, table: str = "accounts", ruleset: Ruleset | None = None) -> str:
    """``CREATE TABLE`` for the contract's accounts table (plus ``ruleset``'s own inputs)."""
    check_dialect(dialect)
    columns = []
    for name, kind in table_columns(ruleset):
        constraints = []
        if name == "account_id":
            constraints = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()),
                           exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint())]
        columns.append(exp.ColumnDef(this=exp.to_identifier(name, quoted=True),
                                     kind=sql_type(kind), constraints=constraints))
    schema = exp.Schema(this=parse_table_name(table).expression(), expressions=columns)
    create = exp.Create(this=schema, kind="TABLE")
    return create.sql(dialect=dialect, pretty=True) + ";"
