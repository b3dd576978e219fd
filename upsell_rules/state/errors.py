"""What the commands need to know about the state store without opening one.

Kept apart from :mod:`upsell_rules.state.store`, which imports SQLAlchemy (about 0.15 s):
``dry-run`` without a store never pays for it.
"""

from __future__ import annotations

import os

from upsell_rules.errors import UpsellRulesError

#: Where the store lives when ``--state`` is given without a value.
DEFAULT_STATE = os.path.join(".upsell-rules", "state.db")


class StateError(UpsellRulesError):
    """The state store cannot be used: unreachable, newer schema, locked, unknown run."""
