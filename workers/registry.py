"""Which workflows and activities run on the Muhurta task queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.notifications import NotificationActivities
from activities.onboarding import OnboardingActivities
from core.settings import Settings
from workflows.notifications import BroadcastWorkflow, NotifyWorkflow
from workflows.onboarding import OnboardingWorkflow

WORKFLOWS: Sequence[type] = (OnboardingWorkflow, NotifyWorkflow, BroadcastWorkflow)


def build_activities(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> list[Callable[..., Any]]:
    notifications = NotificationActivities(sessionmaker, settings)
    onboarding = OnboardingActivities(sessionmaker, settings, notifications.notifier)
    return [
        onboarding.remind_verify, onboarding.nudge_admins, onboarding.apply_decision,
        notifications.send, notifications.broadcast_prepare, notifications.broadcast_batch,
        notifications.broadcast_finish,
    ]


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox re-imports workflow code per run; our pure modules and pydantic pass through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("pydantic", "domain")
    )
