"""Demo remedies for `make dev`: a small catalogue and one running programme for the demo client.

Priya Client follows the Shani mantra every day for 40 days at a time a few minutes after the demo
was first seeded (IST), so her first reminder arrives while you look and there is always an
occurrence to check in to (her Remedy workflow, `remedy-<id>`, is started by the relay like every
other start); the catalogue also has a Saturday donation and an Ekadashi fast on tithis, ready to
assign or sell. Idempotent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.remedies.planning import make_plan
from domain.remedies.programme import (
    REMEDY_WORKFLOW,
    REMINDER_LEAD_SECONDS,
    ProgrammeSource,
    RemedyInput,
    RemedyState,
    remedy_workflow_id,
    summary,
)
from domain.remedies.schedule import Schedule
from models.platform import PendingWorkflowStart
from models.remedies import Remedy, RemedyProgramme
from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

ZONE = "Asia/Kolkata"
CATALOGUE: list[dict[str, Any]] = [
    {"kind": "mantra", "title": "Shani mantra, 108 times",
     "instructions_en": "Facing west, chant \"Om Sham Shanaishcharaya Namah\" 108 times with a rudraksha mala.",
     "instructions_hi": "पश्चिम की ओर मुख करके रुद्राक्ष माला से \"ॐ शं शनैश्चराय नमः\" का 108 बार जप करें।",
     "default_schedule": {"kind": "daily", "times": ["07:00"]}, "default_duration_days": 40, "price_minor": 110_000},
    {"kind": "donation", "title": "Saturday donation",
     "instructions_en": "Give black sesame and mustard oil to someone in need on Saturday morning.",
     "instructions_hi": "शनिवार की सुबह किसी ज़रूरतमंद को काले तिल और सरसों का तेल दान करें।",
     "default_schedule": {"kind": "weekdays", "times": ["09:00"], "weekdays": ["sat"]}, "default_duration_days": 49,
     "price_minor": 51_000},
    {"kind": "fasting", "title": "Ekadashi fast",
     "instructions_en": "Fast from sunrise on Ekadashi; break it after sunrise the next day.",
     "instructions_hi": "एकादशी को सूर्योदय से व्रत रखें; अगले दिन सूर्योदय के बाद पारण करें।",
     "default_schedule": {"kind": "tithis", "times": ["07:30"], "tithis": ["ekadashi"]}, "default_duration_days": 365,
     "price_minor": None},
]


async def seed_remedies(session: AsyncSession, settings: Settings, tenant_id: uuid.UUID, consultant_id: uuid.UUID,
                        client_id: uuid.UUID) -> None:
    remedies: dict[str, Remedy] = {}
    for entry in CATALOGUE:
        found = (await session.execute(select(Remedy).where(Remedy.tenant_id == tenant_id,
                                                            Remedy.title == entry["title"]))).scalar_one_or_none()
        if found is None:
            found = Remedy(tenant_id=tenant_id, currency="INR", active=True, created_by=consultant_id, **entry)
            session.add(found)
            await session.flush()
        remedies[entry["title"]] = found
    mantra = remedies["Shani mantra, 108 times"]
    if await session.scalar(select(RemedyProgramme.id).where(RemedyProgramme.client_id == client_id,
                                                              RemedyProgramme.remedy_id == mantra.id)) is not None:
        return
    local = datetime.now(UTC).astimezone(ZoneInfo(ZONE)) + timedelta(minutes=5)
    soon = (local + timedelta(minutes=-local.minute % 5)).replace(second=0, microsecond=0)  # next 5-minute mark
    plan = make_plan(Schedule(times=[soon.time()]), timezone=ZONE, start_date=soon.date(), duration_days=40,
                     occurrences=None)
    programme_id = uuid.uuid4()
    workflow_id = remedy_workflow_id(programme_id)
    session.add(RemedyProgramme(
        id=programme_id, tenant_id=tenant_id, remedy_id=mantra.id, client_id=client_id, consultant_id=consultant_id,
        source=ProgrammeSource.DIRECT.value, title=mantra.title, note="For Saturn's sade sati: every day.",
        status="active", plan=plan.model_dump(mode="json"), timezone=ZONE, start_date=plan.start_date,
        end_date=plan.end_date, workflow_id=workflow_id, counted=0, done=0, skipped=0, missed=0, streak=0,
        best_streak=0, assigned_by=consultant_id))
    inp = RemedyInput(programme_id=programme_id, tenant_id=tenant_id, client_id=client_id, consultant_id=consultant_id,
                      plan=plan, reminder_lead_seconds=REMINDER_LEAD_SECONDS)
    session.add(PendingWorkflowStart(
        tenant_id=tenant_id, workflow_id=workflow_id, workflow_type=REMEDY_WORKFLOW,
        task_queue=settings.temporal_task_queue, payload=inp.model_dump(mode="json"),
        search_attributes={TENANT_ID.name: str(tenant_id), CLIENT_ID.name: str(client_id),
                           CONSULTANT_ID.name: str(consultant_id), ENTITY_STATUS.name: "active"},
        memo={"summary": summary(RemedyState(programme_id=programme_id, client_id=client_id, plan=plan))}))
    await session.flush()
