"""Personal data requests as workflows: an export (`privacy-export-<id>`) and an erasure
(`privacy-erasure-<id>`), each started by the API after the request's row commits.

Export::

    running ──build archive──▶ ready ──(link expires: EXPORT_LINK_VALID)──▶ expired
       │                         └─ the client is told in the background (Outbox)
       └──(archive cannot be built)──▶ failed

Erasure::

    running ──cancel memberships (Razorpay, in their workflows)──▶ stop the client's other workflows
            ──▶ erase rows, files, copies ──▶ done
       └──(erasure keeps failing)──▶ failed (nothing half done: the rows change in one transaction)

Both carry `TenantId`, `ClientId` and `EntityStatus` (never names or emails: search attributes
are not encrypted) and a memo, and answer the `state` query with ids, statuses and counts.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.privacy.requests import (
        BUILD_ARCHIVE,
        DELETE_ARCHIVE,
        END_MEMBERSHIPS,
        ERASE_CLIENT,
        EXPORT_LINK_VALID,
        NOTIFY_EXPORT_READY,
        PRIVACY_ERASURE_WORKFLOW,
        PRIVACY_EXPORT_WORKFLOW,
        RECORD_STATUS,
        STOP_WORKFLOWS,
        ArchiveBuilt,
        ErasureDone,
        PrivacyInput,
        PrivacyState,
        PrivacyStatus,
        StatusChange,
        StopWorkflows,
    )
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5), maximum_attempts=8)
WORK_TIMEOUT = timedelta(minutes=15)  # gathering or erasing a client with years of history
RECORD_TIMEOUT = timedelta(seconds=30)


class _PrivacyBase:
    def __init__(self, inp: PrivacyInput) -> None:
        self._inp = inp
        self._state = PrivacyState(request_id=inp.request_id, kind=inp.kind, status=PrivacyStatus.RUNNING)

    @workflow.query
    def state(self) -> PrivacyState:
        return self._state

    async def _moved(self, status: PrivacyStatus, *, archive: ArchiveBuilt | None = None,
                     expires_in: timedelta | None = None) -> None:
        self._state.status = status
        workflow.upsert_search_attributes([ENTITY_STATUS.value_set(status.value)])
        workflow.upsert_memo({"summary": f"{self._inp.kind.value} of client {self._inp.client_id}: {status.value}"})
        await workflow.execute_activity(
            RECORD_STATUS, StatusChange(request_id=self._inp.request_id, tenant_id=self._inp.tenant_id, status=status,
                                        summary=self._state.summary or None, archive=archive,
                                        expires_in_seconds=int(expires_in.total_seconds()) if expires_in else None),
            start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)))

    def _publish(self) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(self._inp.tenant_id)), CLIENT_ID.value_set(str(self._inp.client_id)),
            ENTITY_STATUS.value_set(self._state.status.value)])


@workflow.defn(name=PRIVACY_EXPORT_WORKFLOW)
class PrivacyExportWorkflow(_PrivacyBase):
    @workflow.init
    def __init__(self, inp: PrivacyInput) -> None:
        super().__init__(inp)
        self._outbox = Outbox()
        self._state.messages = self._outbox.recent  # the query shows the ready message's fate

    @workflow.run
    async def run(self, inp: PrivacyInput) -> PrivacyState:
        self._publish()
        try:
            archive = await workflow.execute_activity(BUILD_ARCHIVE, inp, result_type=ArchiveBuilt,
                                                      start_to_close_timeout=WORK_TIMEOUT, retry_policy=RETRY)
        except ActivityError:
            await self._moved(PrivacyStatus.FAILED)
            return self._state
        self._state.summary = {**archive.tables, "files": archive.files}
        await self._moved(PrivacyStatus.READY, archive=archive, expires_in=EXPORT_LINK_VALID)
        self._outbox.post("ready", NOTIFY_EXPORT_READY, inp)
        await workflow.sleep(EXPORT_LINK_VALID)
        await workflow.execute_activity(DELETE_ARCHIVE, inp, result_type=bool,
                                        start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RETRY)
        await self._moved(PrivacyStatus.EXPIRED)
        await self._outbox.drained()
        return self._state


@workflow.defn(name=PRIVACY_ERASURE_WORKFLOW)
class PrivacyErasureWorkflow(_PrivacyBase):
    @workflow.init
    def __init__(self, inp: PrivacyInput) -> None:
        super().__init__(inp)

    @workflow.run
    async def run(self, inp: PrivacyInput) -> PrivacyState:
        self._publish()
        ended = 0
        try:
            if workflow.patched("erasure-ends-memberships"):  # erasures started before it replay unchanged
                ended = await workflow.execute_activity(
                    END_MEMBERSHIPS, inp, result_type=int, start_to_close_timeout=WORK_TIMEOUT,
                    heartbeat_timeout=timedelta(minutes=1), retry_policy=RETRY)
            stopped = await workflow.execute_activity(
                STOP_WORKFLOWS, StopWorkflows(tenant_id=inp.tenant_id, client_id=inp.client_id,
                                              reason=f"the client's personal data is erased ({inp.request_id})"),
                result_type=int, start_to_close_timeout=WORK_TIMEOUT, heartbeat_timeout=timedelta(minutes=1),
                retry_policy=RETRY)
            done = await workflow.execute_activity(ERASE_CLIENT, inp, result_type=ErasureDone,
                                                   start_to_close_timeout=WORK_TIMEOUT, retry_policy=RETRY)
        except ActivityError:
            await self._moved(PrivacyStatus.FAILED)
            return self._state
        self._state.summary = {**done.tables, "files": done.files_deleted, "workflows_stopped": stopped,
                              "memberships_cancelled": ended}
        await self._moved(PrivacyStatus.DONE)
        return self._state
