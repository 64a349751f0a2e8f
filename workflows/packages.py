"""SessionPackageWorkflow (`package-<grant id>`): a package's credits from purchase to expiry.

    active ──(remind_at: credits left → reminder through the outbox)──► active
    active ──(expires_at)──► expired   (what is left goes: ledger move `expire`)
    active ──(revoke: the order was refunded or compensated)──► revoked

Started by the Order workflow's package handler once the paid line's credits are granted
(activity `packages.grant_credits`). Bookings take and give back credits in the database
(row-locked counter + ledger), not through this workflow, so booking never waits on it; the
workflow only keeps the timers. The reminder is posted to the outbox: it never delays expiry.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.packages import (
        CREDITS_LEFT,
        EXPIRE_CREDITS,
        EXPIRING_EVENT,
        NOTIFY_PACKAGE,
        CreditsLeft,
        GrantRef,
        GrantStatus,
        PackageInput,
        PackageNotice,
        PackageState,
    )
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


@workflow.defn(name="SessionPackage")
class SessionPackageWorkflow:
    @workflow.init
    def __init__(self, inp: PackageInput) -> None:
        self._ref = GrantRef(grant_id=inp.grant_id, tenant_id=inp.tenant_id, workflow_id=workflow.info().workflow_id)
        self._state = PackageState(grant_id=inp.grant_id, status=GrantStatus.ACTIVE, expires_at=inp.expires_at,
                                   remind_at=inp.remind_at)
        self._revoked: str | None = None
        self._outbox = Outbox()

    @workflow.run
    async def run(self, inp: PackageInput) -> PackageState:
        self._publish(inp)
        if inp.remind_at is not None and await self._until(inp.remind_at):
            left = await workflow.execute_activity(CREDITS_LEFT, self._ref, result_type=CreditsLeft,
                                                   start_to_close_timeout=ACTIVITY_TIMEOUT,
                                                   retry_policy=ACTIVITY_RETRY)
            if left.status == GrantStatus.ACTIVE and left.left > 0:
                self._outbox.post("expiring", NOTIFY_PACKAGE,
                                  PackageNotice(ref=self._ref, event=EXPIRING_EVENT, step="expiring"),
                                  result_type=int)
                self._state.reminded = True
        if await self._until(inp.expires_at):
            self._state.left_at_end = await workflow.execute_activity(
                EXPIRE_CREDITS, self._ref, result_type=int, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY)
            self._state.status = GrantStatus.EXPIRED
        else:
            self._state.status = GrantStatus.REVOKED  # the order's handler closed the grant itself
        self._publish(inp)
        await self._outbox.drained()
        return self._state

    async def _until(self, when: datetime) -> bool:
        """Sleep until `when`; False if the grant was revoked meanwhile."""
        remaining = when - workflow.now()
        if remaining > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._revoked is not None, timeout=remaining)
        return self._revoked is None

    def _publish(self, inp: PackageInput) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(inp.tenant_id)), CLIENT_ID.value_set(str(inp.client_id)),
            ENTITY_STATUS.value_set(self._state.status.value)])
        workflow.upsert_memo({"summary": f"Session package {str(inp.grant_id)[:8]}: {self._state.status.value}, "
                                         f"expires {inp.expires_at:%Y-%m-%d %H:%M} UTC"})

    @workflow.signal
    def revoke(self, reason: str) -> None:
        self._revoked = reason or "revoked"

    @workflow.query
    def state(self) -> PackageState:
        return self._state
