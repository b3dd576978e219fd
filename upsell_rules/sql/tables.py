"""Table names given by a user (``compile --table``), read as names, never as SQL.

A name is ``TABLE``, ``SCHEMA.TABLE`` or ``DATABASE.SCHEMA.TABLE``. Each part is either
plain (letters, digits, ``_``, ``$``, ``-``; not starting with a digit) or in double
quotes, where any printable character may stand and ``""`` is one quote. A plain part
is written unquoted, so the warehouse folds its case as it always does, unless it is
not a plain SQL identifier (``my-project``) or is a keyword (``order``): then it is
quoted. Nothing else is accepted: ``x; DROP TABLE y`` is refused, not quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import Tokenizer

__all__ = ["TableName", "parse_table_name"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*")
_QUOTED = re.compile(r'"((?:[^"\x00-\x1f\x7f]|"")+)"')
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HELP = ("write TABLE, SCHEMA.TABLE or DATABASE.SCHEMA.TABLE; a part with characters "
         "other than letters, digits, _, $ and - goes in double quotes (\"my table\")")


@dataclass(frozen=True)
class TableName:
    """A checked table name: its parts (database, schema, table; the last one always)."""

    parts: tuple[tuple[str, bool], ...]
    """Each part's name and whether it must be quoted."""

    @property
    def name(self) -> str:
        """The table's own name (the last part)."""
        return self.parts[-1][0]

    @property
    def schema(self) -> str | None:
        """The schema part, if given."""
        return self.parts[-2][0] if len(self.parts) >= 2 else None

    @property
    def database(self) -> str | None:
        """The database (catalog, project) part, if given."""
        return self.parts[0][0] if len(self.parts) == 3 else None

    def quoted(self, index: int) -> bool:
        """Whether the part at ``index`` (-1: the table) must be quoted."""
        return self.parts[index][1]

    def expression(self) -> exp.Table:
        """The name as a SQLGlot table, rendered by each dialect in its own quoting."""
        identifiers: list[exp.Identifier | None] = [None] * (3 - len(self.parts))
        identifiers += [exp.Identifier(this=name, quoted=quoted) for name, quoted in self.parts]
        catalog, db, this = identifiers
        return exp.Table(this=this, db=db, catalog=catalog)


def _needs_quotes(name: str) -> bool:
    return not _BARE.fullmatch(name) or name.upper() in Tokenizer.KEYWORDS


def parse_table_name(text: str) -> TableName:
    """``text`` as a :class:`TableName`; ``ValueError`` saying what is wrong and where."""
    parts: list[tuple[str, bool]] = []
    position = 0
    while True:
        quoted = _QUOTED.match(text, position)
        plain = None if quoted else _PLAIN.match(text, position)
        if quoted:
            parts.append((quoted.group(1).replace('""', '"'), True))
            position = quoted.end()
        elif plain:
            parts.append((plain.group(), _needs_quotes(plain.group())))
            position = plain.end()
        else:
            where = "is empty" if not text else f"at character {position + 1}"
            raise ValueError(f"{text!r} is not a table name ({where}): {_HELP}")
        if position == len(text):
            break
        if text[position] != "." or len(parts) == 3:
            what = "more than three parts" if text[position] == "." else (
                f"{text[position]!r} at character {position + 1}")
            raise ValueError(f"{text!r} is not a table name ({what}): {_HELP}")
        position += 1
    return TableName(tuple(parts))
