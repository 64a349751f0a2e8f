"""Every text field a request stores has the same length limit as the column it goes to.

A schema that allowed more than its column (`legal_name`: 300 against 200) was a 500 for any
value in between; one that allowed less refused what the database would keep. This compares
every string property of every request schema with its column, so the two cannot drift: a new
request schema with text in it must say where it is stored (STORED_IN) or that it is not
(NOT_STORED), and the test fails until it does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text

from api.app import create_app
from models import Base

SPEC = create_app().openapi()
COMPONENTS: dict[str, Any] = SPEC["components"]["schemas"]
TABLES = {table.name: table for table in Base.metadata.sorted_tables}

# Request schema -> the table its properties are stored in, column by the same name.
STORED_IN: dict[str, str] = {
    "CourseCreate": "courses", "CourseUpdate": "courses", "CohortCreate": "course_cohorts",
    "CohortUpdate": "course_cohorts", "ModuleCreate": "course_modules", "ModuleUpdate": "course_modules",
    "LessonCreate": "lessons", "LessonUpdate": "lessons", "NoteCreate": "lesson_notes",
    "PostCreate": "discussion_posts",
    "ClientErasure": "privacy_requests", "StaffErasure": "privacy_requests",
    "StaffExport": "privacy_requests", "ConsentIn": "consents",
    "InvitationIn": "invitations",
    "AdminInvitationIn": "invitations",
    "BirthIn": "birth_profiles",
    "ClientCreate": "users",
    "ClientRegistration": "users",
    "ConsultantCreate": "consultants",
    "ConsultantUpdate": "consultants",
    "ConsultantSignup": "users",
    "CouponCreate": "coupons",
    "CouponUpdate": "coupons",
    "DomainIn": "tenant_domains",
    "GuestBookingCreate": "users",
    "LineCreate": "order_lines",
    "NotificationSettingsIn": "tenant_notification_settings",
    "OfferingCreate": "offerings",
    "OfferingUpdate": "offerings",
    "OrderCreate": "orders",
    "OverrideIn": "availability_overrides",
    "PaymentSettingsIn": "payment_settings",
    "ProfileCreate": "birth_profiles",
    "api__schemas__astrology__ProfileUpdate": "birth_profiles",
    "api__schemas__identity__ProfileUpdate": "users",
    "ReportDeliveryCreate": "report_deliveries",
    "RefundCreate": "refunds",
    "RuleIn": "suggestion_rules",
    "RulePatch": "suggestion_rules",
    "TemplateIn": "notification_templates",
    "TenantUpdate": "tenants",
    "TextIn": "interpretive_texts",
    "WalletCredit": "wallet_entries",
    "RemedyCreate": "remedies",
    "RemedyUpdate": "remedies",
    "ProgrammeCreate": "remedy_programmes",
    "CheckInBody": "remedy_check_ins",
    "LinkCheckInBody": "remedy_check_ins",
    "QuoteLineIn": "quotation_lines",
    "QuotationContent": "quotation_versions",
    "QuotationCreate": "quotation_versions",
    "QuotationEdit": "quotation_versions",
    "ProductCreate": "products", "ProductUpdate": "products",
    "PackageCreate": "session_packages", "PackageUpdate": "session_packages",
    "PlanCreate": "membership_plans", "PlanUpdate": "membership_plans",
    "CartCheckout": "orders",
}
# Properties stored under another name, or in a second table too: (schema, property) -> (table, column).
ALSO_STORED: dict[tuple[str, str], tuple[str, str]] = {
    ("AcceptInvitation", "full_name"): ("users", "full_name"),
    ("ConsultantSignup", "business_name"): ("tenants", "name"),
    ("ConsultantSignup", "slug"): ("tenants", "slug"),
    ("ConsultantSignup", "timezone"): ("tenants", "timezone"),
    ("CancelBody", "reason"): ("bookings", "cancel_reason"),
    ("CompleteBody", "summary"): ("bookings", "summary"),
    ("OutcomeIn", "summary"): ("bookings", "summary"),
    ("MarkPaidBody", "reference"): ("bookings", "payment_reference"),
    ("BookingCreate", "timezone"): ("users", "timezone"),
    ("StopBody", "reason"): ("remedy_programmes", "ended_reason"),
    ("ClientContact", "full_name"): ("quotations", "client_name"),
    ("ClientContact", "phone"): ("quotations", "client_phone"),
    ("ClientContact", "timezone"): ("quotations", "client_timezone"),
    ("QuotationCreate", "title"): ("quotations", "title"),
    ("ReasonBody", "reason"): ("quotations", "decision_reason"),
}
# Request schemas whose text is not kept in a column of its own (checked, hashed, sent to a
# workflow or kept inside a JSON document): nothing to compare.
NOT_STORED: dict[str, str] = {
    "QuizOption": "inside lessons.quiz (JSON)", "QuizQuestion": "inside lessons.quiz (JSON)",
    "RevokeBody": "a reason for the audit log", "EarlyAccessBody": "a reason for the audit log",
    "EnrolBody": "a coupon code, looked up", "api__schemas__courses__ExtendBody": "a reason for the audit log",
    "AcceptInvitation": "the token is checked, the password hashed; only full_name (ALSO_STORED)",
    "ExtendHold": "the reason goes to the audit details (JSON)",
    "MembershipPause": "the reason goes to the audit details (JSON)",
    "MembershipCancel": "the audit details (JSON); memberships.end_reason (300) quotes it, cut to fit",
    "NoteIn": "the note goes to the audit details (JSON)",
    "ResendIn": "the reason goes to the audit details (JSON)", "RetryIn": "the audit details (JSON)",
    "RemindersIn": "the audit details (JSON)", "ExtendPayment": "the audit details (JSON)",
    "CancelIn": "the audit details and the workflow's own reason",
    "OutcomeIn": "summary (ALSO_STORED); the reason goes to the audit details (JSON)",
    "SuspendBody": "tenants.status_reason is Text; also the audit details (JSON)",
    "ReactivateBody": "the audit details (JSON)",
    "LockBody": "the audit details (JSON)",
    "SocialLink": "an item of consultants.social_links (JSONB)",
    "ApproveBody": "the onboarding workflow's decision and the audit details (JSON)",
    "RejectBody": "the onboarding workflow's decision and the audit details (JSON)",
    "BookingCreate": "only its timezone (ALSO_STORED); a coupon code, looked up",
    "CancelBody": "only its reason (ALSO_STORED)",
    "CompleteBody": "summary (ALSO_STORED); private notes are stored encrypted (Text)",
    "MarkPaidBody": "only its reference (ALSO_STORED)",
    "BroadcastCreate": "the event name is checked against the catalogue; variables are JSON",
    "BroadcastFilter": "a filter kept as JSON",
    "DashaWhen": "part of a suggestion rule's condition (JSON)",
    "PastOrderWhen-Input": "part of a suggestion rule's condition (JSON)",
    "TransitWhen": "part of a suggestion rule's condition (JSON)",
    "FeedbackBody": "sent to the consultation workflow",
    "IntakeField": "an offering's intake form, kept as JSON",
    "LineDelivered": "sent to the order workflow and the audit details (JSON)",
    "Login": "credentials, checked",
    "ManualDeliveryBody": "kept encrypted (Text)",
    "NoShowBody": "kept encrypted (Text)",
    "NumerologyRequest": "computed, not stored",
    "OrderCancel": "sent to the order workflow and the audit details (JSON)",
    "PasswordChange": "credentials, hashed",
    "PasswordForgot": "an email, looked up",
    "PasswordReset": "a token, hashed, and a password, hashed",
    "PaymentVerification": "checked against the gateway's signature",
    "RefreshRequest": "a token, hashed",
    "TimeWindow": "parsed into times",
    "WeeklyWindow": "parsed into times",
    "TokenBody": "a token, hashed",
    "TotpCode": "checked",
    "PauseBody": "sent to the remedy workflow (its history)",
    "StopBody": "only its reason (ALSO_STORED)",
    "ClientContact": "in the quotation's client_* columns (ALSO_STORED)",
    "ReasonBody": "only its reason (ALSO_STORED)",
}


def _request_schemas() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (ref := node.get("$ref")) and (name := ref.rsplit("/", 1)[-1]) not in found:
                found.add(name)
                walk(COMPONENTS[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for item in SPEC["paths"].values():
        for operation in item.values():
            walk(operation.get("requestBody", {}))
    return found


NOT_FREE_TEXT = {"uuid", "date-time", "date", "time", "binary", "duration", "email"}


def _text_properties(schema: dict[str, Any]) -> dict[str, int | None]:
    """Free-text properties (not enums, ids, dates) and their maxLength. Emails are left out: the
    email validator refuses more than 254 characters (RFC 5321), inside every email column."""
    out: dict[str, int | None] = {}
    for name, prop in schema.get("properties", {}).items():
        for variant in prop.get("anyOf", [prop]):
            if (variant.get("type") == "string" and "enum" not in variant and "const" not in variant
                    and variant.get("format") not in NOT_FREE_TEXT):
                out[name] = variant.get("maxLength")
    return out


def _column_length(table: str, column: str) -> int | str | None:
    """The column's length; None for unbounded text; 'absent'/'not text' when there is nothing to compare."""
    columns = TABLES[table].c
    if column not in columns:
        return "absent"
    kind = columns[column].type
    if isinstance(kind, Text) or (isinstance(kind, String) and kind.length is None):
        return None
    if isinstance(kind, String):
        return int(kind.length)
    return "not text"


