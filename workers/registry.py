"""Which workflows and activities run on the Muhurta task queue."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.analytics.rollup import AnalyticsActivities
from activities.consultation import ConsultationActivities
from activities.courses.enrollment import EnrollmentActivities
from activities.courses.messages import CourseMessageActivities
from activities.housekeeping import HousekeepingActivities
from activities.memberships import MembershipActivities
from activities.notifications import NotificationActivities
from activities.onboarding import OnboardingActivities
from activities.packages import PackageActivities
from activities.payments.orders import PaymentActivities
from activities.privacy.erasure import PrivacyErasureActivities
from activities.privacy.export import PrivacyExportActivities
from activities.privacy.retention import RetentionActivities
from activities.quotations.lifecycle import QuotationActivities
from activities.quotations.messages import QuotationMessageActivities
from activities.remedies.messages import RemedyMessageActivities
from activities.remedies.programme import RemedyActivities
from activities.report_delivery import ReportDeliveryActivities
from activities.support import SupportActivities
from core.security import Keys
from core.settings import Settings
from workers.sandbox_code import share_workflow_code
from workflows.analytics import AnalyticsRollupWorkflow
from workflows.consultation import ConsultationWorkflow
from workflows.enrollment import EnrollmentWorkflow
from workflows.fulfilment import configure_fulfilment
from workflows.housekeeping import HousekeepingWorkflow
from workflows.membership import MembershipWorkflow
from workflows.notifications import BroadcastWorkflow, NotifyWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.orders import OrderWorkflow
from workflows.packages import SessionPackageWorkflow
from workflows.privacy import PrivacyErasureWorkflow, PrivacyExportWorkflow
from workflows.quotation import QuotationWorkflow
from workflows.reconciliation import ReconciliationWorkflow
from workflows.remedy import RemedyWorkflow
from workflows.report_delivery import ReportDeliveryWorkflow
from workflows.retention import RetentionSweepWorkflow
from workflows.support import ResendMessageWorkflow

WORKFLOWS: Sequence[type] = (
    OnboardingWorkflow, NotifyWorkflow, BroadcastWorkflow, ReportDeliveryWorkflow, ConsultationWorkflow,
    OrderWorkflow, ReconciliationWorkflow, HousekeepingWorkflow, EnrollmentWorkflow, QuotationWorkflow,
    RemedyWorkflow, PrivacyExportWorkflow, PrivacyErasureWorkflow, RetentionSweepWorkflow, ResendMessageWorkflow,
    AnalyticsRollupWorkflow, SessionPackageWorkflow, MembershipWorkflow,
)

# Fulfilment starts child workflows only for kinds whose workflow type this worker runs.
configure_fulfilment(getattr(w, "__temporal_workflow_definition").name for w in WORKFLOWS)


def build_activities(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, keys: Keys | None = None
) -> list[Callable[..., Any]]:
    notifications = NotificationActivities(sessionmaker, settings)
    onboarding = OnboardingActivities(sessionmaker, settings, notifications.notifier)
    reports = ReportDeliveryActivities(sessionmaker, settings, notifications.notifier)
    consultation = ConsultationActivities(sessionmaker, settings, notifier=notifications.notifier)
    payments = PaymentActivities(sessionmaker, settings, keys or Keys.from_settings(settings),
                                 notifier=notifications.notifier)
    return [
        onboarding.remind_verify, onboarding.email_verified_at, onboarding.nudge_admins, onboarding.apply_decision,
        onboarding.tell_decision,
        notifications.send, notifications.broadcast_prepare, notifications.broadcast_batch,
        notifications.broadcast_finish,
        reports.ensure_delivery, reports.alert_consultant, reports.deliver, reports.record_opened,
        reports.record_by_hand, reports.send_alert, reports.send_delivered,
        consultation.confirm, consultation.expire_hold, consultation.move, consultation.cancel,
        consultation.record_outcome, consultation.notify, consultation.quiet_hours_end,
        *payments.all(),
        *course_activities(sessionmaker, settings, notifications),
        *QuotationActivities(sessionmaker).all(),
        QuotationMessageActivities(sessionmaker, settings, notifications.notifier).notify,
        *remedy_activities(sessionmaker, settings, notifications),
        HousekeepingActivities(sessionmaker).purge_idempotency_records,
        *privacy_activities(sessionmaker, settings, notifications),
        *PackageActivities(sessionmaker, settings, notifications.notifier).all(),
        *MembershipActivities(sessionmaker, settings, keys or Keys.from_settings(settings),
                              notifications.notifier).all(),
        SupportActivities(notifications.notifier).resend_message,
        *analytics_activities(sessionmaker, settings),
    ]


def analytics_activities(sessionmaker: async_sessionmaker[AsyncSession],
                         settings: Settings) -> list[Callable[..., Any]]:
    rollup = AnalyticsActivities(sessionmaker, settings)
    return [rollup.register_zones, rollup.flush_views, rollup.roll_up]


def privacy_activities(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                       notifications: NotificationActivities) -> list[Callable[..., Any]]:
    export = PrivacyExportActivities(sessionmaker, settings, notifications.notifier)
    erasure = PrivacyErasureActivities(sessionmaker, settings)
    return [export.build_archive, export.delete_archive, export.record_status, export.notify_export_ready,
            erasure.end_memberships, erasure.stop_client_workflows, erasure.erase_client,
            RetentionActivities(sessionmaker, settings, erasure.storage).sweep_batch]


def course_activities(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                      notifications: NotificationActivities) -> list[Callable[..., Any]]:
    enrollment = EnrollmentActivities(sessionmaker)
    messages = CourseMessageActivities(sessionmaker, settings, notifications.notifier)
    return [enrollment.begin, enrollment.sync, enrollment.complete_lesson, enrollment.grade_quiz,
            enrollment.early_access, enrollment.extend_access, enrollment.end_access,
            messages.notify, messages.check_inactivity, messages.issue_certificate]


def remedy_activities(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                      notifications: NotificationActivities) -> list[Callable[..., Any]]:
    programme = RemedyActivities(sessionmaker)
    messages = RemedyMessageActivities(sessionmaker, settings, notifications.notifier)
    return [programme.begin, programme.save, programme.check_in, programme.missed, messages.notify]


class _ValidatingRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox, with its start-up validation made safe from a CPython 3.11 import race.

    A worker validates each workflow by importing its module in the sandbox. On Python 3.11 an
    import re-entered at the wrong moment (a garbage-collector finalizer that imports, while
    another thread holds the module's lock) makes importlib raise `KeyError(<thread id>)` from its
    deadlock bookkeeping (CPython gh-91351, fixed in 3.12), and the worker refuses to start with
    "Failed validating workflow". The collector is paused while a workflow is validated (a few
    milliseconds), and that one error is retried a few times; any other error is raised as is.
    """

    def prepare_workflow(self, defn: Any) -> None:
        for attempt in range(3):
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                super().prepare_workflow(defn)
                return
            except KeyError as exc:
                if attempt == 2 or not (exc.args and isinstance(exc.args[0], int)):
                    raise
            finally:
                if was_enabled:
                    gc.enable()


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox re-imports workflow code per run; our pure modules, pydantic, the fulfilment
    registry (one per worker process) and OpenTelemetry pass through. The workflow modules are
    compiled once per process and executed per run (workers.sandbox_code): same restrictions, same
    per-run module state, one copy of their bytecode."""
    share_workflow_code()
    return _ValidatingRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "pydantic", "domain", "workflows.fulfilment",
            "opentelemetry")  # the tracing interceptor's context and tracer: one per process, not per run
    )
