"""Request dependencies: state, database session, tenant, principal and permission checks.

Endpoint signatures stay short and honest with the `Annotated` aliases at the bottom.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload
from temporalio.client import Client

from api.permissions import DASHBOARD, EVERYONE, PLATFORM, Permission, allowed
from api.problems import (
    FORBIDDEN,
    MFA_REQUIRED,
    TENANT_INACTIVE,
    TENANT_MISMATCH,
    TENANT_PENDING,
    TENANT_REQUIRED,
    TENANT_SUSPENDED,
    TENANT_UNKNOWN,
    TOKEN_INVALID,
    UNAUTHENTICATED,
    WORKFLOW_UNAVAILABLE,
    Problem,
)
from api.rate_limits import verified_token
from api.schemas.common import RESERVED_SLUGS
from api.state import AppState
from api.temporal_calls import request_session
from api.tenant_directory import DIRECTORY, TenantBy
from core.db import (
    PLATFORM_SCOPE,
    TenantScope,
    close_session,
    enter_scope,
    has_work,
    scope_columns,
    scoped_by_statement,
)
from core.observability.metrics import TEMPORAL_CLIENT_ERRORS, error_code
from core.security import AccessClaims, TokenError
from models.identity import Role
from models.tenancy import Tenant, TenantDomain, TenantStatus

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.muhurta
    return state


async def get_state(request: Request) -> AppState:
    return app_state(request)


State = Annotated[AppState, Depends(get_state)]


AFTER_COMMIT = "after_commit"  # request.state: the hooks `after_commit` queued


async def _run_after_commit(hooks: list[AfterCommit]) -> None:
    for hook in hooks:
        try:
            await hook()
        except Exception as exc:
            TEMPORAL_CLIENT_ERRORS.labels("after_commit", error_code(exc)).inc()
            log.exception("after-commit step failed (a workflow start or signal written with the commit "
                          "is sent by the worker's relay)")


async def db_session(request: Request, background: BackgroundTasks) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits once when the route returns, or rolls back on any error.

    The commit happens *before* the answer is sent (function scope): a client holding a 201 can
    read its row back, and a commit that fails is answered as the error it is, never as a success.
    Work that must follow the commit (starting or signalling a workflow) is queued with
    `after_commit(request, hook)`: once the data is durable it becomes a background task of the
    response, run after the answer has gone out, and never if the commit did not happen. (It was
    a request-scoped generator dependency of its own, which every request paid for with a context
    manager, a shielded exit and an exit-stack entry: docs/performance.md, eleventh pass.)
    """
    session = app_state(request).sessionmaker()  # read here, not a dependency: one node less per request
    # A call to Temporal during the request commits first (api/temporal_calls.py).
    request_session.set(session)
    try:
        yield session
        if has_work(session):
            await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        request_session.set(None)
        await close_session(session)
    hooks: list[AfterCommit] | None = getattr(request.state, AFTER_COMMIT, None)
    if hooks:
        background.add_task(_run_after_commit, hooks)


def after_commit(request: Request, hook: AfterCommit) -> None:
    hooks: list[AfterCommit] | None = getattr(request.state, AFTER_COMMIT, None)
    if hooks is None:
        hooks = []
        setattr(request.state, AFTER_COMMIT, hooks)
    hooks.append(hook)


RawSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    tenant_id: UUID | None
    role: Role
    session_id: UUID
    mfa: bool

    @classmethod
    def from_claims(cls, claims: AccessClaims) -> Principal:
        return cls(claims.user_id, claims.tenant_id, Role(claims.role), claims.session_id, claims.mfa)

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    @property
    def is_staff(self) -> bool:
        """Anyone of the consultancy but its clients (owner, consultant, support...)."""
        return self.role != Role.CLIENT


@dataclass
class RequestContext:
    tenant: Tenant | None
    principal: Principal | None
    ip: str | None
    user_agent: str | None


