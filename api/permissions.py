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
    # astrology: computing for signed-in people of an active tenant, clients included
    USE_ASTROLOGY = "astrology:use"
    BIRTH_PROFILES = "birth_profiles:manage"  # clients: their own; the tenant's people: any client's
    VIEW_ASTRO_CONTENT = "astrology_content:view"
    MANAGE_ASTRO_CONTENT = "astrology_content:manage"  # interpretive texts and suggestion rules
    OWN_FILES = "files:own"            # a client's own files and report deliveries
    MANAGE_FILES = "files:manage"      # every file of the consultancy
    MANAGE_REPORTS = "reports:manage"  # start report deliveries, upload reports, mark delivered by hand
    MANAGE_CONSULTANTS = "consultants:manage"   # profiles, hours, overrides, calendar feed
    MANAGE_OFFERINGS = "offerings:manage"
    BOOK = "bookings:book"                      # book, see, move and cancel bookings (clients: their own)
    MANAGE_BOOKINGS = "bookings:manage"         # all of the consultancy's bookings, mark paid offline
    RECORD_OUTCOMES = "bookings:outcome"        # completed / no-show (the booking's consultant or the owner)
    # payments (dashboard too: only for active tenants); clients see and pay only their own orders
    VIEW_ORDERS = "orders:view"
    PAY_ORDERS = "orders:pay"
    MANAGE_ORDERS = "orders:manage"
    REFUND_ORDERS = "orders:refund"
    MANAGE_COUPONS = "coupons:manage"
    MANAGE_QUOTATIONS = "quotations:manage"  # draft, send, revise, extend, withdraw (consultants: their own)
    MANAGE_PAYMENT_SETTINGS = "payments:settings"
    VIEW_WALLET = "wallet:view"
    CREDIT_WALLETS = "wallet:credit"
    MANAGE_REMEDIES = "remedies:manage"   # the remedy catalogue; assign and steer any client's programmes
    FOLLOW_REMEDIES = "remedies:follow"   # see and check in to programmes (clients: their own)
    MANAGE_NOTIFICATIONS = "notifications:manage"  # templates, sender identity, provider keys
    VIEW_DELIVERIES = "notifications:deliveries"   # the delivery log, the event catalogue
    SEND_BROADCASTS = "broadcasts:send"
    MANAGE_COURSES = "courses:manage"   # course content, cohorts, enrolments, certificates, completion figures
    LEARN = "courses:learn"             # the catalogue, enrolments (a client's own), lessons, notes, quizzes
    # the team (docs/team.md) and the support console
    VIEW_TEAM = "team:view"            # the members and pending invitations
    MANAGE_TEAM = "team:manage"        # invite, change roles, remove, transfer ownership (owners)
    SUPPORT_VIEW = "support:view"      # a workflow's live state, history and messages; a client's workflows
    SUPPORT_ACT = "support:act"        # audited actions on them, each with a reason
    OWN_DATA = "privacy:own"               # a client's own export, erasure and consents
    PRIVACY_EXPORTS = "privacy:exports"    # a client's data export, the list of exports and erasures
    PRIVACY_ERASURE = "privacy:erasure"    # erase a client's personal data (the owner)
    OWN_ANALYTICS = "analytics:own"        # a consultant's own figures (docs/analytics.md)
    VIEW_ANALYTICS = "analytics:view"      # the consultancy's figures, whole or any consultant's
    # the platform
    ADMIN_TENANTS = "platform:tenants"
    ADMIN_AUDIT = "platform:audit"
    ADMIN_OUTBOX = "platform:outbox"
    ADMIN_ADMINS = "platform:admins"   # invite further platform admins
    ADMIN_USERS = "platform:users"     # people across consultancies: find, lock, unlock, sign out
    ADMIN_ANALYTICS = "platform:analytics"  # the platform's figures, across consultancies


