"""Starts workflows, and sends signals, that were committed but never made (the API died after its
commit, or Temporal was away)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from temporalio.client import Client

from core.db import TenantScope, scoped_session
from core.workflow_starts import deliver_signal, start_once
from models.platform import PendingWorkflowSignal, PendingWorkflowStart

log = logging.getLogger(__name__)

# The API starts a workflow right after its commit; give it this long before stepping in.
GRACE = timedelta(seconds=10)


Pending = TypeVar("Pending", PendingWorkflowStart, PendingWorkflowSignal)


async def _overdue(session: AsyncSession, model: type[Pending], done_at: InstrumentedAttribute[datetime | None],
                   grace: timedelta, batch: int) -> Sequence[Pending]:
    """The oldest rows not yet done that the API has had `grace` to do, locked for this pass
    (another worker's relay skips them)."""
    cutoff = datetime.now(UTC) - grace
    return (await session.execute(
        select(model).where(done_at.is_(None), model.created_at <= cutoff)
        .order_by(model.created_at).limit(batch).with_for_update(skip_locked=True)
    )).scalars().all()


async def relay_pending_starts(
    sessionmaker: async_sessionmaker[AsyncSession], client: Client, *, grace: timedelta = GRACE, batch: int = 100
) -> int:
    """One pass: start every overdue pending workflow; return how many were handled."""
    handled = 0
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for row in await _overdue(session, PendingWorkflowStart, PendingWorkflowStart.started_at, grace, batch):
            row.attempts += 1
            try:
                started = await start_once(
                    client, workflow_type=row.workflow_type, workflow_id=row.workflow_id,
                    task_queue=row.task_queue, payload=row.payload,
                    search_attributes=row.search_attributes, memo=row.memo,
                )
            except Exception as exc:  # keep the row for the next pass, with the reason
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("could not start %s: %s", row.workflow_id, exc)
                continue
            row.started_at = datetime.now(UTC)
            row.last_error = None
            handled += 1
            log.info("relay %s workflow %s", "started" if started else "found running", row.workflow_id)
    return handled


async def relay_pending_signals(
    sessionmaker: async_sessionmaker[AsyncSession], client: Client, *, grace: timedelta = GRACE, batch: int = 100
) -> int:
    """One pass: send every overdue signal, in the order they were written; return how many."""
    handled = 0
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for row in await _overdue(session, PendingWorkflowSignal, PendingWorkflowSignal.sent_at, grace, batch):
            row.attempts += 1
            try:
                row.last_error = await deliver_signal(client, row.workflow_id, row.signal, row.payload)
            except Exception as exc:  # keep the row for the next pass, with the reason
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("could not signal %s (%s): %s", row.workflow_id, row.signal, exc)
                continue
            row.sent_at = datetime.now(UTC)
            handled += 1
            log.info("relay sent %s to %s%s", row.signal, row.workflow_id,
                     f" ({row.last_error})" if row.last_error else "")
    return handled


async def run_relay(
    sessionmaker: async_sessionmaker[AsyncSession], client: Client, *, every: float = 5.0
) -> None:
    while True:
        try:
            await relay_pending_starts(sessionmaker, client)
            await relay_pending_signals(sessionmaker, client)
        except Exception:
            log.exception("workflow start and signal relay pass failed")
        await asyncio.sleep(every)


async def run_webhook_relay(
    sessionmaker: async_sessionmaker[AsyncSession], client: Client, *, every: float = 3.0
) -> None:
    """Acts on stored Razorpay webhook events that the API did not get to (it died, or Temporal
    was away): every event is acted on at least once."""
    from api.services.payment_events import process_pending_events

    while True:
        try:
            done = await process_pending_events(sessionmaker, client)
            if done:
                log.info("webhook relay processed %d stored events", done)
        except Exception:
            log.exception("webhook relay pass failed")
        await asyncio.sleep(every)
