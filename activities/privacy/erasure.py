"""An erasure: stop the client's workflows, then erase or anonymise what names them, everywhere.

Before anything is erased, each live membership is cancelled through its own workflow's `cancel`
update (`end_memberships`): the membership ends now and its workflow cancels the Razorpay
subscription in the background with bounded retries, so the client is never charged again. A live
membership whose workflow is gone (completed, terminated) gets a new run resumed from its row that
takes the same update first (update-with-start). Those workflows are then left to finish; every
other running workflow of the client is terminated.

Order of work (one database transaction for the rows, so a failure leaves nothing half done and
the retried activity starts again):
1. the client's files are deleted from the storage (idempotent: a missing object is fine);
2. linked rows, children first, by their table's rule (catalogue.RULES): deleted, scrubbed,
   kept, or detached;
3. the user row is anonymised (it stays: invoices point at it), sign-ins revoked;
4. the sweep: in every text and JSON column of the tenant's tables, the client's email, phone
   and full names (theirs, and those on their birth profiles) are replaced by `[erased]` — this
   reaches copies nobody linked (an invoice's HTML, a gateway's webhook body, a message log).
   A one-word name is not swept (it would also erase ordinary words in the consultancy's texts);
   the rows that name the client by id are already gone or scrubbed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Table, Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import WithStartWorkflowOperation, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from activities.payments.invoice import render_invoice_pdf
from activities.privacy.catalogue import SCRUBBED, Erase, Link, client_links, json_columns, rule_for, text_columns
from activities.privacy.gather import addresses_of
from core.db import TenantScope, scoped_session
from core.settings import Settings
from core.storage import FileStorage, ObjectMissing, build_storage
from core.workflow_starts import keyword_attributes
from domain.courses.enrollment import LIVE as LIVE_ENROLMENT
from domain.memberships import LIVE as LIVE_MEMBERSHIP
from domain.memberships import (
    MEMBERSHIP_WORKFLOW,
    CancelRequest,
    MembershipInput,
    MembershipState,
    MembershipStatus,
    PlanTerms,
    course_enrollment_id,
    membership_workflow_id,
)
from domain.privacy.requests import (
    END_MEMBERSHIPS,
    ERASE_CLIENT,
    ERASED_MARK,
    ERASED_NAME,
    PRIVACY_ERASURE_WORKFLOW,
    STOP_WORKFLOWS,
    ErasureDone,
    PrivacyInput,
    PrivacyStatus,
    StopWorkflows,
)
from models import Base
from models.astrology import BirthProfile
from models.courses import Enrollment
from models.files import StoredFile
from models.identity import User
from models.memberships import Membership
from models.platform import IdempotencyRecord
from models.privacy import PrivacyRequest
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

log = logging.getLogger(__name__)
SHORTEST_NAME = 6


def erased_email(client_id: uuid.UUID) -> str:
    return f"erased-{client_id}@erased.invalid"


def _is_full_name(name: str) -> bool:
    """A name safe to replace wherever it is written: two words or more, six letters or more.
    A single word ("Ravi") would also erase "Ravivar" in the consultancy's own texts."""
    return len(name.split()) >= 2 and len(name) >= SHORTEST_NAME


async def personal_strings(session: AsyncSession, client_id: uuid.UUID) -> list[str]:
    """What identifies the client when written out: email and phone, their full name and the
    names on their birth profiles (places are not swept: "Delhi" identifies nobody)."""
    user = await session.get(User, client_id)
    found: set[str] = set()
    names: list[str] = []
    if user is not None and not user.email.endswith("@erased.invalid"):
        found.update(a for a in (user.email, user.phone) if a)
        names.append(user.full_name)
    names.extend((await session.execute(select(BirthProfile.full_name).where(
        BirthProfile.client_id == client_id))).scalars())
    found.update(name.strip() for name in names if name and _is_full_name(name.strip()))
    # longest first, so "Asha Verma Rao" goes before a shorter string it contains
    return sorted(found, key=len, reverse=True)


class PrivacyErasureActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 storage: FileStorage | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.storage = storage or build_storage(settings)

    @activity.defn(name=END_MEMBERSHIPS)
    async def end_memberships(self, inp: PrivacyInput) -> int:
        """Cancel each live membership now through its workflow (which cancels the Razorpay
        subscription after answering, with bounded retries); how many were cancelled.

        A live row whose workflow is gone (completed, terminated, never started) gets a new run of
        that workflow, resumed from the row, with the cancellation as its first update
        (update-with-start): the same code then ends it, cancels Razorpay's subscription with the
        usual retries and revokes what is left, so no subscription outlives its client."""
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            live = (await session.execute(select(Membership).where(
                Membership.client_id == inp.client_id,
                Membership.status.in_([s.value for s in LIVE_MEMBERSHIP])))).scalars().all()
            runs = await _resumed_runs(session, list(live))
        client = activity.client()
        cancelled = 0
        for run in runs:
            start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
                MEMBERSHIP_WORKFLOW, run, id=membership_workflow_id(run.membership_id),
                task_queue=self.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,  # running: just the update
                search_attributes=keyword_attributes({
                    TENANT_ID.name: str(run.tenant_id), CLIENT_ID.name: str(run.client_id),
                    ENTITY_STATUS.name: run.resume.status.value if run.resume else "pending"}),
                memo={"summary": f"Membership {run.terms.title[:60]}: cancelled (erasure)"})
            try:  # the update id makes a retried activity find its first answer
                await client.execute_update_with_start_workflow(
                    "cancel", CancelRequest(at_period_end=False, erasure=True), start_workflow_operation=start,
                    id=f"privacy-erasure-{inp.request_id}", result_type=MembershipState)
                cancelled += 1
            except WorkflowUpdateFailedError as exc:  # it ended meanwhile: nothing left to cancel
                log.info("membership %s not cancelled: %s", run.membership_id, exc.cause)
            activity.heartbeat(cancelled)
        return cancelled

    @activity.defn(name=STOP_WORKFLOWS)
    async def stop_client_workflows(self, inp: StopWorkflows) -> int:
        """Terminate every running workflow of this client (found by its search attributes)."""
        client = activity.client()
        query = (f"TenantId = '{inp.tenant_id}' AND ClientId = '{inp.client_id}' AND ExecutionStatus = 'Running'"
                 f" AND WorkflowType != '{PRIVACY_ERASURE_WORKFLOW}'"
                 # memberships were cancelled by end_memberships: theirs is to cancel Razorpay's
                 # subscription, which they finish on their own
                 f" AND WorkflowType != '{MEMBERSHIP_WORKFLOW}'")
        stopped = 0
        async for execution in client.list_workflows(query):
            if execution.status != WorkflowExecutionStatus.RUNNING:
                continue
            try:
                await client.get_workflow_handle(execution.id, run_id=execution.run_id).terminate(reason=inp.reason)
                stopped += 1
            except Exception as exc:  # already closed meanwhile: nothing to stop
                log.info("workflow %s not terminated: %s", execution.id, exc)
            activity.heartbeat(stopped)
        return stopped

    @activity.defn(name=ERASE_CLIENT)
    async def erase_client(self, inp: PrivacyInput) -> ErasureDone:
        files_deleted = await self._delete_files(inp) + await self._delete_exports(inp)
        counts: Counter[str] = Counter()
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            strings = await personal_strings(session, inp.client_id)
            addresses = await addresses_of(session, inp.client_id)
            await self._apply_rules(session, inp.client_id, addresses, counts)
            await self._anonymise_user(session, inp.client_id)
            counts["idempotency_records"] += await _changed(session, delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == f"user:{inp.client_id}"))  # stored answers to the client's requests
            counts["users"] += 1
            await self._sweep(session, inp.tenant_id, strings, counts)
            await self._remake_invoice_pdfs(session, inp.client_id)
        return ErasureDone(tables=dict(counts), files_deleted=files_deleted)

    async def _delete_exports(self, inp: PrivacyInput) -> int:
        """Archives of earlier exports go too (their workflows were stopped before their expiry)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            exports = (await session.execute(select(PrivacyRequest).where(
                PrivacyRequest.client_id == inp.client_id, PrivacyRequest.archive_key.is_not(None)))).scalars().all()
            for export in exports:
                if export.archive_key:
                    with contextlib.suppress(ObjectMissing):
                        await self.storage.delete(export.archive_key)
                export.archive_key, export.status = None, PrivacyStatus.EXPIRED.value
            return len(exports)

    async def _delete_files(self, inp: PrivacyInput) -> int:
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            keys = (await session.execute(select(StoredFile.storage_key).where(
                StoredFile.tenant_id == inp.tenant_id,
                or_(StoredFile.client_id == inp.client_id, StoredFile.uploaded_by == inp.client_id)))).scalars().all()
        for key in keys:
            with contextlib.suppress(ObjectMissing):
                await self.storage.delete(key)
        return len(keys)

    def _condition(self, link: Link, client_id: uuid.UUID, addresses: list[str]) -> Any:
        if link.parent is None:
            condition = link.column == client_id
            if addresses and "recipient" in link.table.c:
                condition = or_(condition, link.table.c.recipient.in_(addresses))
            return condition
        parent_pk = next(iter(link.parent.table.primary_key.columns))
        return link.column.in_(select(parent_pk).where(link.parent.column == client_id))

    async def _apply_rules(self, session: AsyncSession, client_id: uuid.UUID, addresses: list[str],
                           counts: Counter[str]) -> None:
        links = client_links()
        # children first, so deleting a parent never meets a row that still points at it: level-2
        # links, then level-1 ones against the tables' dependency order
        level1 = [link for link in links if link.parent is None]
        ordered = [link for link in links if link.parent is not None] + level1[::-1]
        for link in ordered:
            rule = rule_for(link)
            condition = self._condition(link, client_id, addresses)
            if rule == Erase.KEEP:
                continue
            if rule == Erase.DETACH:
                if link.column.nullable:
                    counts[link.name] += await _changed(
                        session, update(link.table).where(condition).values({link.column: None}))
                continue
            if rule == Erase.SCRUB:
                counts[link.name] += await self._scrub(session, link, condition, client_id)
                continue
            counts[link.name] += await _changed(session, delete(link.table).where(condition))

    async def _scrub(self, session: AsyncSession, link: Link, condition: Any, client_id: uuid.UUID) -> int:
        table = link.table
        values = {table.c[name]: value for name, value in SCRUBBED.get(link.name, {}).items() if name in table.c}
        if link.name == "consents" and link.column.name == "recorded_by":
            values = {}  # a consent the client recorded for someone else keeps its evidence
        if link.column.name != "client_id" and link.column.name != "user_id" and link.column.nullable:
            values[link.column] = None  # who created or acted: the client, no longer named
        if link.name == "certificates":
            values.update({table.c.file_id: None, table.c.revoked_at: func.coalesce(table.c.revoked_at, func.now()),
                           table.c.revoke_reason: "the holder's personal data was erased"})
        if link.name == "invoices":
            rows = (await session.execute(select(table.c.id, table.c.buyer).where(condition))).all()
            for row_id, buyer in rows:
                kept = {k: v for k, v in (buyer or {}).items() if k in ("gstin", "state", "state_code", "country")}
                await session.execute(update(table).where(table.c.id == row_id).values(
                    buyer={**kept, "name": ERASED_NAME}, pdf=None))  # made again after the sweep
            return len(rows)
        if not values:
            return 0
        return await _changed(session, update(table).where(condition).values(values))

    async def _remake_invoice_pdfs(self, session: AsyncSession, client_id: uuid.UUID) -> None:
        """An invoice's PDF is made again from its swept HTML: same numbers, no name."""
        invoices = Base.metadata.tables["invoices"]
        orders = Base.metadata.tables["orders"]
        rows = (await session.execute(select(invoices.c.id, invoices.c.html).where(
            invoices.c.order_id.in_(select(orders.c.id).where(orders.c.client_id == client_id))))).all()
        for invoice_id, html in rows:
            pdf = await render_invoice_pdf(html)
            await session.execute(update(invoices).where(invoices.c.id == invoice_id).values(pdf=pdf))

    async def _anonymise_user(self, session: AsyncSession, client_id: uuid.UUID) -> None:
        await session.execute(update(User).where(User.id == client_id).values(
            email=erased_email(client_id), full_name=ERASED_NAME, phone=None, password_hash=None,
            totp_secret_encrypted=None, totp_enabled_at=None, is_active=False, timezone=None))

    async def _sweep(self, session: AsyncSession, tenant_id: uuid.UUID, strings: list[str],
                     counts: Counter[str]) -> None:
        """Replace each personal string in every text and JSON column of the tenant's rows: one
        UPDATE per table, touching only the rows where one of them is written."""
        if not strings:
            return
        for table in Base.metadata.sorted_tables:
            scope = _tenant_condition(table, tenant_id)
            if scope is None:
                continue
            values: dict[Any, Any] = {}
            found: list[Any] = []
            for column in text_columns(table):
                values[column] = _replaced(column, strings)
                found.extend(column.contains(needle, autoescape=True) for needle in strings)
            for column in json_columns(table):
                escaped = [json.dumps(needle, ensure_ascii=False)[1:-1] for needle in strings]
                as_text = cast(column, Text)
                values[column] = cast(_replaced(as_text, escaped), column.type)
                found.extend(as_text.contains(needle, autoescape=True) for needle in escaped)
            if values:
                counts[f"{table.name} (swept)"] += await _changed(
                    session, update(table).where(and_(scope, or_(*found))).values(values))


