"""The words of every notification, in English and Hindi, and how they are rendered.

Templates are Jinja2 in a sandbox (tenants edit their own overrides, so a template must not reach
Python objects) with StrictUndefined: a missing variable is an error at render time, never a
blank in a client's inbox. Instants are shown in the reader's zone and language with the filters
`local_time` ("18:30 IST"), `local_date` ("Sat 28 Nov 2026") and `local_datetime` (both).

Lookup order for (event, channel, locale): the reader's language before English; within a
language the tenant's override before the built-in text; WhatsApp falls back to the SMS text and
in-app to the email text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, UndefinedError, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domain.notification_channels import Channel
from domain.notification_events import AUTOMATIC_SAMPLE, EventSpec, coerce_variables, event_spec
from domain.notification_texts import BUILTIN
from domain.notification_texts.base import OverrideKey, TemplateText

LANGUAGES = ("en", "hi")
MAX_TEMPLATE_LENGTH = 10_000
MAX_SMS_LENGTH = 1600  # Twilio's limit for one message body
CHANNEL_FALLBACK: dict[Channel, tuple[Channel, ...]] = {
    Channel.EMAIL: (Channel.EMAIL,),
    Channel.SMS: (Channel.SMS,),
    Channel.WHATSAPP: (Channel.WHATSAPP, Channel.SMS),
    Channel.IN_APP: (Channel.IN_APP, Channel.EMAIL),
}
CHANNELS_WITH_SUBJECT = frozenset({Channel.EMAIL, Channel.IN_APP})  # the in-app title


def language_of(locale: str | None) -> str:
    base = (locale or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


# -- formatting instants for a reader ---------------------------------------------------------------
_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "hi": ["सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"],
}
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "hi": ["जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्तूबर", "नवंबर",
           "दिसंबर"],
}


def zone_abbreviation(local: datetime) -> str:
    """IST, GMT, BST, EST... and for zones without a letter abbreviation 'UTC+4', 'UTC+5:45'."""
    name = local.tzname() or "UTC"
    if name[:1] not in "+-":
        return name
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _as_instant(value: Any) -> datetime:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # "'starts_at' is undefined", as for any other use
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"expected an instant with a time zone, got {value!r}")
    return value


def format_instant(value: datetime | str, timezone: str, locale: str = "en", style: str = "datetime") -> str:
    """An instant as its reader sees it: `time` "18:30 IST", `date` "Sat 28 Nov 2026" (Hindi:
    "शनिवार, 28 नवंबर 2026"), `datetime` "Sat 28 Nov 2026, 18:30 IST"."""
    local = _as_instant(value).astimezone(ZoneInfo(timezone))
    lang = language_of(locale)
    clock = f"{local:%H:%M} {zone_abbreviation(local)}"
    weekday, month = _WEEKDAYS[lang][local.weekday()], _MONTHS[lang][local.month - 1]
    separator = ", " if lang == "hi" else " "
    day = f"{weekday}{separator}{local.day} {month} {local.year}"
    if style == "time":
        return clock
    if style == "date":
        return day
    return f"{day}, {clock}"


# An order's status as a word in a sentence ("the order had expired"), per language.
_ORDER_STATUS_WORDS: dict[str, dict[str, str]] = {
    "hi": {"pending_payment": "भुगतान बाकी", "paid": "भुगतान हो चुका", "fulfilled": "पूरा",
           "awaiting_fulfilment": "पूरा होना बाकी", "fulfilment_failed": "विफल", "needs_review": "जाँच में",
           "expired": "समाप्त", "cancelled": "रद्द", "refunded": "रिफ़ंड"},
}


def order_notice_words(variables: dict[str, str], timezone: str, locale: str | None) -> dict[str, str]:
    """An order notice's values for one reader: `status` (an order status code) as a word of
    their language, `expires` (an ISO instant) on their clock. Other values are left as they are;
    values already written out (notices from before this) pass through."""
    lang = language_of(locale)
    words = dict(variables)
    if "status" in words:
        code = words["status"]
        words["status"] = _ORDER_STATUS_WORDS.get(lang, {}).get(code, code.replace("_", " "))
    if words.get("expires"):
        with contextlib.suppress(ValueError):  # already written out
            words["expires"] = format_instant(datetime.fromisoformat(words["expires"]), timezone, lang)
    return words


@pass_context
def _local_time(context: Context, value: Any) -> str:
    return format_instant(value, context["recipient_timezone"], context["recipient_locale"], "time")


@pass_context
def _local_date(context: Context, value: Any) -> str:
    return format_instant(value, context["recipient_timezone"], context["recipient_locale"], "date")


@pass_context
def _local_datetime(context: Context, value: Any) -> str:
    return format_instant(value, context["recipient_timezone"], context["recipient_locale"], "datetime")


_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_env.filters.update(local_time=_local_time, local_date=_local_date, local_datetime=_local_datetime)


# -- templates ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


class TemplateError(ValueError):
    """A template that cannot be rendered: syntax, a missing variable, a forbidden operation."""

    def __init__(self, message: str, part: str = "body") -> None:
        super().__init__(message)
        self.part = part


@lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    return _env.from_string(source)


def _render_part(source: str, context: Mapping[str, Any], part: str) -> str:
    try:
        return _compile(source).render(context)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{part}: line {exc.lineno}: {exc.message}", part) from exc
    except UndefinedError as exc:
        raise TemplateError(f"{part}: {exc.message}", part) from exc
    except SecurityError as exc:
        raise TemplateError(f"{part}: not allowed in a template ({exc})", part) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{part}: {exc}", part) from exc


def render_template(text: TemplateText, variables: Mapping[str, Any], *, timezone: str, locale: str) -> Rendered:
    # the reader's zone and language are ours to set, never a caller's variable
    context = {**variables, "recipient_timezone": timezone, "recipient_locale": language_of(locale)}
    subject = None
    if text.subject is not None:
        # one line: a subject never carries a header break, whatever a variable holds
        subject = " ".join(_render_part(text.subject, context, "subject").split())[:300]
    return Rendered(subject=subject, body=_render_part(text.body, context, "body"))


@dataclass(frozen=True)
class ResolvedTemplate:
    text: TemplateText
    channel: Channel   # the channel whose text is used (WhatsApp may use the SMS text)
    language: str
    source: str        # "tenant" or "builtin"


def resolve_template(
    event: str, channel: Channel, locale: str | None, overrides: Mapping[OverrideKey, TemplateText] | None = None
) -> ResolvedTemplate | None:
    overrides = overrides or {}
    for language in dict.fromkeys((language_of(locale), "en")):
        for candidate in CHANNEL_FALLBACK[channel]:
            key = (event, candidate, language)
            if key in overrides:
                return ResolvedTemplate(overrides[key], candidate, language, "tenant")
            if key in BUILTIN:
                return ResolvedTemplate(BUILTIN[key], candidate, language, "builtin")
    return None


def sample_variables(spec: EventSpec, locale: str = "en") -> dict[str, Any]:
    return {**AUTOMATIC_SAMPLE, "recipient_locale": language_of(locale), **coerce_variables(spec, spec.sample)}


def validate_template(event: str, channel: Channel, locale: str, subject: str | None, body: str) -> Rendered:
    """Check a tenant's template before it is saved: render it with the event's sample values.

    Raises TemplateError (with `part`) for anything a real send would trip over.
    """
    spec = event_spec(event)
    if channel in CHANNELS_WITH_SUBJECT and not (subject and subject.strip()):
        raise TemplateError("this channel needs a subject (email) or title (in-app)", "subject")
    if channel not in CHANNELS_WITH_SUBJECT and subject:
        raise TemplateError(f"{channel.value} messages have no subject; leave it out", "subject")
    for part, source in (("subject", subject or ""), ("body", body)):
        if len(source) > MAX_TEMPLATE_LENGTH:
            raise TemplateError(f"{part}: at most {MAX_TEMPLATE_LENGTH} characters", part)
    if not body.strip():
        raise TemplateError("body: write the message", "body")
    rendered = render_template(TemplateText(subject, body), sample_variables(spec, locale), timezone="Asia/Kolkata",
                               locale=locale)
    if channel in (Channel.SMS, Channel.WHATSAPP) and len(rendered.body) > MAX_SMS_LENGTH:
        raise TemplateError(f"body: {len(rendered.body)} characters with the sample values; "
                            f"{channel.value} allows {MAX_SMS_LENGTH}", "body")
    return rendered