def named_tenant(request: Request, base_domain: str) -> tuple[str, str] | None:
    """('slug', value) from X-Tenant or a subdomain, ('domain', host) for other hosts."""
    header = request.headers.get("x-tenant")
    if header:
        return ("slug", header.strip().lower())
    host = request.headers.get("host", "").split(":")[0].strip().lower().rstrip(".")
    if not host or host in {"localhost", "127.0.0.1", "testserver", base_domain}:
        return None
    if host.endswith("." + base_domain):
        slug = host.removesuffix("." + base_domain).split(".")[-1]
        # api.<base>, www.<base> and the like are the platform's own hosts, not tenants
        return None if slug in RESERVED_SLUGS else ("slug", slug)
    if "." not in host or host.replace(".", "").isdigit():
        return None  # a bare host name or an IP address names no tenant
    return ("domain", host)


def _tenant_where(condition: ColumnElement[bool]) -> Select[Tenant, str, str]:
    return select(Tenant, *scope_columns(Tenant.id)).options(raiseload(Tenant.domains)).where(condition)


# Built once: a statement object keeps its cache key, so executing it again with other values
# skips building the expression and hashing it (a third of a tenant lookup's CPU).
_TENANT_BY: dict[TenantBy, Select[Tenant, str, str]] = {
    "slug": _tenant_where(Tenant.slug == bindparam("value")),
    "id": _tenant_where(Tenant.id == bindparam("value")),
    "domain": _tenant_where(Tenant.id.in_(
        select(TenantDomain.tenant_id).where(TenantDomain.domain == bindparam("value")).scalar_subquery())),
}


async def tenant_in_scope(session: AsyncSession, by: TenantBy, value: object) -> Tenant | None:
    """The tenant whose `by` (slug, id or one of its domains) is `value`, with the session scoped
    to it. From this process's copy when it has one (`api.tenant_directory`): no statement, the
    scope set when the session's transaction begins. Else read with the scope set by the same
    statement: one round trip where a lookup and then a `set_config` took two
    (docs/performance.md). None, and the scope unchanged, when no tenant matches.

    Its `domains` are not loaded (raiseload: using them without loading is an error, never a
    silent empty list): the routes that show them load them (`session.refresh(tenant, ["domains"])`)."""
    kept = DIRECTORY.find(by, value)
    if kept is not None:
        await enter_scope(session, TenantScope.of(kept.id))  # before the add: it may begin the session
        present = session.identity_map.get(Tenant.__mapper__.identity_key_from_primary_key((kept.id,)))
        if present is not None:
            return present  # type: ignore[no-any-return]
        session.add(kept)
        return kept
    generation = DIRECTORY.generation
    row = (await session.execute(_TENANT_BY[by], {"value": value})).first()
    if row is None:
        return None
    tenant: Tenant = row[0]
    scoped_by_statement(session, TenantScope.of(tenant.id))
    DIRECTORY.keep(by, value, tenant, generation)
    return tenant


async def _load_tenant(session: AsyncSession, named: tuple[str, str]) -> Tenant | None:
    kind, value = named
    return await tenant_in_scope(session, "slug" if kind == "slug" else "domain", value)


async def _principal(request: Request, state: AppState) -> Principal | None:
    auth = request.headers.get("authorization")
    if not auth:
        return None
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(UNAUTHENTICATED, "use the Bearer scheme: Authorization: Bearer <token>",
                      field="Authorization")
    token = token.strip()
    # The rate limiter verified this token and looked its session up in the same request
    # (api.rate_limits); what it did not do is done here.
    kept = verified_token(request.scope, token)
    try:
        claims = state.keys.read_access_token(token, kept[0] if kept else None)
    except TokenError as exc:
        raise Problem(TOKEN_INVALID, str(exc), field="Authorization") from exc
    revoked = kept[1] if kept else None
    if revoked is None:
        revoked = bool(await state.redis.exists(state.keys.revoked_key(claims.session_id)))
    if revoked:
        raise Problem(TOKEN_INVALID, "this session was signed out; sign in again",
                      field="Authorization")
    return Principal.from_claims(claims)


