"""The state store's tables, its schema version and the migrations between versions.

The version lives in the ``meta`` table. Opening a store applies every migration from
its version up to :data:`SCHEMA_VERSION`, in one transaction; a store written by a newer
upsell-rules (a higher version) is refused with a clear error rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

#: The schema version this code reads and writes.
SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "upsell_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "upsell_runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("as_of", String(10), nullable=False, index=True),
    Column("ruleset_name", Text, nullable=False),
    Column("ruleset_version", Text, nullable=False),
    Column("ruleset_sha256", String(64), nullable=False),
    #: production, or shadow (decided beside production, never delivered).
    Column("role", String(16), nullable=False),
    Column("shadow_of", Integer, nullable=True),
    Column("deliver", String(16), nullable=False),
    Column("engine", String(32), nullable=False),
    Column("data", Text, nullable=False),
)

rulesets = Table(
    "upsell_rulesets", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

inputs = Table(
    "upsell_inputs", metadata,
    Column("digest", String(64), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("last_used", String(10), nullable=False),
)

decisions = Table(
    "upsell_decisions", metadata,
    Column("run_id", Integer, ForeignKey("upsell_runs.run_id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("account_id", Text, nullable=False, index=True),
    Column("input_digest", String(64), nullable=True),
    Column("band", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("play", Text, nullable=False),
    Column("owner", Text, nullable=False),
    Column("triggers", Text, nullable=False),
    Column("extra", Text, nullable=True),
    Column("decision_digest", String(64), nullable=False),
    #: What the state made of it: new, unchanged, snoozed until ..., over capacity...
    Column("status", Text, nullable=False),
    Column("transition", String(32), nullable=True),
)

accounts = Table(
    "upsell_accounts", metadata,
    Column("account_id", Text, primary_key=True),
    Column("band", Text, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("play", Text, nullable=False),
    Column("owner", Text, nullable=False),
    Column("since", String(10), nullable=False),
    Column("last_outreach_on", String(10), nullable=True),
    Column("last_outreach_play", Text, nullable=True),
    #: The account left the outreach band after its last outreach (re-enrolment).
    Column("left_since_outreach", Boolean, nullable=False, default=False),
    Column("closed_on", String(10), nullable=True),
)

holds = Table(
    "upsell_holds", metadata,
    Column("hold_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Text, nullable=False, index=True),
    Column("play", Text, nullable=True),
    #: snooze or cooldown.
    Column("kind", String(16), nullable=False),
    Column("until", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("created_on", String(10), nullable=False),
    Column("ended", Boolean, nullable=False, default=False),
)

feedback = Table(
    "upsell_feedback", metadata,
    Column("feedback_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("source", Text, nullable=False),
    UniqueConstraint("account_id", "outcome", "on_date", name="upsell_feedback_once"),
)

outbox = Table(
    "upsell_outbox", metadata,
    Column("item_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("sink", Text, nullable=False),
    Column("key", String(80), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    #: pending until the sink reports it delivered (or already delivered).
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text, nullable=False, default=""),
    UniqueConstraint("sink", "key", name="upsell_outbox_once"),
)

#: Records a run could not decide (a shadow candidate failing where production decided).
failures = Table(
    "upsell_failures", metadata,
    Column("run_id", Integer, ForeignKey("upsell_runs.run_id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("message", Text, nullable=False),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


#: Migration to version N+1 at index N. Append, never edit, once a version has shipped.
MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1]


def current_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not conn.dialect.has_table(conn, "upsell_meta"):
        return 0
    row = conn.execute(text("SELECT value FROM upsell_meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def set_version(conn: Connection, version: int) -> None:
    """Record ``version`` in the ``meta`` table."""
    conn.execute(meta.delete().where(meta.c.key == "schema_version"))
    conn.execute(meta.insert().values(key="schema_version", value=str(version)))


assert len(MIGRATIONS) == SCHEMA_VERSION
