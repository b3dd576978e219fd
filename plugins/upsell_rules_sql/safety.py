"""What the SQL source lets a query do: one SELECT, in a read-only transaction.

A query is checked before it reaches the database (:func:`check_single_select`) and
then runs inside a transaction the database itself keeps read-only where it can
(:func:`read_only`), so neither a second statement nor a data-modifying ``WITH`` can
change anything. docs/security.md lists the guard of every dialect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

#: Set to 1 for one run to let a ruleset's ``sources.sql.query`` run
#: (``--allow-ruleset-query`` sets it).
ALLOW_ENV = "UPSELL_RULES_ALLOW_RULESET_QUERY"

#: The statement that makes the current transaction read-only, per SQLAlchemy dialect.
_READ_ONLY = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
    "oracle": "SET TRANSACTION READ ONLY",
}


@dataclass(frozen=True)
class ReadOnly:
    """How one dialect's reads are kept from writing.

    ``statement`` runs first on the connection (a read-only transaction or session);
    ``connect_args`` open the database read-only (DuckDB). ``enforced`` is ``True`` when
    the database itself refuses a write, so a query from a ruleset may run there;
    elsewhere only the single-SELECT check and a connection that is never committed
    stand between a query and the data, and only the operator's own query runs.
    """

    statement: str | None = None
    connect_args: dict[str, Any] = field(default_factory=dict)
    enforced: bool = False
    how: str = "a transaction that is never committed (grant the account SELECT only)"


def read_only(
    dialect: str, database: str | None = None, *, from_ruleset: bool = False
) -> ReadOnly:
    """The read-only guard for ``dialect`` (``database``: the URL's database part).

    ``from_ruleset``: the query is a ruleset's; on DuckDB it then may not touch files
    (``read_csv('/etc/passwd')`` reads any file the process can).
    """
    statement = _READ_ONLY.get(dialect)
    if statement is not None:
        return ReadOnly(statement=statement, enforced=True, how=statement)
    if dialect == "duckdb":
        args: dict[str, Any] = {}
        if from_ruleset:
            args["config"] = {"enable_external_access": False}
        if database in (None, "", ":memory:"):
            # A fresh in-memory database holds nothing a query could change.
            return ReadOnly(connect_args=args, enforced=True,
                            how="a new in-memory database, dropped after the read")
        return ReadOnly(connect_args={**args, "read_only": True}, enforced=True,
                        how="the database file opened read_only")
    return ReadOnly()


class QueryError(ValueError):
    """A query that is not one SELECT; ``offset`` is the 0-based character position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def ruleset_query_allowed() -> bool:
    """True when the operator allowed a ruleset's query for this run."""
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def read_only_statement(dialect: str) -> str | None:
    """The SQL that makes a transaction read-only in ``dialect``, or ``None`` if unknown."""
    return read_only(dialect).statement


def _code(query: str) -> list[tuple[int, str]]:
    """The query's characters outside comments and quoted text, with their offsets.

    Quoted text ('..', "..", `..`, [..] and PostgreSQL $tag$..$tag$) and comments are
    replaced by one space, so a ';' or a keyword inside them is not seen.
    """
    out: list[tuple[int, str]] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end == -1 else end
            out.append((i, " "))
            continue
        if query.startswith("/*", i):
            end = query.find("*/", i + 2)
            if end == -1:
                raise QueryError("comment '/*' is never closed", i)
            i = end + 2
            out.append((i, " "))
            continue
        closer = {"'": "'", '"': '"', "`": "`", "[": "]"}.get(char)
        if closer is None and char == "$":
            tag_end = query.find("$", i + 1)
            tag = query[i : tag_end + 1] if tag_end != -1 else ""
            if tag and (tag == "$$" or tag[1:-1].isidentifier()):
                end = query.find(tag, tag_end + 1)
                if end == -1:
                    raise QueryError(f"quoted text {tag} is never closed", i)
                i = end + len(tag)
                out.append((i, " "))
                continue
        if closer is not None:
            j = i + 1
            while True:
                j = query.find(closer, j)
                if j == -1:
                    raise QueryError(f"quote {char} is never closed", i)
                if closer != "]" and query.startswith(closer * 2, j):
                    j += 2  # a doubled quote stands for itself
                    continue
                break
            i = j + 1
            out.append((i, " "))
            continue
        out.append((i, char))
        i += 1
    return out


def check_single_select(query: str) -> None:
    """Raise :class:`QueryError` unless ``query`` is one ``SELECT`` (or ``WITH ... SELECT``).

    A trailing ``;`` is allowed; anything after it, or a first word other than
    ``SELECT``, ``WITH`` or ``VALUES``, is refused at its position.
    """
    code = _code(query)
    text = "".join(char for _, char in code)
    stripped = text.lstrip()
    if not stripped:
        raise QueryError("the query is empty", 0)
    start = len(text) - len(stripped)
    word = stripped.split(None, 1)[0].split("(", 1)[0].lower()
    if word not in ("select", "with", "values"):
        raise QueryError(
            f"only a SELECT query may be read, not {word.upper()!r}", code[start][0]
        )
    semicolon = text.find(";")
    if semicolon != -1 and text[semicolon + 1 :].strip(" \t\r\n;"):
        after = len(text) - len(text[semicolon + 1 :].lstrip(" \t\r\n;"))
        raise QueryError(
            "only one statement may be given: nothing may follow ';'", code[after][0]
        )
