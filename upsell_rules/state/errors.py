"""What the commands need to know about the state store without opening one.

Kept apart from :mod:`upsell_rules.state.store`, which imports SQLAlchemy (about 0.15 s):
``dry-run`` without a store never pays for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from upsell_rules.errors import UpsellRulesError
from upsell_rules.safetext import hide_credentials

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

#: Where the store lives when ``--state`` is given without a value.
DEFAULT_STATE = os.path.join(".upsell-rules", "state.db")


class StateError(UpsellRulesError):
    """The state store cannot be used: unreachable, newer schema, locked, unknown run."""


#: What a run that failed to write leaves behind (``write_failure``'s default).
RUN_LEAVES = ("Nothing is half-written: a run whose record did not commit changed and "
              "delivered nothing, and deliveries not marked delivered are sent again (same "
              "keys) by the next run")


def write_failure(shown: str, exc: SQLAlchemyError, leaves: str = RUN_LEAVES) -> StateError:
    """A clear error for a database failure while writing (a full or read-only disk, a
    dropped connection), saying what it leaves behind (``leaves``: a run's by default)."""
    import sqlite3

    cause = getattr(exc, "orig", None) or exc
    if type(cause) is sqlite3.DatabaseError:  # corruption found mid-run, not a full disk
        return damaged(shown, exc, True)
    first = (str(cause).splitlines() or [exc.__class__.__name__])[0]
    return StateError(f"state store {shown}: cannot write: {hide_credentials(first)}. {leaves}")


def damaged(shown: str, exc: SQLAlchemyError, sqlite: bool) -> StateError:
    """A clear error for a store that cannot be read: a damaged or foreign SQLite file
    (a truncated copy, a disk fault, another program's file) or an unusable database."""
    cause = getattr(exc, "orig", None) or exc
    first = hide_credentials((str(cause).splitlines() or [exc.__class__.__name__])[0])
    if sqlite and exc.__class__.__name__ == "DatabaseError":  # not OperationalError
        return StateError(
            f"state store {shown} is damaged or is not an upsell-rules state store "
            f"(SQLite says: {first}); it was not changed. Restore it from a backup, or "
            "move it aside to start a new store (every account is then new again)"
        )
    return StateError(f"state store {shown}: cannot read it: {first}")
