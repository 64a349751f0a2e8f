"""The consultancy's own astrology content: interpretive texts shown beside charts, numbers and
grids (per key and language), and the rules that suggest offerings from a client's chart.

Who may call: texts and rules are read by the consultancy's people and edited by the owner.
The calculations and birth profiles that use them are in `api/routers/astrology.py`.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import NOT_FOUND, VALIDATION, Problem
from api.schemas.astrology import (
    RuleIn,
    RuleOut,
    RulePatch,
    TextIn,
    TextLocale,
    TextOut,
    normalize_key,
)
from api.services.astrology import (
    check_offering_key,
    rule_out,
)
from models.astrology import InterpretiveText, SuggestionRule
from models.platform import record_audit

router = APIRouter(tags=["astrology"])


# --- interpretive texts --------------------------------------------------------------------------


def _key(key: str) -> str:
    try:
        return normalize_key(key)
    except ValueError as exc:
        raise Problem(VALIDATION, f"key: {exc}", field="key",
                      extra={"errors": [{"field": "key", "message": str(exc), "code": "value_error"}]}) from exc


@router.get("/astrology/texts", response_model=Page[TextOut])
async def list_texts(
    tenant: CurrentTenant, session: Session, paging: Paging,
    locale: Annotated[TextLocale | None, Query()] = None,
    prefix: Annotated[str | None, Query(max_length=60, description="e.g. driver: or nakshatra:")] = None,
    principal: Principal = require(Permission.VIEW_ASTRO_CONTENT),
) -> Page[TextOut]:
    stmt = select(InterpretiveText).where(InterpretiveText.tenant_id == tenant.id)
    if locale:
        stmt = stmt.where(InterpretiveText.locale == locale)
    if prefix:
        escaped = prefix.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(InterpretiveText.key.like(escaped + "%", escape="\\"))
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"key": InterpretiveText.key, "updated_at": InterpretiveText.updated_at},
                                  default_sort="key", id_column=InterpretiveText.id)
    return Page[TextOut](items=[TextOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.put("/astrology/texts/{key}/{locale}", response_model=TextOut)
async def put_text(
    key: str, locale: TextLocale, body: TextIn, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_ASTRO_CONTENT),
) -> TextOut:
    """Set the consultancy's text for a content key in one language (en or hi)."""
    key = _key(key)
    row = (await session.execute(select(InterpretiveText).where(
        InterpretiveText.tenant_id == tenant.id, InterpretiveText.key == key,
        InterpretiveText.locale == locale))).scalar_one_or_none()
    if row is None:
        row = InterpretiveText(tenant_id=tenant.id, key=key, locale=locale, text=body.text)
        session.add(row)
    else:
        row.text = body.text
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="astrology.text_set", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="interpretive_text", target_id=f"{key}/{locale}")
    await session.refresh(row)
    return TextOut.model_validate(row)


@router.delete("/astrology/texts/{key}/{locale}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_text(
    key: str, locale: TextLocale, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_ASTRO_CONTENT),
) -> None:
    key = _key(key)
    row = (await session.execute(select(InterpretiveText).where(
        InterpretiveText.tenant_id == tenant.id, InterpretiveText.key == key,
        InterpretiveText.locale == locale))).scalar_one_or_none()
    if row is None:
        raise Problem(NOT_FOUND, "no text for this key and locale", field="key")
    await session.delete(row)
    await record_audit(session, tenant_id=tenant.id, action="astrology.text_deleted", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="interpretive_text", target_id=f"{key}/{locale}")


# --- suggestion rules -------------------------------------------------------------------------------


async def _rule(session: Session, tenant_id: UUID, rule_id: UUID) -> SuggestionRule:
    rule = (await session.execute(select(SuggestionRule).where(
        SuggestionRule.tenant_id == tenant_id, SuggestionRule.id == rule_id))).scalar_one_or_none()
    if rule is None:
        raise Problem(NOT_FOUND, "no suggestion rule with this id", field="rule_id")
    return rule


@router.get("/astrology/suggestion-rules", response_model=Page[RuleOut])
async def list_rules(
    tenant: CurrentTenant, session: Session, paging: Paging,
    active: Annotated[bool | None, Query()] = None,
    principal: Principal = require(Permission.VIEW_ASTRO_CONTENT),
) -> Page[RuleOut]:
    stmt = select(SuggestionRule).where(SuggestionRule.tenant_id == tenant.id)
    if active is not None:
        stmt = stmt.where(SuggestionRule.active.is_(active))
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"created_at": SuggestionRule.created_at,
                                            "priority": SuggestionRule.priority, "name": SuggestionRule.name},
                                  default_sort="-priority", id_column=SuggestionRule.id)
    return Page[RuleOut](items=[rule_out(r) for r in rows], next_cursor=cursor)


@router.post("/astrology/suggestion-rules", status_code=status.HTTP_201_CREATED, response_model=RuleOut)
async def create_rule(
    body: RuleIn, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_ASTRO_CONTENT),
) -> RuleOut:
    """A rule: when it fires (dasha, transit, past order) and the offering it suggests."""
    await check_offering_key(session, tenant.id, body.offering_key)
    rule = SuggestionRule(
        tenant_id=tenant.id, name=body.name, kind=body.when.kind, condition=body.when.model_dump(mode="json"),
        offering_key=body.offering_key, reasons={str(k): v for k, v in body.reasons.items()}, priority=body.priority,
        skip_if_ordered=body.skip_if_ordered, active=body.active,
    )
    session.add(rule)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="astrology.rule_created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="suggestion_rule", target_id=rule.id)
    await session.refresh(rule)
    return rule_out(rule)


@router.get("/astrology/suggestion-rules/{rule_id}", response_model=RuleOut)
async def read_rule(
    rule_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.VIEW_ASTRO_CONTENT),
) -> RuleOut:
    return rule_out(await _rule(session, tenant.id, rule_id))


@router.patch("/astrology/suggestion-rules/{rule_id}", response_model=RuleOut)
async def update_rule(
    rule_id: UUID, body: RulePatch, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_ASTRO_CONTENT),
) -> RuleOut:
    rule = await _rule(session, tenant.id, rule_id)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Problem(VALIDATION, f"{name}: may not be null", field=name)
    if body.offering_key is not None:
        await check_offering_key(session, tenant.id, body.offering_key)
    if body.when is not None:
        rule.kind = body.when.kind
        rule.condition = body.when.model_dump(mode="json")
    for name in ("name", "offering_key", "priority", "skip_if_ordered", "active"):
        if name in changes:
            setattr(rule, name, changes[name])
    if body.reasons is not None:
        rule.reasons = {str(k): v for k, v in body.reasons.items()}
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="astrology.rule_updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="suggestion_rule", target_id=rule.id,
                       details={"fields": sorted(changes)})
    await session.refresh(rule)
    return rule_out(rule)


@router.delete("/astrology/suggestion-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(
    rule_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_ASTRO_CONTENT),
) -> None:
    rule = await _rule(session, tenant.id, rule_id)
    await session.delete(rule)
    await record_audit(session, tenant_id=tenant.id, action="astrology.rule_deleted", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="suggestion_rule", target_id=rule_id)
