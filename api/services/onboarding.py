"""Reading and deciding consultant onboarding through its workflow."""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.admin import OnboardingView
from api.state import AppState
from domain.onboarding import OnboardingDecision, OnboardingState, onboarding_workflow_id
from models.tenancy import Tenant

log = logging.getLogger(__name__)


async def onboarding_view(state: AppState, tenant: Tenant) -> OnboardingView:
    """The tenant's status from the database, with the live workflow's state when reachable."""
    workflow_id = onboarding_workflow_id(tenant.id)
    live: OnboardingState | None = None
    if state.temporal is not None:
        try:
            handle = state.temporal.get_workflow_handle(workflow_id)
            live = await handle.query("state", result_type=OnboardingState)
        except RPCError as exc:
            log.info("onboarding state of %s not available: %s", tenant.id, exc)
    return OnboardingView(workflow_id=workflow_id, tenant_status=tenant.status.value, workflow=live)


async def decide(client: Client, tenant: Tenant, decision: OnboardingDecision) -> OnboardingState:
    """Send the decision as a workflow Update: validated by the workflow, answered synchronously."""
    handle = client.get_workflow_handle(onboarding_workflow_id(tenant.id))
    state: OnboardingState = await handle.execute_update("decide", decision, result_type=OnboardingState)
    return state
