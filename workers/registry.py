"""Which workflows and activities run on the Muhurta task queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.onboarding import OnboardingActivities
from activities.payments.orders import PaymentActivities
from core.security import Keys
from core.settings import Settings
from workflows.fulfilment import configure_fulfilment
from workflows.onboarding import OnboardingWorkflow
from workflows.orders import OrderWorkflow
from workflows.reconciliation import ReconciliationWorkflow

WORKFLOWS: Sequence[type] = (OnboardingWorkflow, OrderWorkflow, ReconciliationWorkflow)

# Fulfilment starts child workflows only for kinds whose workflow type this worker runs.
configure_fulfilment(getattr(w, "__temporal_workflow_definition").name for w in WORKFLOWS)


def build_activities(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, keys: Keys | None = None
) -> list[Callable[..., Any]]:
    onboarding = OnboardingActivities(sessionmaker, settings)
    payments = PaymentActivities(sessionmaker, settings, keys or Keys.from_settings(settings))
    return [onboarding.remind_verify, onboarding.nudge_admins, onboarding.apply_decision, *payments.all()]


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox re-imports workflow code per run; our pure modules, pydantic and the fulfilment
    registry (one per worker process) pass through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("pydantic", "domain", "workflows.fulfilment")
    )
