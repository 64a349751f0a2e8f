"""Who may do what: one table, checked in one place (`api.deps.require`)."""

from __future__ import annotations

import enum

from models.identity import Role


class Permission(enum.StrEnum):
    # open to a signed-in person whatever their tenant's state (the approval gate's allowance)
    EDIT_OWN_PROFILE = "profile:edit"
    OWN_NOTIFICATIONS = "notifications:own"  # one's own inbox and notification preferences
    EDIT_TENANT_PROFILE = "tenant:profile"
    VIEW_ONBOARDING = "onboarding:view"
    # the dashboard: only for active tenants
    MANAGE_TENANT = "tenant:manage"
    VIEW_CLIENTS = "clients:view"
    MANAGE_CLIENTS = "clients:manage"
    VIEW_AUDIT = "audit:view"
    VIEW_OUTBOX = "outbox:view"
    MANAGE_NOTIFICATIONS = "notifications:manage"  # templates, sender identity, provider keys
    VIEW_DELIVERIES = "notifications:deliveries"   # the delivery log, the event catalogue
    SEND_BROADCASTS = "broadcasts:send"
    # the platform
    ADMIN_TENANTS = "platform:tenants"
    ADMIN_AUDIT = "platform:audit"
    ADMIN_OUTBOX = "platform:outbox"


# Permissions that need the tenant to be active (approved): the dashboard.
DASHBOARD = frozenset({
    Permission.MANAGE_TENANT,
    Permission.VIEW_CLIENTS,
    Permission.MANAGE_CLIENTS,
    Permission.VIEW_AUDIT,
    Permission.VIEW_OUTBOX,
    Permission.MANAGE_NOTIFICATIONS,
    Permission.VIEW_DELIVERIES,
    Permission.SEND_BROADCASTS,
})

PLATFORM = frozenset({Permission.ADMIN_TENANTS, Permission.ADMIN_AUDIT, Permission.ADMIN_OUTBOX})

_EVERYONE = {Permission.EDIT_OWN_PROFILE, Permission.OWN_NOTIFICATIONS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(_EVERYONE | PLATFORM),
    Role.OWNER: frozenset(
        _EVERYONE | DASHBOARD | {Permission.VIEW_ONBOARDING, Permission.EDIT_TENANT_PROFILE}
    ),
    Role.CONSULTANT: frozenset(_EVERYONE | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS}),
    Role.STAFF: frozenset(
        _EVERYONE | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS, Permission.VIEW_OUTBOX,
                     Permission.VIEW_DELIVERIES, Permission.SEND_BROADCASTS}
    ),
    Role.CLIENT: frozenset(_EVERYONE),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