# Permissions that need the tenant to be active (approved): the dashboard, and booking.
DASHBOARD = frozenset({
    Permission.MANAGE_TENANT,
    Permission.VIEW_CLIENTS,
    Permission.MANAGE_CLIENTS,
    Permission.VIEW_AUDIT,
    Permission.VIEW_OUTBOX,
    Permission.USE_ASTROLOGY,
    Permission.BIRTH_PROFILES,
    Permission.VIEW_ASTRO_CONTENT,
    Permission.MANAGE_ASTRO_CONTENT,
    Permission.OWN_FILES,
    Permission.MANAGE_FILES,
    Permission.MANAGE_REPORTS,
    Permission.MANAGE_CONSULTANTS,
    Permission.MANAGE_OFFERINGS,
    Permission.BOOK,
    Permission.MANAGE_BOOKINGS,
    Permission.RECORD_OUTCOMES,
    Permission.VIEW_ORDERS,
    Permission.PAY_ORDERS,
    Permission.MANAGE_ORDERS,
    Permission.REFUND_ORDERS,
    Permission.MANAGE_COUPONS,
    Permission.MANAGE_QUOTATIONS,
    Permission.MANAGE_PAYMENT_SETTINGS,
    Permission.VIEW_WALLET,
    Permission.CREDIT_WALLETS,
    Permission.MANAGE_NOTIFICATIONS,
    Permission.VIEW_DELIVERIES,
    Permission.SEND_BROADCASTS,
    Permission.VIEW_TEAM,
    Permission.MANAGE_TEAM,
    Permission.SUPPORT_VIEW,
    Permission.SUPPORT_ACT,
    Permission.MANAGE_REMEDIES,
    Permission.FOLLOW_REMEDIES,
    Permission.MANAGE_COURSES,
    Permission.LEARN,
    Permission.PRIVACY_EXPORTS,
    Permission.PRIVACY_ERASURE,
    Permission.OWN_DATA,
    Permission.OWN_ANALYTICS,
    Permission.VIEW_ANALYTICS,
})
_PRACTICE = {Permission.MANAGE_CONSULTANTS, Permission.MANAGE_OFFERINGS, Permission.BOOK,
             Permission.MANAGE_BOOKINGS, Permission.RECORD_OUTCOMES}

# Staff who sell and refund; the owner also sets payment settings and credits wallets.
_SELLING = {Permission.VIEW_ORDERS, Permission.PAY_ORDERS, Permission.MANAGE_ORDERS, Permission.REFUND_ORDERS,
            Permission.MANAGE_COUPONS, Permission.VIEW_WALLET, Permission.MANAGE_QUOTATIONS}

PLATFORM = frozenset({Permission.ADMIN_TENANTS, Permission.ADMIN_AUDIT, Permission.ADMIN_OUTBOX,
                      Permission.ADMIN_ADMINS, Permission.ADMIN_USERS, Permission.ADMIN_ANALYTICS})

_EVERYONE = {Permission.EDIT_OWN_PROFILE, Permission.OWN_NOTIFICATIONS}
_ASTROLOGY = {Permission.USE_ASTROLOGY, Permission.BIRTH_PROFILES}
_ASTRO_TEAM = _ASTROLOGY | {Permission.VIEW_ASTRO_CONTENT}
_DOCUMENTS = {Permission.OWN_FILES, Permission.MANAGE_FILES, Permission.MANAGE_REPORTS}
_REMEDIES = {Permission.MANAGE_REMEDIES, Permission.FOLLOW_REMEDIES}

# What any signed-in person may do (a platform admin too, before two-factor is on).
EVERYONE = frozenset(_EVERYONE)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset(_EVERYONE | PLATFORM | {Permission.SUPPORT_VIEW, Permission.SUPPORT_ACT}),
    Role.OWNER: frozenset(
        _EVERYONE | DASHBOARD | {Permission.VIEW_ONBOARDING, Permission.EDIT_TENANT_PROFILE}
    ),
    # a consultant manages their own profile, offerings and bookings (checked per row)
    Role.CONSULTANT: frozenset(
        _EVERYONE | _PRACTICE | _ASTRO_TEAM | _DOCUMENTS | _REMEDIES
        | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS, Permission.VIEW_ORDERS, Permission.MANAGE_QUOTATIONS,
           Permission.VIEW_TEAM, Permission.OWN_ANALYTICS,
           Permission.MANAGE_COURSES, Permission.LEARN}
    ),
    Role.STAFF: frozenset(
        _EVERYONE | _ASTRO_TEAM | _DOCUMENTS | _SELLING | _REMEDIES
        | {Permission.VIEW_CLIENTS, Permission.MANAGE_CLIENTS, Permission.VIEW_OUTBOX,
           Permission.BOOK, Permission.MANAGE_BOOKINGS, Permission.VIEW_DELIVERIES, Permission.SEND_BROADCASTS,
           Permission.VIEW_TEAM, Permission.SUPPORT_VIEW, Permission.SUPPORT_ACT,
           Permission.MANAGE_COURSES, Permission.LEARN, Permission.PRIVACY_EXPORTS,
           Permission.OWN_ANALYTICS, Permission.VIEW_ANALYTICS}
    ),
    Role.CLIENT: frozenset(
        _EVERYONE | _ASTROLOGY
        | {Permission.FOLLOW_REMEDIES, Permission.OWN_FILES, Permission.BOOK, Permission.VIEW_ORDERS,
           Permission.PAY_ORDERS, Permission.VIEW_WALLET, Permission.LEARN, Permission.OWN_DATA}
    ),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