async def request_context(request: Request, session: RawSession) -> RequestContext:
    cached: RequestContext | None = getattr(request.state, "context", None)
    if cached is not None:
        return cached
    state = app_state(request)
    principal = await _principal(request, state)
    named = named_tenant(request, state.settings.base_domain)
    tenant = await _load_tenant(session, named) if named else None
    if named and tenant is None:
        raise Problem(TENANT_UNKNOWN, f"no consultancy is called '{named[1]}'", field="X-Tenant")
    if principal and principal.tenant_id is not None:
        if tenant is not None and tenant.id != principal.tenant_id:
            raise Problem(TENANT_MISMATCH, field="X-Tenant")
        if tenant is None:
            tenant = await tenant_in_scope(session, "id", principal.tenant_id)
    if tenant is None:
        await enter_scope(session, PLATFORM_SCOPE)
    client = request.client
    context = RequestContext(
        tenant=tenant,
        principal=principal,
        ip=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )
    request.state.context = context
    return context


Context = Annotated[RequestContext, Depends(request_context)]


async def scoped_session(session: RawSession, context: Context) -> AsyncSession:
    """The request's session, already scoped to the request's tenant."""
    return session


Session = Annotated[AsyncSession, Depends(scoped_session)]


def asks_only_for(request: Request, tenant_id: UUID) -> bool:
    """Whether `request_context` could only agree with a route that serves tenant `tenant_id`
    (kept in the directory) to anyone: no token (one of another consultancy naming this one is a
    403) and no other tenant named by X-Tenant or the host (an unknown one is a 404). A route
    that answers such a request without a session (`opened_session`) answers as it would have."""
    if "authorization" in request.headers:
        return False
    named = named_tenant(request, app_state(request).settings.base_domain)
    if named is None:
        return True
    kind, value = named
    found = DIRECTORY.peek("slug" if kind == "slug" else "domain", value)
    return found is not None and found.id == tenant_id


@asynccontextmanager
async def opened_session(request: Request, background: BackgroundTasks) -> AsyncIterator[AsyncSession]:
    """The session `Session` gives a route, opened by the route itself when it needs one: for a
    route that often answers without any (the public slot listing, kept in memory by
    api/slot_listings.py), which should not pay for a session, its request context and their
    teardown then. The same unit of work, scope and after-commit hooks as `Session`."""
    async with asynccontextmanager(db_session)(request, background) as session:
        await request_context(request, session)
        yield session


async def current_principal(context: Context) -> Principal:
    if context.principal is None:
        raise Problem(UNAUTHENTICATED, field="Authorization")
    return context.principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def current_tenant(context: Context) -> Tenant:
    if context.tenant is None:
        raise Problem(TENANT_REQUIRED, field="X-Tenant")
    return context.tenant


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]


def suspended(tenant: Tenant, field: str | None = None) -> Problem:
    return Problem(TENANT_SUSPENDED, f"{tenant.name} is suspended: {tenant.status_reason or 'no reason given'}",
                   field=field)


def require(permission: Permission) -> Any:
    """A dependency that returns the principal if they may do `permission`, else a 401/403."""

    async def check(context: Context) -> Principal:
        principal = context.principal
        if principal is None:
            raise Problem(UNAUTHENTICATED, field="Authorization")
        if not allowed(principal.role, permission):
            raise Problem(FORBIDDEN, f"your role ({principal.role.value}) may not do this")
        if (permission in PLATFORM or principal.is_platform_admin) and not principal.mfa \
                and permission not in EVERYONE:
            raise Problem(MFA_REQUIRED)
        if permission in DASHBOARD:
            tenant = context.tenant
            if tenant is None:
                raise Problem(TENANT_REQUIRED, field="X-Tenant")
            if tenant.status == TenantStatus.PENDING:
                raise Problem(TENANT_PENDING)
            if tenant.status == TenantStatus.SUSPENDED:
                raise suspended(tenant)
            if tenant.status != TenantStatus.ACTIVE:
                raise Problem(TENANT_INACTIVE)
        return principal

    return Depends(check)


async def platform_session(session: Session, admin: Principal = require(Permission.ADMIN_TENANTS)) -> AsyncSession:
    """A session that sees every tenant: platform-admin endpoints only."""
    await enter_scope(session, TenantScope.system())
    return session


PlatformSession = Annotated[AsyncSession, Depends(platform_session)]


async def temporal_client(state: State) -> Client:
    if state.temporal is None:
        raise Problem(WORKFLOW_UNAVAILABLE, headers={"Retry-After": "5"})
    return state.temporal


Temporal = Annotated[Client, Depends(temporal_client)]
