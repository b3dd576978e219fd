"""The state store: a SQLite file by default, PostgreSQL (or any SQLAlchemy URL) for teams.

One :class:`StateStore` wraps one database. Runs take its lock (:meth:`StateStore.lock`)
so two runs on one store never both deliver: on SQLite an ``flock`` on ``PATH.lock``,
on PostgreSQL a session advisory lock; both are released by the operating system or
the server when the process dies, even by ``kill -9``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from upsell_rules.safetext import hide_credentials
from upsell_rules.state import codec
from upsell_rules.state import schema as t
from upsell_rules.state.errors import DEFAULT_STATE, StateError, damaged, write_failure
from upsell_rules.state.transitions import Hold, Outreach, Previous, Snapshot

#: Advisory-lock key on PostgreSQL (any constant; "upsr" in ASCII).
_PG_LOCK_KEY = 0x75707372
#: Seconds a command waits for the run lock to create or migrate a store: a migration
#: takes moments, so only a run of an older upsell-rules on the old schema holds it long.
MIGRATION_WAIT = 30.0


def store_url(spec: str) -> str:
    """A SQLAlchemy URL from ``--state``: a URL as given, a path as a SQLite file URL."""
    if "://" in spec:
        scheme, rest = spec.split("://", 1)
        # psycopg (3) is the driver the project installs; SQLAlchemy's default is psycopg2.
        return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else spec
    return f"sqlite:///{os.path.abspath(spec)}"


def display(spec: str) -> str:
    """``spec`` safe to print: no password."""
    if "://" not in spec:
        return spec
    from sqlalchemy.engine import make_url

    try:
        return hide_credentials(make_url(spec).render_as_string(hide_password=True))
    except Exception:
        return spec.split("://", 1)[0] + "://..."


@dataclass(frozen=True)
class OutboxItem:
    """A delivery waiting in the outbox: which sink, which account, what to send."""

    item_id: int
    run_id: int
    account_id: str
    sink: str
    key: str
    blob: bytes
    attempts: int

    def payload(self) -> dict[str, Any]:
        """The decision to deliver (decompressed on demand)."""
        value: dict[str, Any] = codec.unpack(self.blob)
        return value


@dataclass(frozen=True)
class SnoozeRow:
    """One snooze as stored: its number (for ``unsnooze --id``), whom it holds and why."""

    hold_id: int
    account_id: str
    play: str | None
    until: str
    reason: str
    source: str
    created_on: str
    ended: bool


class StateStore:
    """One state store (see the module docstring)."""

    def __init__(self, spec: str, engine: Engine, path: str | None) -> None:
        self.spec = spec
        self.engine = engine
        self.path = path
        self.shown = display(spec)

    @classmethod
    def open(cls, spec: str, *, create: bool = True) -> StateStore:
        """Open (and with ``create``, create or migrate) the store at ``spec``.

        Without ``create`` a missing SQLite file is an error and nothing is written:
        that is how ``dry-run`` reads a store.
        """
        url = store_url(spec)
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else None
        if path is not None and not os.path.exists(path):
            if not create:
                raise StateError(f"state store {spec}: no such file")
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        frozen = path is not None and _unwritable_folder(path)
        if frozen and create and path is not None:
            raise StateError(
                f"state store {display(spec)}: cannot write: its folder "
                f"{os.path.dirname(path)} is read-only or not writable; it was not changed. "
                "Commands that change the store (run, watch, feedback, snooze) need a folder "
                "they can write; log, replay, snoozes and dry-run read it where it is"
            )
        if frozen and path is not None:
            # SQLite cannot make the WAL index beside it: read it as a file that cannot
            # change (nothing can write it there either).
            url = f"sqlite:///file:{urllib.parse.quote(path)}?mode=ro&immutable=1&uri=true"
        try:
            engine = create_engine(url, connect_args={"timeout": 30} if path else {})
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StateError(f"state store {display(spec)}: cannot open: {exc}") from None
        if path is not None and not frozen:
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(spec, engine, path)
        store._check_schema(create)
        return store

    def _check_schema(self, create: bool) -> None:
        try:
            with self.engine.connect() as conn:
                version = t.current_version(conn)
            self._refuse_newer(version)
            if version == t.SCHEMA_VERSION:
                return
            if not create and version == 0:
                raise StateError(f"state store {self.shown} is empty: no run has "
                                 "used it yet (a run with --state fills it)")
            if not create:
                raise StateError(
                    f"state store {self.shown} has schema version {version}; a run "
                    f"with --state migrates it to {t.SCHEMA_VERSION}"
                )
            # Two commands opening a new (or older) store at once would both create (or
            # migrate) it, and the second would fail on the first one's tables: migrate
            # under the run lock, and read the version again once it is held.
            with self.lock(MIGRATION_WAIT), self.engine.begin() as conn:
                version = t.current_version(conn)
                self._refuse_newer(version)
                for migrate in t.MIGRATIONS[version:]:
                    migrate(conn)
                if version < t.SCHEMA_VERSION:
                    t.set_version(conn, t.SCHEMA_VERSION)
        except SQLAlchemyError as exc:
            raise damaged(self.shown, exc, self.path is not None) from None

    def _refuse_newer(self, version: int) -> None:
        if version > t.SCHEMA_VERSION:
            raise StateError(
                f"state store {self.shown} has schema version {version}, newer than "
                f"this upsell-rules understands ({t.SCHEMA_VERSION}): upgrade "
                "upsell-rules, or use another store"
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- the lock -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the store's run lock; wait up to ``wait`` seconds, then refuse."""
        if self.path is None and self.engine.dialect.name == "postgresql":
            with self._pg_lock(wait):
                yield
            return
        with self._file_lock(wait):
            yield

    def _refuse(self, holder: str) -> StateError:
        return StateError(
            f"state store {self.shown} is in use by another run{holder}; it was not "
            "changed. Try again when that run ends, or pass --lock-wait SECONDS"
        )

    @contextlib.contextmanager
    def _file_lock(self, wait: float) -> Iterator[None]:
        import fcntl

        lock_path = (self.path or os.path.join(".upsell-rules", "store")) + ".lock"
        os.makedirs(os.path.dirname(os.path.abspath(lock_path)), exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                        raise self._refuse(f" ({holder})" if holder else "") from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                          f"{_now()}".encode(), 0)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _pg_lock(self, wait: float) -> Iterator[None]:
        deadline = time.monotonic() + wait
        with self.engine.connect() as conn:
            while not conn.execute(text(f"SELECT pg_try_advisory_lock({_PG_LOCK_KEY})")).scalar():
                if time.monotonic() >= deadline:
                    raise self._refuse("")
                time.sleep(0.05)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})"))
                conn.commit()

    # -- reading ------------------------------------------------------------------------

    def snapshot(self, role: str = "production") -> Snapshot:
        """Every account's last delivered state, its active holds and past outreaches."""
        snap = Snapshot()
        with self.engine.connect() as conn:
            for row in conn.execute(select(t.accounts)).mappings():
                snap.previous[row["account_id"]] = Previous(
                    row["band"], bool(row["blocked"]), row["play"], row["owner"], row["since"],
                    row["last_outreach_on"], row["last_outreach_play"],
                    bool(row["left_since_outreach"]), row["closed_on"],
                )
            for row in conn.execute(select(t.holds).where(t.holds.c.ended.is_(False))).mappings():
                snap.holds.setdefault(row["account_id"], []).append(
                    Hold(row["kind"], row["until"], row["play"], row["reason"])
                )
            query = (
                select(t.decisions.c.account_id, t.runs.c.as_of, t.decisions.c.play,
                       t.decisions.c.owner, t.decisions.c.band)
                .join(t.runs, t.runs.c.run_id == t.decisions.c.run_id)
                .where(t.runs.c.role == role)
                .where(t.decisions.c.transition.in_(["entered_act_now", "play_changed",
                                                     "unblocked"]))
            )
            for account, on, play, owner, band in conn.execute(query):
                snap.outreach.setdefault(account, []).append(Outreach(on, play, owner, band))
        return snap

    def latest_run(self) -> tuple[int, str] | None:
        """The production run with the latest as-of date: ``(run id, as-of)``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.runs.c.run_id, t.runs.c.as_of).where(t.runs.c.role == "production")
                .order_by(t.runs.c.as_of.desc(), t.runs.c.run_id.desc()).limit(1)
            ).first()
        return (int(row[0]), str(row[1])) if row else None

    def latest_ruleset(self) -> tuple[int, str, str, str, str] | None:
        """The ruleset of the latest production run: ``(run id, as-of, name, version,
        sha256)``, or None before the first run."""
        r = t.runs.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(r.run_id, r.as_of, r.ruleset_name, r.ruleset_version, r.ruleset_sha256)
                .where(r.role == "production").order_by(r.as_of.desc(), r.run_id.desc()).limit(1)
            ).first()
        return (int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4])) if row else None

    def known_plays(self) -> list[str]:
        """Every play the decision log has seen or a stored ruleset declares, sorted."""
        from ruamel.yaml import YAML

        with self.engine.connect() as conn:
            seen = {r[0] for r in conn.execute(select(t.decisions.c.play).distinct())}
            bodies = [r[0] for r in conn.execute(select(t.rulesets.c.body))]
        for body in bodies:
            try:
                plays = YAML(typ="safe", pure=True).load(codec.unpack(body)).get("plays")
            except Exception:  # an old or odd ruleset text: its logged plays still count
                continue
            if isinstance(plays, dict):
                seen.update(str(name) for name in plays)
        return sorted(seen)

    def known_accounts(self) -> list[str]:
        """Every account id the decision log or the state has seen, sorted."""
        with self.engine.connect() as conn:
            seen = {r[0] for r in conn.execute(select(t.accounts.c.account_id))}
            seen.update(r[0] for r in conn.execute(select(t.decisions.c.account_id).distinct()))
        return sorted(seen)

    def pending(self, sinks: Sequence[str]) -> list[OutboxItem]:
        """Outbox items not yet delivered to these sinks, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox).where(t.outbox.c.status == "pending")
                .where(t.outbox.c.sink.in_(list(sinks))).order_by(t.outbox.c.item_id)
            ).mappings().all()
        return [OutboxItem(r["item_id"], r["run_id"], r["account_id"], r["sink"], r["key"],
                           r["payload"], r["attempts"]) for r in rows]

    def opened(self, sink: str, accounts: Sequence[str]) -> dict[str, str]:
        """For each account, what ``sink`` reported when it last delivered an outreach
        start (``entered_act_now``, ``play_changed``, ``unblocked``): how a CRM sink finds
        the task a close should complete."""
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for account, detail in conn.execute(
                select(t.outbox.c.account_id, t.outbox.c.detail).where(t.outbox.c.sink == sink)
                .where(t.outbox.c.status == "delivered")
                .where(t.outbox.c.account_id.in_(list(accounts)))
                .where(t.outbox.c.kind.in_(["entered_act_now", "play_changed", "unblocked"]))
                .order_by(t.outbox.c.item_id)
            ):
                out[account] = detail
        return out

    def queued_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the outbox already holds (for any sink)."""
        found: set[str] = set()
        unique = sorted(set(keys))
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):
                found.update(row[0] for row in conn.execute(
                    select(t.outbox.c.key).where(t.outbox.c.key.in_(unique[start:start + 500]))))
        return found

    def pending_elsewhere(self, sinks: Sequence[str]) -> dict[str, int]:
        """Pending outbox items for sinks not in this run: sink -> count."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.outbox.c.sink).where(t.outbox.c.status == "pending")
                .where(t.outbox.c.sink.not_in(list(sinks)))
            ).all()
        counts: dict[str, int] = {}
        for (sink,) in rows:
            counts[sink] = counts.get(sink, 0) + 1
        return counts

    # -- writing ------------------------------------------------------------------------

    def mark(self, results: Sequence[tuple[int, str, str]]) -> None:
        """Record delivery outcomes: ``(item_id, status, detail)``; failures stay pending."""
        rows = [{"item": item_id, "done": status in ("delivered", "skipped"),
                 "text": detail[:500]} for item_id, status, detail in results]
        done = [r for r in rows if r["done"]]
        waiting = [r for r in rows if not r["done"]]
        base = update(t.outbox).where(t.outbox.c.item_id == bindparam("item"))
        with self.engine.begin() as conn:
            # A delivered item keeps its sink, key, kind and what the sink said; its
            # payload (the whole decision, which the log has too) is dropped.
            if done:
                conn.execute(base.values(status="delivered", payload=b"", detail=bindparam("text"),
                                         attempts=t.outbox.c.attempts + 1), done)
            if waiting:
                conn.execute(base.values(detail=bindparam("text"),
                                         attempts=t.outbox.c.attempts + 1), waiting)

    def add_hold(self, account_id: str, kind: str, until: str, reason: str, source: str,
                 created_on: str, play: str | None = None) -> None:
        """Snooze an account (or start a cooldown on it), on one play or on all."""
        with self.engine.begin() as conn:
            conn.execute(t.holds.insert().values(
                account_id=account_id, kind=kind, until=until, reason=reason, source=source,
                created_on=created_on, play=play, ended=False,
            ))

    def end_holds(self, account_id: str, kind: str, play: str | None = None) -> int:
        """End an account's active holds of ``kind`` (on ``play`` only, when given)."""
        query = (update(t.holds).where(t.holds.c.account_id == account_id)
                 .where(t.holds.c.kind == kind).where(t.holds.c.ended.is_(False)))
        if play is not None:
            query = query.where(t.holds.c.play == play)
        with self.engine.begin() as conn:
            return conn.execute(query.values(ended=True)).rowcount

    def snoozes(self, account_id: str | None = None, *,
                ended: bool = False) -> list[SnoozeRow]:
        """The snoozes in the store (not ended ones only, unless ``ended``), by id."""
        query = select(t.holds).where(t.holds.c.kind == "snooze").order_by(t.holds.c.hold_id)
        if account_id is not None:
            query = query.where(t.holds.c.account_id == account_id)
        if not ended:
            query = query.where(t.holds.c.ended.is_(False))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [SnoozeRow(int(r["hold_id"]), r["account_id"], r["play"], r["until"],
                          r["reason"], r["source"], r["created_on"], bool(r["ended"]))
                for r in rows]

    def end_snooze(self, hold_id: int) -> bool:
        """End the snooze numbered ``hold_id``; False when there is no such active one."""
        query = (update(t.holds).where(t.holds.c.hold_id == hold_id)
                 .where(t.holds.c.kind == "snooze").where(t.holds.c.ended.is_(False)))
        with self.engine.begin() as conn:
            return bool(conn.execute(query.values(ended=True)).rowcount)

    def holds_of(self, account_id: str) -> list[Hold]:
        """An account's holds that have not been ended (past ones included)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.holds).where(t.holds.c.account_id == account_id)
                                .where(t.holds.c.ended.is_(False))
                                .order_by(t.holds.c.hold_id)).mappings().all()
        return [Hold(r["kind"], r["until"], r["play"], r["reason"]) for r in rows]

    def add_feedback(self, account_id: str, outcome: str, on: str, source: str,
                     holds: Sequence[tuple[str, str, str]] = (), close: bool = False) -> bool:
        """Record one CRM outcome and its effects at once: ``holds`` as ``(kind, until,
        reason)``, and with ``close`` the account's open outreach closed. False, and
        nothing written, when it was imported before (same account, outcome and date).
        One transaction, so an interrupted import never records an outcome without its
        effects (which a re-import would then skip as already imported)."""
        with self.engine.begin() as conn:
            seen = conn.execute(
                select(t.feedback.c.feedback_id).where(t.feedback.c.account_id == account_id)
                .where(t.feedback.c.outcome == outcome).where(t.feedback.c.on_date == on)
            ).first()
            if seen:
                return False
            conn.execute(t.feedback.insert().values(
                account_id=account_id, outcome=outcome, on_date=on, source=source))
            for kind, until, reason in holds:
                conn.execute(t.holds.insert().values(
                    account_id=account_id, kind=kind, until=until, reason=reason,
                    source=source, created_on=on, play=None, ended=False))
            if close:
                conn.execute(update(t.accounts).where(t.accounts.c.account_id == account_id)
                             .values(closed_on=on))
        return True

    def prune_inputs(self, before: str) -> int:
        """Drop stored inputs last used before ``before`` (``replay`` of those runs then
        says their inputs are gone). Returns how many went."""
        with self.engine.begin() as conn:
            return conn.execute(t.inputs.delete().where(t.inputs.c.last_used < before)).rowcount


def _unwritable_folder(path: str) -> bool:
    """True when no one can be writing the SQLite file at ``path``: its folder cannot be
    written (a read-only volume or copy) and it has no write-ahead log beside it."""
    folder = os.path.dirname(path) or "."
    return not os.access(folder, os.W_OK) and not os.path.exists(f"{path}-wal")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL: readers (dry-run, log) never wait for a run that is writing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_row(as_of: str, identity: Mapping[str, Any], role: str, deliver: str, engine: str,
            data: Sequence[str], shadow_of: int | None = None) -> dict[str, Any]:
    """The values of one ``runs`` row."""
    return {
        "started_at": _now(), "as_of": as_of, "ruleset_name": str(identity["name"]),
        "ruleset_version": str(identity["version"]), "ruleset_sha256": str(identity["sha256"]),
        "role": role, "deliver": deliver, "engine": engine, "shadow_of": shadow_of,
        "data": json.dumps([hide_credentials(spec) for spec in data]),
    }


def ruleset_text(path: str) -> bytes:
    """The ruleset file's bytes (kept once per sha256 so ``replay`` can use them)."""
    return Path(path).read_bytes()


__all__ = [
    "DEFAULT_STATE", "OutboxItem", "SnoozeRow", "StateError", "StateStore", "display", "store_url",
    "write_failure",
]