def _replaced(column: Any, needles: list[str]) -> Any:
    """`column` with every needle replaced by the erased mark (longest first: see personal_strings)."""
    expression = column
    for needle in needles:
        expression = func.replace(expression, needle, ERASED_MARK)
    return expression


async def _changed(session: AsyncSession, statement: Any) -> int:
    """Run an UPDATE or DELETE; how many rows it touched."""
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _tenant_condition(table: Table, tenant_id: uuid.UUID) -> Any:
    if "tenant_id" in table.c:
        return table.c.tenant_id == tenant_id
    if table.name == "tenants":
        return table.c.id == tenant_id
    return None



async def _resumed_runs(session: AsyncSession, rows: list[Membership]) -> list[MembershipInput]:
    """Each membership's workflow input, resumed from its row (used only when its workflow is
    gone), with the courses it still holds open: one query for all of them."""
    terms = {row.id: PlanTerms.model_validate(row.terms) for row in rows}
    opened = {course_enrollment_id(row.id, course): (row.id, course)
              for row in rows for course in terms[row.id].course_ids}
    open_now = set((await session.execute(select(Enrollment.id).where(
        Enrollment.id.in_(list(opened)), Enrollment.status.in_([s.value for s in LIVE_ENROLMENT])))).scalars())
    return [MembershipInput(
        membership_id=row.id, tenant_id=row.tenant_id, client_id=row.client_id, terms=terms[row.id],
        resume=MembershipState(
            membership_id=row.id, status=MembershipStatus(row.status), subscription_id=row.gateway_subscription_id,
            short_url=row.short_url, current_start=row.current_start, current_end=row.current_end,
            cancel_at_period_end=row.cancel_at_period_end, past_due_since=row.past_due_since,
            periods_paid=row.periods_paid, gateway_error=row.gateway_error,
            courses_open=[course for enrolment_id, (of, course) in opened.items()
                          if of == row.id and enrolment_id in open_now]))
        for row in rows]