def test_every_request_schema_with_text_says_where_it_is_stored():
    with_text = {name for name in _request_schemas() if _text_properties(COMPONENTS[name])}
    unknown = sorted(with_text - set(STORED_IN) - set(NOT_STORED))
    assert not unknown, ("request schemas with text fields the length check does not know: add each to "
                         f"STORED_IN (its table) or NOT_STORED (why) in {__file__}: {unknown}")
    assert not set(STORED_IN) - with_text - {n for n, _ in ALSO_STORED}, "stale entries"
    assert all(table in TABLES for table in STORED_IN.values())


def test_every_text_fields_max_length_is_its_columns_length():
    wrong = []
    compared = 0
    places: list[tuple[str, str, str, str]] = [
        (schema, prop, table, prop) for schema, table in STORED_IN.items() if schema in COMPONENTS
        for prop in _text_properties(COMPONENTS[schema])]
    places += [(schema, prop, table, column) for (schema, prop), (table, column) in ALSO_STORED.items()]
    for schema, prop, table, column in places:
        limit = _text_properties(COMPONENTS[schema]).get(prop)
        length = _column_length(table, column)
        if length in ("absent", "not text"):
            continue
        compared += 1
        if length is not None and limit != length:
            wrong.append(f"{schema}.{prop}: maxLength {limit}, but {table}.{column} holds {length}")
        if length is None and limit is None:
            wrong.append(f"{schema}.{prop}: no maxLength ({table}.{column} is unbounded text: give it a "
                         "limit a person needs)")
    assert not wrong, "\n".join(wrong)
    assert compared >= 40, compared
