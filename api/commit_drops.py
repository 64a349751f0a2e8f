"""A process's copies of rows (the tenant directory, the public slot listings) are dropped when
this process commits a change to what they copy, without waiting for PostgreSQL's notification:
whoever made the change sees it in their very next request."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

ChangedId = uuid.UUID | str  # "*": everything


def drop_on_commit(name: str, changed_id: Callable[[object], uuid.UUID | None], tables: Iterable[str],
                   forget: Callable[[Iterable[ChangedId]], None]) -> None:
    """Call `forget` with the ids a committed transaction changed: `changed_id(instance)` for each
    instance its flushes wrote (None: not copied), and `*` for a bulk INSERT, UPDATE or DELETE
    through the ORM on one of `tables`, which does not say which rows it changed."""
    info_key = f"muhurta.{name}_changed"
    watched = frozenset(tables)

    @event.listens_for(Session, "after_flush")
    def _note_changes(session: Session, _context: Any) -> None:
        changed: set[ChangedId] | None = None
        for instance in (*session.new, *session.dirty, *session.deleted):
            found = changed_id(instance)
            if found is None:
                continue
            if changed is None:
                changed = session.info.setdefault(info_key, set())
            changed.add(found)

    @event.listens_for(Session, "do_orm_execute")
    def _note_bulk_changes(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) in watched:
                state.session.info.setdefault(info_key, set()).add("*")

    @event.listens_for(Session, "after_commit")
    def _forget_committed_changes(session: Session) -> None:
        changed = session.info.pop(info_key, None)
        if changed:
            forget(changed)

    @event.listens_for(Session, "after_soft_rollback")
    def _discard_rolled_back_changes(session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:  # a savepoint's rollback leaves its transaction's changes to commit
            session.info.pop(info_key, None)
