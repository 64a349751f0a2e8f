"""OnboardingWorkflow (`onboarding-<tenant id>`): from a consultant's sign-up to approval or rejection.

It waits for the email to be verified (signal) and for a platform admin's decision (update,
validated: one decision only, a rejection needs a reason). A day without verification sends
one reminder; while an application waits for a decision, admins are nudged once a day. The
verification signal is sent after the API's commit and can be lost: from the first day on, the
workflow also looks for the verification in the database, once a day for two weeks.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.onboarding import (
        ADMIN_NUDGE_EVERY,
        APPLY_DECISION,
        EMAIL_VERIFIED_AT,
        MAX_ADMIN_NUDGES,
        NUDGE_ADMINS,
        REMIND_VERIFY,
        TELL_DECISION,
        VERIFICATION_CHECKS,
        VERIFY_REMINDER_AFTER,
        AdminNudge,
        ApplyDecision,
        OnboardingDecision,
        OnboardingInput,
        OnboardingRef,
        OnboardingState,
        OnboardingStatus,
    )
    from workflows.outbox import Outbox
    from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# workflow.patched id: the owner's email, reminders and admin nudges leave through the outbox, so
# `decide` answers once the tenant is decided and no timer waits on a provider.
MESSAGES_AFTER_THE_ANSWER = "onboarding-messages-after-the-answer"


@workflow.defn(name="Onboarding")
class OnboardingWorkflow:
    @workflow.init
    def __init__(self, inp: OnboardingInput) -> None:
        self._ref = OnboardingRef(
            workflow_id=workflow.info().workflow_id,
            tenant_id=inp.tenant_id,
            owner_user_id=inp.owner_user_id,
        )
        now = workflow.now()
        self._state = OnboardingState(
            tenant_id=inp.tenant_id,
            status=OnboardingStatus.AWAITING_APPROVAL if inp.email_verified else OnboardingStatus.AWAITING_VERIFICATION,
            started_at=now,
            email_verified_at=now if inp.email_verified else None,
        )
        self._deciding = False
        self._outbox = Outbox()
        self._messages_in_background = workflow.patched(MESSAGES_AFTER_THE_ANSWER)

    @workflow.run
    async def run(self, inp: OnboardingInput) -> OnboardingState:
        self._publish_status()
        await asyncio.gather(self._remind_to_verify(), self._nudge_admins())
        await workflow.wait_condition(lambda: self._decided and workflow.all_handlers_finished())
        await self._outbox.drained()
        return self._state

    async def _send(self, step: str, activity: str, arg: object, result_type: type) -> None:
        if self._messages_in_background:
            self._outbox.post(step, activity, arg, result_type=result_type)
        else:  # a history from before the outbox: sent where it was asked for
            await workflow.execute_activity(activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT,
                                            retry_policy=ACTIVITY_RETRY)

    @property
    def _verified(self) -> bool:
        return self._state.email_verified_at is not None

    @property
    def _decided(self) -> bool:
        return self._state.status in (OnboardingStatus.APPROVED, OnboardingStatus.REJECTED)

    async def _remind_to_verify(self) -> None:
        try:
            await workflow.wait_condition(
                lambda: self._verified or self._deciding, timeout=VERIFY_REMINDER_AFTER
            )
            return
        except TimeoutError:
            pass
        reads_database = workflow.patched("onboarding-finds-lost-verification")
        if reads_database and await self._found_verification():
            return
        await self._send("verify-reminder", REMIND_VERIFY, self._ref, bool)
        self._state.verification_reminders += 1
        for _ in range(VERIFICATION_CHECKS - 1 if reads_database else 0):
            try:
                await workflow.wait_condition(
                    lambda: self._verified or self._deciding, timeout=VERIFY_REMINDER_AFTER
                )
                return
            except TimeoutError:
                if await self._found_verification():
                    return

    async def _found_verification(self) -> bool:
        """Did the owner verify without the signal reaching us? Then act as if it had."""
        verified_at = await workflow.execute_activity(
            EMAIL_VERIFIED_AT, self._ref, result_type=datetime | None,  # type: ignore[arg-type]
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
        )
        if verified_at is None:
            return False
        workflow.logger.info("email verification found in the database (its signal never arrived)")
        self.email_verified(verified_at)
        return True

    async def _nudge_admins(self) -> None:
        # The application is complete once the email is verified; from then on it waits on us.
        await workflow.wait_condition(lambda: self._verified or self._deciding)
        waiting_since = self._state.email_verified_at or workflow.now()
        while not self._deciding and self._state.admin_nudges < MAX_ADMIN_NUDGES:
            try:
                await workflow.wait_condition(lambda: self._deciding, timeout=ADMIN_NUDGE_EVERY)
            except TimeoutError:
                number = self._state.admin_nudges + 1
                await self._send(f"admin-nudge:{number}", NUDGE_ADMINS,
                                 AdminNudge(ref=self._ref, number=number, waiting_since=waiting_since), int)
                self._state.admin_nudges = number

    def _publish_status(self) -> None:
        workflow.upsert_search_attributes([
            TENANT_ID.value_set(str(self._state.tenant_id)),
            ENTITY_STATUS.value_set(self._state.status.value),
        ])

    @workflow.signal
    def email_verified(self, at: datetime) -> None:
        if self._verified:
            return
        self._state.email_verified_at = at
        if self._state.status == OnboardingStatus.AWAITING_VERIFICATION:
            self._state.status = OnboardingStatus.AWAITING_APPROVAL
            self._publish_status()

    @workflow.update
    async def decide(self, decision: OnboardingDecision) -> OnboardingState:
        self._deciding = True
        step = ApplyDecision(ref=self._ref, decision=decision, tell_owner=not self._messages_in_background)
        await workflow.execute_activity(APPLY_DECISION, step, start_to_close_timeout=ACTIVITY_TIMEOUT,
                                        retry_policy=ACTIVITY_RETRY)
        if self._messages_in_background:
            self._outbox.post("decision", TELL_DECISION, step.model_copy(update={"tell_owner": True}),
                              result_type=bool)
        self._state.status = OnboardingStatus.APPROVED if decision.approve else OnboardingStatus.REJECTED
        self._state.decided_at = workflow.now()
        self._state.decided_by = decision.actor_user_id
        self._state.reason = decision.reason
        self._publish_status()
        return self._state

    @decide.validator
    def _validate_decision(self, decision: OnboardingDecision) -> None:
        if self._deciding or self._decided:
            raise ApplicationError(
                f"this consultancy was already {self._state.status.value.replace('_', ' ')}",
                non_retryable=True,
            )
        if not decision.approve and not (decision.reason and decision.reason.strip()):
            raise ApplicationError(
                "say why the application is rejected: the consultant is told", {"field": "reason"},
                non_retryable=True,
            )

    @workflow.query
    def state(self) -> OnboardingState:
        return self._state
