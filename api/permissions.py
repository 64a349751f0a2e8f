"""Who may do what: one table, checked in one place (`api.deps.require`)."""

from __future__ import annotations

import enum

from models.identity import Role


class Permission(enum.StrEnum):
    # open to a signed-in person whatever their tenant's state (the approval gate's allowance)
    EDIT_OWN_PROFILE = "profile:edit"
    EDIT_TENANT_PROFILE = "tenant:profile"
    VIEW_ONBOARDING = "onboarding:view"
    # the dashboard: only for active tenants
    MANAGE_TENANT = "tenant:manage"
    VIEW_CLIENTS = "clients:view"
    MANAGE_CLIENTS = "clients:manage"
    VIEW_AUDIT = "audit:view"
    VIEW_OUTBOX = "outbox:view"
    # payments (dashboard too: only for active tenants); clients see and pay only their own orders
    VIEW_ORDERS = "orders:view"
    PAY_ORDERS = "orders:pay"
    MANAGE_ORDERS = "orders:manage"
    REFUND_ORDERS = "orders:refund"
    MANAGE_COUPONS = "coupons:manage"
    MANAGE_PAYMENT_SETTINGS = "payments:settings"
    VIEW_WALLET = "wallet:view"
    CREDIT_WALLETS = "wallet:credit"
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
    Permission.VIEW_ORDERS,
    Permission.PAY_ORDERS,
    Permission.MANAGE_ORDERS,
    Permission.REFUND_ORDERS,
    Permission.MANAGE_COUPONS,
    Permission.MANAGE_PAYMENT_SETTINGS,
    Permission.VIEW_WALLET,
    Permission.CREDIT_WALLETS,
})

# Staff who sell and refund; the owner also sets payment settings and credits wallets.
_SELLING = {Permission.VIEW_ORDERS, Permission.PAY_ORDERS, Permission.MANAGE_ORDERS, Permission.REFUND_ORDERS,
            Permission.MANAGE_COUPONS, Permission.VIEW_WALLET}

PLATFORM = frozenset({Permission.ADMIN_TENANTS, Permission.ADMIN_AUDIT, Permission.ADMIN_OUTBOX})

_EVERYONE = {Permission.EDIT_OWN_PROFILE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(_EVERYONE | PLATFORM),
    Role.OWNER: frozenset(
        _EVERYONE | DASHBOARD | {Permission.VIEW_ONBOARDING, Permission.EDIT_TENANT_PROFILE}
    ),
    Role.CONSULTANT: frozenset(
        _EVERYONE | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS, Permission.VIEW_ORDERS}
    ),
    Role.STAFF: frozenset(
        _EVERYONE | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS, Permission.VIEW_OUTBOX} | _SELLING
    ),
    Role.CLIENT: frozenset(_EVERYONE | {Permission.VIEW_ORDERS, Permission.PAY_ORDERS, Permission.VIEW_WALLET}),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
