"""Errors as problem+json (RFC 9457), raised anywhere, rendered in one place.

Each error carries its HTTP status and a stable `type` (`/problems/<slug>`, documented at that
path by the API itself), a human `detail`, and where it applies the `field` at fault.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.temporal_calls import WorkflowCallTimeout
from core.logging import request_id_var
from core.observability.metrics import PROBLEMS, REDIS_ERRORS, TEMPORAL_CLIENT_ERRORS, WEBHOOKS_REJECTED
from core.observability.tracing import current_trace_id
from domain.astrology.errors import EngineInputError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str


# The registry of every problem type the API returns; GET /problems/<slug> serves it.
PROBLEM_TYPES: dict[str, ProblemType] = {}


def problem_type(slug: str, status: int, title: str, description: str) -> ProblemType:
    entry = ProblemType(slug, status, title, description)
    PROBLEM_TYPES[slug] = entry
    return entry


VALIDATION = problem_type("validation", 422, "The request is not valid",
    "One or more fields are missing or malformed; `errors` lists each field and what is wrong.")
MALFORMED_JSON = problem_type("malformed-json", 400, "The body is not valid JSON",
    "Send a JSON document with Content-Type: application/json.")
NOT_FOUND = problem_type("not-found", 404, "Not found",
    "Nothing with this id exists for you. Resources of other tenants are reported the same way.")
UNAUTHENTICATED = problem_type("unauthenticated", 401, "Sign in first",
    "Send `Authorization: Bearer <access token>`; get one from POST /api/v1/auth/login.")
TOKEN_INVALID = problem_type("token-invalid", 401, "The token is not valid",
    "The access or refresh token is expired, revoked or malformed; sign in again or refresh.")
INVALID_CREDENTIALS = problem_type("invalid-credentials", 401, "Wrong email or password",
    "Check the email and password; after several failures the account is locked for a while.")
TOTP_REQUIRED = problem_type("totp-required", 401, "A two-factor code is needed",
    "This account uses two-factor authentication: send `totp_code` (or a recovery code).")
MFA_REQUIRED = problem_type("mfa-required", 403, "Two-factor authentication is required",
    "Platform admins must enrol TOTP (POST /api/v1/auth/totp/enrol) and sign in with a code.")
CORS_REFUSED = problem_type("cors-refused", 400, "This browser request is not allowed",
                            "A cross-origin preflight asked for an origin, method or header the API does not "
                            "allow; the allowed origins are the CORS_ORIGINS setting.")
FORBIDDEN = problem_type("forbidden", 403, "Not allowed",
    "Your role does not allow this action.")
TENANT_PENDING = problem_type("tenant-pending-approval", 403, "Waiting for approval",
    "Your consultancy is waiting for a platform admin's approval; until then you can sign in "
    "and edit your profile, but not use the dashboard.")
TENANT_INACTIVE = problem_type("tenant-inactive", 403, "This consultancy is not active",
    "The consultancy was rejected or suspended; contact support.")
TENANT_SUSPENDED = problem_type("tenant-suspended", 403, "This consultancy is suspended",
    "A platform admin suspended this consultancy (the reason is in `detail`): its pages, sign-ins and "
    "bookings are closed until it is reactivated. Contact the platform's support.")
TENANT_REQUIRED = problem_type("tenant-required", 400, "Which consultancy?",
    "Name the tenant with the X-Tenant header (its slug), its subdomain or its custom domain.")
TENANT_UNKNOWN = problem_type("tenant-unknown", 404, "No such consultancy",
    "No active consultancy has this slug or domain.")
TENANT_MISMATCH = problem_type("tenant-mismatch", 403, "Token of another consultancy",
    "The access token belongs to another tenant than the one this request names.")
CONFLICT = problem_type("conflict", 409, "Conflict",
    "The request conflicts with the current state of the resource.")
ALREADY_EXISTS = problem_type("already-exists", 409, "Already exists",
    "Something with this unique value exists already.")
RATE_LIMITED = problem_type("rate-limited", 429, "Too many attempts",
    "Wait for the number of seconds in Retry-After, then try again.")
IDEMPOTENCY_REUSED = problem_type("idempotency-key-reused", 422, "Idempotency-Key used for another request",
    "This Idempotency-Key was first used with a different method, path or body; use a new key.")
IDEMPOTENCY_IN_PROGRESS = problem_type("idempotency-in-progress", 409, "The first request is still running",
    "A request with this Idempotency-Key is being processed; retry in a moment.")
WEAK_PASSWORD = problem_type("weak-password", 422, "Choose another password",
    "The password does not meet the policy; `detail` says why.")
TOKEN_EXPIRED_OR_USED = problem_type("link-expired", 410, "This link has expired or was used",
    "Ask for a new email (verification or password reset).")
WORKFLOW_UNAVAILABLE = problem_type("workflow-unavailable", 503, "Workflow engine unavailable",
    "Temporal did not answer; your data is safe, try again shortly.")
WORKFLOW_REJECTED = problem_type("workflow-rejected", 409, "The process refused this change",
    "The running process rejected the request in its current state; `detail` says why.")
WORKFLOW_NOT_FOUND = problem_type("workflow-not-found", 404, "No such running process",
    "The workflow for this resource does not exist (yet); it may still be starting.")
SERVICE_BUSY = problem_type("service-busy", 503, "Busy, try again shortly",
    "Every database connection is in use; nothing was changed. Retry after the seconds in Retry-After.")
DATABASE_UNAVAILABLE = problem_type("database-unavailable", 503, "Database unavailable",
    "The database could not be reached; nothing was changed. Retry after the seconds in Retry-After.")
REPORT_UNAVAILABLE = problem_type("report-unavailable", 503, "Reports cannot be made right now",
    "The PDF renderer is not available on this server (WeasyPrint or its system libraries are missing).")

# The astrology and numerology engine's input errors: one type per stable error code, all 422,
# with `field` naming the input at fault and `code`/`details` as the engine gave them.
_ENGINE_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_input": ("The birth data is not usable", "The engine could not use the input; `detail` says why."),
    "coordinates_out_of_range": ("Coordinates out of range",
        "Latitude must be within -90..90 and longitude within -180..180 (east positive)."),
    "date_out_of_range": ("Date out of range",
        "The date is outside what the ephemeris supports (1000-01-01 to 2999-12-31); `min` and `max` say so."),
    "unknown_timezone": ("Unknown time zone", "Use an IANA time zone such as Asia/Kolkata."),
    "timezone_not_found": ("No time zone at these coordinates", "Give the time zone or a UTC offset."),
    "invalid_utc_offset": ("Invalid UTC offset", "Write the offset like +05:30 or -08:00, within ±18:00."),
    "conflicting_options": ("Conflicting options",
        "Two options exclude each other (e.g. an explicit UTC offset and local mean time)."),
    "place_required": ("Place of birth needed", "Give coordinates, a geonameid or a place name."),
    "nonexistent_local_time": ("This local time did not exist",
        "Clocks jumped over this time (a DST change); check it, or choose an offset with `fold` "
        "('earlier' or 'later'); `candidates` lists both readings."),
    "ambiguous_local_time": ("This local time happened twice",
        "Clocks went back over this time; say which with `fold` ('earlier' or 'later'); `candidates` lists both."),
    "unknown_place": ("Unknown place",
        "The gazetteer (cities over 15,000 people) has no such place; `suggestions` lists near matches, "
        "or give coordinates."),
    "ambiguous_place": ("Several places have this name",
        "Narrow it with `country_code` or pick one by `geonameid` from `candidates`."),
    "dasha_out_of_range": ("Outside the dasha cycle",
        "The date is before birth or after the 120-year Vimshottari cycle."),
    "invalid_setting": ("Invalid setting", "A setting has a value the engine does not know; `allowed` lists them."),
    "invalid_name": ("No letters to count", "The name has no Latin letter; transliterate it first."),
}
ENGINE_PROBLEMS: dict[str, ProblemType] = {
    code: problem_type("astrology-" + code.replace("_", "-"), 422, title, description)
    for code, (title, description) in _ENGINE_ERRORS.items()
}


def engine_problem(exc: Any, field: str | None = None) -> Problem:
    """An `EngineInputError` as a Problem: its code's type, its message, the field at fault
    (`field` overrides the engine's, e.g. to add the request's `birth.` prefix), `code` and
    the details (candidates, suggestions, allowed values)."""
    kind = ENGINE_PROBLEMS.get(exc.code, ENGINE_PROBLEMS["invalid_input"])
    extra = {"code": exc.code, **{k: v for k, v in exc.details.items() if k not in {"code", "field"}}}
    return Problem(kind, exc.message, field=field or exc.field, extra=extra)


FILE_TOO_LARGE = problem_type("file-too-large", 413, "The file is too large",
    "An upload may be at most UPLOAD_MAX_BYTES (20 MiB unless configured); `detail` gives the limit.")
FILE_TYPE_REFUSED = problem_type("unsupported-file-type", 415, "This kind of file is not accepted",
    "Files are recognised by their content, not their name: PDF documents and PNG, JPEG, WebP or GIF "
    "images; a report must be a PDF. A name that claims another kind than the content is refused too.")
DOWNLOAD_LINK_INVALID = problem_type("download-link-invalid", 403, "This download link is not valid",
    "The link was changed, belongs to another file, or its person may no longer fetch the file; "
    "ask for a new one (GET /api/v1/files/{file_id}/download-link).")
DOWNLOAD_LINK_EXPIRED = problem_type("download-link-expired", 410, "This download link has expired",
    "Download links work for a limited time; sign in and ask for a new one "
    "(GET /api/v1/files/{file_id}/download-link).")
SLOT_TAKEN = problem_type("slot-taken", 409, "That time was just taken",
    "Another booking holds this time (or overlaps it with its buffers). List the free slots again and "
    "choose another.")
NOT_A_SLOT = problem_type("not-a-slot", 422, "That time is not offered",
    "Choose a starts_at from the offering's free slots: inside working hours, on the slot step, with "
    "enough notice, within the booking horizon and the daily limit.")
SOLD_OUT = problem_type("sold-out", 409, "No seats left",
    "Every seat of this webinar session is taken; choose another session.")
INVALID_LINK = problem_type("invalid-link", 404, "This link is not valid",
    "The link is incomplete or was not made by us; open it from the most recent email.")
COUPON_NOT_APPLICABLE = problem_type("coupon-not-applicable", 422, "This coupon cannot be used here",
    "The coupon does not exist, is not valid now, does not apply to these items or has been used up; "
    "`detail` says which.")
PAYMENT_SIGNATURE_INVALID = problem_type("payment-signature-invalid", 400, "The payment could not be verified",
    "The Razorpay signature does not match this order and payment. Nothing was changed; the attempt is logged.")
WEBHOOK_SIGNATURE_INVALID = problem_type("webhook-signature-invalid", 400, "The webhook signature is wrong",
    "X-Razorpay-Signature is not the HMAC-SHA256 of the body with this account's webhook secret. "
    "Nothing was changed; the attempt is logged.")
PAYMENTS_UNAVAILABLE = problem_type("payments-unavailable", 503, "Online payments are not available",
    "No Razorpay account is configured for this consultancy, or Razorpay did not answer; try again later.")
INSUFFICIENT_WALLET = problem_type("insufficient-wallet-balance", 409, "Not enough in the wallet",
    "The client's wallet holds less than this needs.")
ORDER_NOT_PAYABLE = problem_type("order-not-payable", 409, "This order cannot be paid now",
    "The order is paid, expired, cancelled or paid from the wallet; `detail` says which.")
QUOTATION_CLOSED = problem_type("quotation-closed", 409, "This quotation cannot be changed now",
    "The quotation is accepted, paid, rejected, expired, withdrawn or lapsed (or, for an edit, no longer a draft); "
    "`detail` says which. Revise a sent quotation instead of editing it.")
QUOTATION_EXPIRED = problem_type("quotation-expired", 409, "This quotation has expired",
    "Its validity ended before the request arrived; ask the consultancy for a new one or an extension.")
BOOKING_NOT_PAYABLE = problem_type("booking-not-payable", 409, "This booking cannot be paid",
    "Only a booking held for payment, before its hold runs out, can be paid: this one is free, confirmed, "
    "already paid, cancelled or abandoned, or its hold has expired; `detail` says which.")
NO_PACKAGE_CREDIT = problem_type("no-package-credit", 409, "No session credit left",
    "The client has no unexpired session-package credit for this offering (none bought, all used or expired); "
    "buy a package at checkout or book and pay the session.")
TEMPLATE_INVALID = problem_type("template-invalid", 422, "The template cannot be rendered",
    "Rendering it with the event's sample values failed: a variable the event does not have, a syntax "
    "error or an operation templates may not use. `detail` says which and where; `field` names the part.")
WEBHOOK_SIGNATURE = problem_type("webhook-signature-invalid", 403, "The webhook signature does not verify",
    "The request is not signed by the provider with the key configured for it (or is too old); "
    "nothing was changed.")
PAYLOAD_TOO_LARGE = problem_type("payload-too-large", 413, "The request body is too large",
    "Send a smaller body; `detail` gives the limit.")
INTERNAL = problem_type("internal", 500, "Something went wrong on our side",
    "The error was logged with the request id; quote it to support.")


@dataclass
class Problem(Exception):
    kind: ProblemType
    detail: str | None = None
    field: str | None = None
    extra: dict[str, Any] = dc_field(default_factory=dict)
    headers: dict[str, str] = dc_field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind.slug}: {self.detail or self.kind.title}"


def problem_body(
    kind: ProblemType,
    detail: str | None,
    *,
    instance: str | None = None,
    field_name: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{kind.slug}",
        "title": kind.title,
        "status": kind.status,
        "detail": detail or kind.description,
    }
    if instance:
        body["instance"] = instance
    if field_name:
        body["field"] = field_name
    if request_id_var.get():
        body["request_id"] = request_id_var.get()
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    PROBLEMS.labels(body["type"]).inc()
    body.update(extra or {})
    return body


def problem_response(
    kind: ProblemType,
    detail: str | None = None,
    *,
    request: Request | None = None,
    field_name: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    instance = request.url.path if request else None
    return JSONResponse(
        problem_body(kind, detail, instance=instance, field_name=field_name, extra=extra),
        status_code=kind.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "email") -> "email"; ("query", "limit") -> "limit"; nested -> "a.b.0"
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        errors.append({"field": _location(err.get("loc", ())), "message": message,
                       "code": str(err.get("type", "invalid"))})
    return errors


def webhook_provider(request: Request) -> str:
    """`razorpay`, `sendgrid`, `twilio`: the word after /webhooks/ in the route's template."""
    route = request.scope.get("route")
    path = str(getattr(route, "path_format", "") or "")
    _, _, rest = path.partition("/webhooks/")
    return rest.split("/", 1)[0] or "unknown"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        if exc.kind.slug == "webhook-signature-invalid":
            WEBHOOKS_REJECTED.labels(webhook_provider(request), "signature").inc()
        return problem_response(exc.kind, exc.detail, request=request, field_name=exc.field,
                                extra=exc.extra, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["code"] == "json_invalid" for e in errors):
            return problem_response(MALFORMED_JSON, request=request, field_name="body")
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        detail = f"{first['field']}: {first['message']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem_response(VALIDATION, detail, request=request, field_name=first["field"],
                                extra={"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}.get(exc.status_code)
        if kind is None:
            kind = ProblemType("http-" + str(exc.status_code), exc.status_code, str(exc.detail), "")
        detail = None if exc.detail in (None, "Not Found") else str(exc.detail)
        return problem_response(kind, detail, request=request, headers=dict(exc.headers or {}))

    @app.exception_handler(EngineInputError)
    async def _engine(request: Request, exc: EngineInputError) -> JSONResponse:
        problem = engine_problem(exc)
        return problem_response(problem.kind, problem.detail, request=request, field_name=problem.field,
                                extra=problem.extra)

    @app.exception_handler(WorkflowAlreadyStartedError)
    async def _already_started(request: Request, exc: WorkflowAlreadyStartedError) -> JSONResponse:
        return problem_response(ALREADY_EXISTS, f"workflow {exc.workflow_id} is already running",
                                request=request)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(request: Request, exc: WorkflowUpdateFailedError) -> JSONResponse:
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        field_name = None
        if isinstance(cause, ApplicationError) and cause.details:
            first = cause.details[0]
            if isinstance(first, dict):
                field_name = first.get("field")
        return problem_response(WORKFLOW_REJECTED, message, request=request, field_name=field_name)

    @app.exception_handler(RPCError)
    async def _rpc(request: Request, exc: RPCError) -> JSONResponse:
        TEMPORAL_CLIENT_ERRORS.labels("api", exc.status.name.lower()).inc()
        if exc.status == RPCStatusCode.NOT_FOUND:
            return problem_response(WORKFLOW_NOT_FOUND, request=request)
        log.warning("temporal call failed: %s", exc)
        return problem_response(WORKFLOW_UNAVAILABLE, request=request, headers={"Retry-After": "5"})

    @app.exception_handler(WorkflowCallTimeout)
    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _workflow_slow(request: Request, exc: Exception) -> JSONResponse:
        log.warning("temporal call ran out of time: %s", exc)
        return problem_response(WORKFLOW_UNAVAILABLE, "the process did not answer in time; the change may still be "
                                "applied: read the resource before you retry", request=request,
                                headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return problem_response(SERVICE_BUSY, request=request, headers={"Retry-After": "2"})

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not exc.connection_invalidated and not _is_connection_error(exc):
            log.exception("database error on %s %s", request.method, request.url.path)
            return problem_response(INTERNAL, request=request)
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(DATABASE_UNAVAILABLE, request=request, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, RedisError):
            REDIS_ERRORS.labels("api").inc()
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(INTERNAL, request=request)


def _is_connection_error(exc: DBAPIError) -> bool:
    """psycopg's OperationalError for a refused or lost connection (SQLSTATE class 08, or none)."""
    from psycopg import OperationalError

    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    return isinstance(orig, OperationalError) and (sqlstate is None or sqlstate.startswith("08"))
