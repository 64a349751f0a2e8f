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
class TemplateText:
    subject: str | None  # email subject / in-app title; None for SMS and WhatsApp
    body: str


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


OverrideKey = tuple[str, Channel, str]  # event, channel, language


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


# -- the built-in texts ---------------------------------------------------------------------------------
def _t(subject: str | None, body: str) -> TemplateText:
    return TemplateText(subject, body)


E, S, W, A = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP

BUILTIN: dict[OverrideKey, TemplateText] = {
    # -- account and onboarding (the spine's messages; English wording unchanged) -----------------
    ("verify_email", E, "en"): _t(
        "Confirm your email for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nConfirm your email address by opening this link:\n"
        "{{ link }}\n\nThe link works once and expires in {{ hours }} hours.\n"),
    ("verify_email", E, "hi"): _t(
        "{{ tenant_name }} के लिए अपना ईमेल पक्का करें",
        "नमस्ते {{ full_name }},\n\nयह लिंक खोलकर अपना ईमेल पता पक्का करें:\n{{ link }}\n\n"
        "यह लिंक एक ही बार काम करता है और {{ hours }} घंटे में समाप्त हो जाएगा।\n"),
    ("verify_email_reminder", E, "en"): _t(
        "Reminder: confirm your email for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nYour consultancy {{ tenant_name }} is waiting for you to "
        "confirm your email. Ask for a new link from the sign-in page if the old one expired.\n"),
    ("verify_email_reminder", E, "hi"): _t(
        "याद दिला दें: {{ tenant_name }} के लिए अपना ईमेल पक्का करें",
        "नमस्ते {{ full_name }},\n\nआपकी कंसल्टेंसी {{ tenant_name }} आपके ईमेल की पुष्टि की प्रतीक्षा में है। "
        "पुराना लिंक समाप्त हो गया हो तो साइन-इन पेज से नया लिंक मँगाएँ।\n"),
    ("reset_password", E, "en"): _t(
        "Reset your password",
        "Hello {{ full_name }},\n\nSomeone (hopefully you) asked to reset your password. "
        "Open this link to choose a new one:\n{{ link }}\n\nIt works once and expires in "
        "{{ minutes }} minutes. If it was not you, ignore this message.\n"),
    ("reset_password", E, "hi"): _t(
        "अपना पासवर्ड बदलें",
        "नमस्ते {{ full_name }},\n\nकिसी ने (उम्मीद है आपने) आपका पासवर्ड बदलने को कहा है। "
        "नया पासवर्ड चुनने के लिए यह लिंक खोलें:\n{{ link }}\n\nयह एक ही बार काम करता है और "
        "{{ minutes }} मिनट में समाप्त हो जाएगा। अगर यह आप नहीं थे, तो इस संदेश को अनदेखा करें।\n"),
    ("onboarding_pending_admin", E, "en"): _t(
        "{{ count }} consultanc{{ 'y' if count == 1 else 'ies' }} waiting for approval",
        "The consultancy '{{ tenant_name }}' ({{ tenant_slug }}) has been waiting for approval "
        "since {{ since }}. Review it at {{ link }}.\n"),
    ("onboarding_pending_admin", E, "hi"): _t(
        "{{ count }} कंसल्टेंसी स्वीकृति की प्रतीक्षा में",
        "कंसल्टेंसी '{{ tenant_name }}' ({{ tenant_slug }}) {{ since }} से स्वीकृति की प्रतीक्षा में है। "
        "इसे यहाँ देखें: {{ link }}\n"),
    ("onboarding_approved", E, "en"): _t(
        "{{ tenant_name }} is approved",
        "Hello {{ full_name }},\n\nGood news: {{ tenant_name }} is approved and your dashboard "
        "is open. Sign in to set up your offerings.\n"),
    ("onboarding_approved", E, "hi"): _t(
        "{{ tenant_name }} स्वीकृत हो गई",
        "नमस्ते {{ full_name }},\n\nखुशख़बरी: {{ tenant_name }} स्वीकृत हो गई है और आपका डैशबोर्ड खुल गया है। "
        "अपनी सेवाएँ जोड़ने के लिए साइन इन करें।\n"),
    ("provider_failing", E, "en"): _t(
        "Your {{ provider }} account is failing: messages are waiting",
        "{{ provider }} refused or did not answer the {{ channel }} messages sent with your consultancy's own "
        "account: {{ reason }}. They are kept and retried with growing pauses for a day. Check the keys in "
        "your notification settings: {{ link }}\n"),
    ("provider_failing", E, "hi"): _t(
        "आपका {{ provider }} खाता काम नहीं कर रहा: संदेश रुके हुए हैं",
        "आपकी कंसल्टेंसी के अपने खाते से भेजे गए {{ channel }} संदेश {{ provider }} ने अस्वीकार किए या उत्तर नहीं "
        "दिया: {{ reason }}। संदेश रखे गए हैं और एक दिन तक बढ़ते अंतराल पर फिर भेजे जाएँगे। अपनी सूचना सेटिंग्स "
        "में कुंजियाँ जाँचें: {{ link }}\n"),
    ("payment_keys_refused", E, "en"): _t(
        "Razorpay refused your payment keys: clients cannot pay",
        "Razorpay refused the keys saved in your payment settings (key id {{ key_id }}): {{ reason }}. Until "
        "they work, your clients' checkouts fail and nothing is charged. Update the Razorpay key id, key secret "
        "and webhook secret in your payment settings (PUT {{ link }}); checkouts work again at once.\n"),
    ("payment_keys_refused", E, "hi"): _t(
        "Razorpay ने आपकी भुगतान कुंजियाँ अस्वीकार कीं: क्लाइंट भुगतान नहीं कर पा रहे",
        "आपकी भुगतान सेटिंग्स में सहेजी गई कुंजियाँ (key id {{ key_id }}) Razorpay ने अस्वीकार कीं: {{ reason }}। "
        "जब तक ये ठीक नहीं होतीं, आपके क्लाइंट का भुगतान विफल होगा और कोई राशि नहीं कटेगी। अपनी भुगतान "
        "सेटिंग्स में Razorpay की key id, key secret और webhook secret अपडेट करें (PUT {{ link }}); भुगतान "
        "तुरंत फिर से चलने लगेगा।\n"),
    ("onboarding_rejected", E, "en"): _t(
        "About your application for {{ tenant_name }}",
        "Hello {{ full_name }},\n\nWe could not approve {{ tenant_name }}: {{ reason }}\n\n"
        "Reply to this message if you would like to discuss it.\n"),
    ("onboarding_rejected", E, "hi"): _t(
        "{{ tenant_name }} के आवेदन के बारे में",
        "नमस्ते {{ full_name }},\n\nहम {{ tenant_name }} को स्वीकृत नहीं कर सके: {{ reason }}\n\n"
        "इस पर बात करनी हो तो इस संदेश का उत्तर दें।\n"),
    # -- session booked ---------------------------------------------------------------------------------
    ("session_booked", E, "en"): _t(
        "Booked: {{ service_name }} on {{ starts_at | local_date }}",
        "Hello {{ recipient_name }},\n\nYour session \"{{ service_name }}\" with {{ counterpart_name }} is booked "
        "for {{ starts_at | local_datetime }} ({{ duration_minutes }} minutes).\n\nJoin here: {{ join_url }}\n\n"
        "{{ tenant_name }}\n"),
    ("session_booked", E, "hi"): _t(
        "बुकिंग पक्की: {{ service_name }}, {{ starts_at | local_date }}",
        "नमस्ते {{ recipient_name }},\n\n{{ counterpart_name }} के साथ आपका सत्र \"{{ service_name }}\" "
        "{{ starts_at | local_datetime }} के लिए बुक हो गया है ({{ duration_minutes }} मिनट)।\n\n"
        "यहाँ जुड़ें: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_booked", S, "en"): _t(
        None, "{{ tenant_name }}: {{ service_name }} with {{ counterpart_name }} is booked for "
              "{{ starts_at | local_datetime }}. Join: {{ join_url }}"),
    ("session_booked", S, "hi"): _t(
        None, "{{ tenant_name }}: {{ counterpart_name }} के साथ {{ service_name }} {{ starts_at | local_datetime }} "
              "के लिए बुक है। जुड़ें: {{ join_url }}"),
    ("session_booked", A, "en"): _t(
        "Session booked", "{{ service_name }} with {{ counterpart_name }} on {{ starts_at | local_datetime }}."),
    ("session_booked", A, "hi"): _t(
        "सत्र बुक हुआ", "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_datetime }}।"),
    # -- session reminder --------------------------------------------------------------------------------
    ("session_reminder", E, "en"): _t(
        "Reminder: {{ service_name }} at {{ starts_at | local_time }}",
        "Hello {{ recipient_name }},\n\nA reminder: your session \"{{ service_name }}\" with {{ counterpart_name }} "
        "starts {{ starts_at | local_datetime }}.\n\nJoin here: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_reminder", E, "hi"): _t(
        "याद दिला दें: {{ service_name }}, {{ starts_at | local_time }}",
        "नमस्ते {{ recipient_name }},\n\nयाद दिला दें: {{ counterpart_name }} के साथ आपका सत्र \"{{ service_name }}\" "
        "{{ starts_at | local_datetime }} पर शुरू होगा।\n\nयहाँ जुड़ें: {{ join_url }}\n\n{{ tenant_name }}\n"),
    ("session_reminder", S, "en"): _t(
        None, "Reminder from {{ tenant_name }}: {{ service_name }} with {{ counterpart_name }} at "
              "{{ starts_at | local_datetime }}. Join: {{ join_url }}"),
    ("session_reminder", S, "hi"): _t(
        None, "{{ tenant_name }} की ओर से याद दिला दें: {{ counterpart_name }} के साथ {{ service_name }}, "
              "{{ starts_at | local_datetime }}। जुड़ें: {{ join_url }}"),
    ("session_reminder", A, "en"): _t(
        "Upcoming session", "{{ service_name }} with {{ counterpart_name }} at {{ starts_at | local_datetime }}."),
    ("session_reminder", A, "hi"): _t(
        "आने वाला सत्र", "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_datetime }}।"),
    # -- session starting soon (urgent) ------------------------------------------------------------------
    ("session_starting_soon", E, "en"): _t(
        "Starting in {{ minutes }} minutes: {{ service_name }}",
        "Hello {{ recipient_name }},\n\n\"{{ service_name }}\" with {{ counterpart_name }} starts in {{ minutes }} "
        "minutes, at {{ starts_at | local_time }}.\n\nJoin here: {{ join_url }}\n"),
    ("session_starting_soon", E, "hi"): _t(
        "{{ minutes }} मिनट में शुरू: {{ service_name }}",
        "नमस्ते {{ recipient_name }},\n\n{{ counterpart_name }} के साथ \"{{ service_name }}\" {{ minutes }} मिनट में, "
        "{{ starts_at | local_time }} पर शुरू होगा।\n\nयहाँ जुड़ें: {{ join_url }}\n"),
    ("session_starting_soon", S, "en"): _t(
        None, "{{ service_name }} with {{ counterpart_name }} starts in {{ minutes }} minutes "
              "({{ starts_at | local_time }}). Join: {{ join_url }}"),
    ("session_starting_soon", S, "hi"): _t(
        None, "{{ counterpart_name }} के साथ {{ service_name }} {{ minutes }} मिनट में शुरू होगा "
              "({{ starts_at | local_time }})। जुड़ें: {{ join_url }}"),
    ("session_starting_soon", A, "en"): _t(
        "Starting in {{ minutes }} minutes",
        "{{ service_name }} with {{ counterpart_name }} at {{ starts_at | local_time }}. Join: {{ join_url }}"),
    ("session_starting_soon", A, "hi"): _t(
        "{{ minutes }} मिनट में शुरू",
        "{{ counterpart_name }} के साथ {{ service_name }}, {{ starts_at | local_time }}। जुड़ें: {{ join_url }}"),
    # -- report delivery (English wording as the documents capability wrote it) ---------------------------
    ("report_due_soon", E, "en"): _t(
        "Report due {{ due }}: {{ title }}",
        "Hello {{ full_name }},\n\nThe report \"{{ title }}\" for {{ client_name }} is due on {{ due }} "
        "and has not been uploaded yet. Upload the PDF here:\n{{ link }}\n"),
    ("report_due_soon", E, "hi"): _t(
        "रिपोर्ट {{ due }} तक देनी है: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ client_name }} की रिपोर्ट \"{{ title }}\" {{ due }} तक देनी है और अभी अपलोड "
        "नहीं हुई है। PDF यहाँ अपलोड करें:\n{{ link }}\n"),
    ("report_due_soon", A, "en"): _t(
        "Report due {{ due }}", "\"{{ title }}\" for {{ client_name }} is not uploaded yet."),
    ("report_due_soon", A, "hi"): _t("रिपोर्ट {{ due }} तक", "{{ client_name }} की \"{{ title }}\" अभी अपलोड नहीं हुई है।"),
    ("report_overdue", E, "en"): _t(
        "Overdue: {{ title }}",
        "Hello {{ full_name }},\n\nThe report \"{{ title }}\" for {{ client_name }} was due on {{ due }} "
        "and is overdue. Upload the PDF as soon as you can:\n{{ link }}\n"),
    ("report_overdue", E, "hi"): _t(
        "समय निकल गया: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ client_name }} की रिपोर्ट \"{{ title }}\" {{ due }} तक देनी थी और देर हो "
        "चुकी है। जल्द से जल्द PDF अपलोड करें:\n{{ link }}\n"),
    ("report_overdue", A, "en"): _t("Overdue: {{ title }}", "The report for {{ client_name }} was due {{ due }}."),
    ("report_overdue", A, "hi"): _t("समय निकल गया: {{ title }}", "{{ client_name }} की रिपोर्ट {{ due }} तक देनी थी।"),
    ("report_delivered", E, "en"): _t(
        "Your report is ready: {{ title }}",
        "Hello {{ full_name }},\n\n{{ tenant_name }} has delivered your report \"{{ title }}\".\n"
        "Download it here:\n{{ link }}\n\nThe link works until {{ expires }}; after that, sign in to "
        "download it again.\n"),
    ("report_delivered", E, "hi"): _t(
        "आपकी रिपोर्ट तैयार है: {{ title }}",
        "नमस्ते {{ full_name }},\n\n{{ tenant_name }} ने आपकी रिपोर्ट \"{{ title }}\" भेज दी है।\n"
        "इसे यहाँ डाउनलोड करें:\n{{ link }}\n\nयह लिंक {{ expires }} तक काम करेगा; उसके बाद साइन इन करके "
        "फिर से डाउनलोड करें।\n"),
    ("report_delivered", A, "en"): _t(
        "Your report is ready", "\"{{ title }}\" from {{ tenant_name }} is ready to download."),
    ("report_delivered", A, "hi"): _t(
        "आपकी रिपोर्ट तैयार है", "{{ tenant_name }} की \"{{ title }}\" डाउनलोड के लिए तैयार है।"),
    # -- announcements (broadcasts) -----------------------------------------------------------------------
    ("announcement", E, "en"): _t(
        "{{ title }}",
        "Hello {{ recipient_name }},\n\n{{ message }}\n\n{{ tenant_name }}\n\n"
        "You receive announcements as a client of {{ tenant_name }}; turn them off in your notification "
        "settings.\n"),
    ("announcement", E, "hi"): _t(
        "{{ title }}",
        "नमस्ते {{ recipient_name }},\n\n{{ message }}\n\n{{ tenant_name }}\n\n"
        "आपको ये घोषणाएँ {{ tenant_name }} के क्लाइंट के रूप में मिलती हैं; इन्हें अपनी सूचना सेटिंग में बंद कर "
        "सकते हैं।\n"),
    ("announcement", S, "en"): _t(None, "{{ tenant_name }}: {{ title }}. {{ message }}"),
    ("announcement", S, "hi"): _t(None, "{{ tenant_name }}: {{ title }}। {{ message }}"),
    ("announcement", A, "en"): _t("{{ title }}", "{{ message }}"),
    ("announcement", A, "hi"): _t("{{ title }}", "{{ message }}"),
}


# -- consultations (the Consultation workflow's messages, `consultation.<event>.<audience>`) ----------------
# `when` is the session's start on the reader's clock and in their language, with the zone's name
# (the booking's own zone for the client); `offset` ("tomorrow", "in 1 hour") and `refund` come in
# the reader's language too.
BUILTIN.update({
    ("consultation.held.client", E, "en"): _t(
        "Complete your payment to confirm {{ offering_title }}",
        "Hello {{ client_name }},\n\nWe are holding {{ when }} with {{ consultant_name }} for you until "
        "{{ hold_until }}. Complete the payment to confirm it; otherwise the time is released.\n\n"
        "{% if pay_link %}Pay now: {{ pay_link }}\n{% endif %}"
        "Manage your booking: {{ manage_url }}\n"),
    ("consultation.held.client", E, "hi"): _t(
        "{{ offering_title }} पक्का करने के लिए भुगतान पूरा करें",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ {{ when }} का समय {{ hold_until }} तक आपके लिए "
        "रोका गया है। इसे पक्का करने के लिए भुगतान पूरा करें; नहीं तो यह समय छोड़ दिया जाएगा।\n\n"
        "{% if pay_link %}अभी भुगतान करें: {{ pay_link }}\n{% endif %}"
        "अपनी बुकिंग सँभालें: {{ manage_url }}\n"),
    ("consultation.confirmed.client", E, "en"): _t(
        "Confirmed: {{ offering_title }} on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} is confirmed for "
        "{{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"
        "The invitation is attached; add it to your calendar.\n"
        "{% if confirmation_url %}Your booking confirmation (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.confirmed.client", E, "hi"): _t(
        "पक्का: {{ offering_title }}, {{ when }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपका {{ offering_title }} {{ when }} के लिए "
        "पक्का हो गया है।\nयहाँ जुड़ें: {{ meeting_url }}\n\nसमय बदलें या रद्द करें: {{ manage_url }}\n"
        "निमंत्रण साथ में है; इसे अपने कैलेंडर में जोड़ लें।\n"
        "{% if confirmation_url %}बुकिंग की पुष्टि (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.confirmed.consultant", E, "en"): _t(
        "New booking: {{ offering_title }} on {{ when }}",
        "{{ client_name }} booked {{ offering_title }} for {{ when }}.\nMeeting link: {{ meeting_url }}\n"
        "Details: {{ dashboard_url }}\n"),
    ("consultation.confirmed.consultant", E, "hi"): _t(
        "नई बुकिंग: {{ offering_title }}, {{ when }}",
        "{{ client_name }} ने {{ when }} के लिए {{ offering_title }} बुक किया है।\nमीटिंग लिंक: {{ meeting_url }}\n"
        "विवरण: {{ dashboard_url }}\n"),
    ("consultation.reminder.client", E, "en"): _t(
        "Reminder: {{ offering_title }} {{ offset }}",
        "Hello {{ client_name }},\n\nA reminder: your {{ offering_title }} with {{ consultant_name }} is "
        "{{ offset }}, at {{ when }}.\nJoin here: {{ meeting_url }}\n\nReschedule or cancel: {{ manage_url }}\n"),
    ("consultation.reminder.client", E, "hi"): _t(
        "याद दिला दें: {{ offering_title }} {{ offset }}",
        "नमस्ते {{ client_name }},\n\nयाद दिला दें: {{ consultant_name }} के साथ आपका {{ offering_title }} "
        "{{ offset }}, {{ when }} पर है।\nयहाँ जुड़ें: {{ meeting_url }}\n\nसमय बदलें या रद्द करें: {{ manage_url }}\n"),
    ("consultation.reminder.consultant", E, "en"): _t(
        "Reminder: {{ offering_title }} with {{ client_name }} {{ offset }}",
        "Your {{ offering_title }} with {{ client_name }} is {{ offset }}, at {{ when }}.\n"
        "Meeting link: {{ meeting_url }}\n"),
    ("consultation.reminder.consultant", E, "hi"): _t(
        "याद दिला दें: {{ client_name }} के साथ {{ offering_title }} {{ offset }}",
        "{{ client_name }} के साथ आपका {{ offering_title }} {{ offset }}, {{ when }} पर है।\n"
        "मीटिंग लिंक: {{ meeting_url }}\n"),
    ("consultation.reminder.client", S, "en"): _t(
        None, "{{ tenant_name }}: your {{ offering_title }} with {{ consultant_name }} is {{ offset }}, at "
              "{{ when }}. Join: {{ meeting_url }}"),
    ("consultation.reminder.client", S, "hi"): _t(
        None, "{{ tenant_name }}: {{ consultant_name }} के साथ आपका {{ offering_title }} {{ offset }}, {{ when }} पर "
              "है। जुड़ें: {{ meeting_url }}"),
    ("consultation.reminder.consultant", S, "en"): _t(
        None, "{{ offering_title }} with {{ client_name }} is {{ offset }}, at {{ when }}. Link: {{ meeting_url }}"),
    ("consultation.reminder.consultant", S, "hi"): _t(
        None, "{{ client_name }} के साथ {{ offering_title }} {{ offset }}, {{ when }} पर है। लिंक: {{ meeting_url }}"),
    ("consultation.rescheduled.client", E, "en"): _t(
        "Moved: {{ offering_title }} is now on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} now takes place on "
        "{{ when }}.\nJoin here: {{ meeting_url }}\n\nManage your booking: {{ manage_url }}\n"
        "The updated invitation is attached.\n"
        "{% if confirmation_url %}Your updated booking confirmation (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.rescheduled.client", E, "hi"): _t(
        "समय बदला: {{ offering_title }} अब {{ when }} को",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपका {{ offering_title }} अब {{ when }} को "
        "होगा।\nयहाँ जुड़ें: {{ meeting_url }}\n\nअपनी बुकिंग सँभालें: {{ manage_url }}\n"
        "नया निमंत्रण साथ में है।\n"
        "{% if confirmation_url %}बुकिंग की नई पुष्टि (PDF): {{ confirmation_url }}\n{% endif %}"),
    ("consultation.rescheduled.consultant", E, "en"): _t(
        "Moved: {{ offering_title }} with {{ client_name }} is now on {{ when }}",
        "{{ offering_title }} with {{ client_name }} was moved to {{ when }}.\nDetails: {{ dashboard_url }}\n"),
    ("consultation.rescheduled.consultant", E, "hi"): _t(
        "समय बदला: {{ client_name }} के साथ {{ offering_title }} अब {{ when }} को",
        "{{ client_name }} के साथ {{ offering_title }} का समय बदलकर {{ when }} हो गया है।\n"
        "विवरण: {{ dashboard_url }}\n"),
    ("consultation.cancelled.client", E, "en"): _t(
        "Cancelled: {{ offering_title }} on {{ when }}",
        "Hello {{ client_name }},\n\nYour {{ offering_title }} with {{ consultant_name }} on {{ when }} is "
        "cancelled.{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.cancelled.client", E, "hi"): _t(
        "रद्द: {{ offering_title }}, {{ when }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ {{ when }} का आपका {{ offering_title }} "
        "रद्द हो गया है।{% if reason %}\nकारण: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.refund_by_hand.consultant", E, "en"): _t(
        "Refund to make by hand: {{ offering_title }} with {{ client_name }}",
        "{{ offering_title }} with {{ client_name }} on {{ when }} was cancelled and its refund could not be "
        "passed to the booking's order (it is closed).\n{{ refund }}\nPlease refund the client by hand. "
        "The booking: {{ dashboard_url }}\n"),
    ("consultation.refund_by_hand.consultant", E, "hi"): _t(
        "हाथ से रिफ़ंड करें: {{ client_name }} के साथ {{ offering_title }}",
        "{{ client_name }} के साथ {{ when }} का {{ offering_title }} रद्द हुआ, पर उसका रिफ़ंड बुकिंग के ऑर्डर "
        "(जो बंद हो चुका है) तक नहीं पहुँच सका।\n{{ refund }}\nकृपया ग्राहक को हाथ से रिफ़ंड करें। बुकिंग: "
        "{{ dashboard_url }}\n"),
    ("consultation.cancelled.consultant", E, "en"): _t(
        "Cancelled: {{ offering_title }} with {{ client_name }} on {{ when }}",
        "{{ offering_title }} with {{ client_name }} on {{ when }} is cancelled."
        "{% if reason %}\nReason: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.cancelled.consultant", E, "hi"): _t(
        "रद्द: {{ client_name }} के साथ {{ offering_title }}, {{ when }}",
        "{{ client_name }} के साथ {{ when }} का {{ offering_title }} रद्द हो गया है।"
        "{% if reason %}\nकारण: {{ reason }}{% endif %}\n{{ refund }}\n"),
    ("consultation.hold_expired.client", E, "en"): _t(
        "Your hold on {{ when }} has expired",
        "Hello {{ client_name }},\n\nThe payment for {{ offering_title }} on {{ when }} did not arrive in time, "
        "so the time was released. You are welcome to book again.\n"),
    ("consultation.hold_expired.client", E, "hi"): _t(
        "{{ when }} के लिए रोका गया समय समाप्त हो गया",
        "नमस्ते {{ client_name }},\n\n{{ when }} के {{ offering_title }} का भुगतान समय पर नहीं आया, इसलिए "
        "वह समय छोड़ दिया गया। आप फिर से बुक कर सकते हैं।\n"),
    ("consultation.outcome_needed.consultant", E, "en"): _t(
        "How did {{ offering_title }} with {{ client_name }} go?",
        "{{ offering_title }} with {{ client_name }} ended at {{ when }}. Mark it completed (with a summary) or "
        "as a no-show: {{ dashboard_url }}\n"),
    ("consultation.outcome_needed.consultant", E, "hi"): _t(
        "{{ client_name }} के साथ {{ offering_title }} कैसा रहा?",
        "{{ client_name }} के साथ {{ offering_title }} {{ when }} पर था। इसे पूरा (सारांश के साथ) या "
        "अनुपस्थित दर्ज करें: {{ dashboard_url }}\n"),
    ("consultation.no_show.client", E, "en"): _t(
        "We missed you at {{ offering_title }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} waited for you at {{ when }}. If you would like "
        "another time, book again whenever suits you.\n"),
    ("consultation.no_show.client", E, "hi"): _t(
        "{{ offering_title }} में आप नहीं आ सके",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने {{ when }} पर आपकी प्रतीक्षा की। कोई और समय "
        "चाहिए तो जब सुविधा हो, फिर से बुक करें।\n"),
    ("consultation.feedback.client", E, "en"): _t(
        "How was your {{ offering_title }}?",
        "Hello {{ client_name }},\n\nThank you for your session with {{ consultant_name }}. "
        "Tell us how it went (it takes a minute): {{ feedback_url }}\n"),
    ("consultation.feedback.client", E, "hi"): _t(
        "आपका {{ offering_title }} कैसा रहा?",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ सत्र के लिए धन्यवाद। "
        "हमें बताएँ कि यह कैसा रहा (एक मिनट लगेगा): {{ feedback_url }}\n"),
    ("consultation.follow_up.client", E, "en"): _t(
        "Time for a follow-up with {{ consultant_name }}?",
        "Hello {{ client_name }},\n\nIt has been a while since your {{ offering_title }} with "
        "{{ consultant_name }}. If you would like to talk again, book a time here: {{ booking_page_url }}\n"),
    ("consultation.follow_up.client", E, "hi"): _t(
        "{{ consultant_name }} से फिर बात करने का समय?",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} के साथ आपके {{ offering_title }} को कुछ समय हो गया है। "
        "फिर से बात करनी हो तो यहाँ समय बुक करें: {{ booking_page_url }}\n"),
})


# -- payments (the Order workflow's messages) ----------------------------------------------------------
BUILTIN.update({
    ("payment_receipt", E, "en"): _t(
        "Receipt {{ invoice_number }} from {{ tenant_name }}",
        "Hello {{ full_name }},\n\nThank you: we received {{ amount }} for your order "
        "{{ order_ref }}.\n\n{{ items }}\n\nYour invoice {{ invoice_number }}: {{ link }}\n"),
    ("payment_receipt", E, "hi"): _t(
        "{{ tenant_name }} की रसीद {{ invoice_number }}",
        "नमस्ते {{ full_name }},\n\nधन्यवाद: आपके ऑर्डर {{ order_ref }} के लिए हमें {{ amount }} मिल गए हैं।"
        "\n\n{{ items }}\n\nआपका इनवॉइस {{ invoice_number }}: {{ link }}\n"),
    ("payment_failed", E, "en"): _t(
        "Your payment to {{ tenant_name }} did not go through",
        "Hello {{ full_name }},\n\nThe payment for order {{ order_ref }} failed ({{ reason }}). "
        "Nothing was charged; you can try again until {{ expires }}.\n"),
    ("payment_failed", E, "hi"): _t(
        "{{ tenant_name }} को आपका भुगतान नहीं हो सका",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का भुगतान नहीं हो सका ({{ reason }})। "
        "कोई राशि नहीं कटी; आप {{ expires }} तक फिर से कोशिश कर सकते हैं।\n"),
    ("order_expired", E, "en"): _t(
        "Your order with {{ tenant_name }} has expired",
        "Hello {{ full_name }},\n\nOrder {{ order_ref }} was not paid in time, so what it held "
        "has been released. Book again whenever you like.\n"),
    ("order_expired", E, "hi"): _t(
        "{{ tenant_name }} के साथ आपका ऑर्डर समाप्त हो गया",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का भुगतान समय पर नहीं हुआ, इसलिए उसके लिए रोका गया "
        "समय छोड़ दिया गया है। जब चाहें फिर से बुक करें।\n"),
    ("payment_needs_review", E, "en"): _t(
        "Payment needs review: order {{ order_ref }}",
        "A payment for order {{ order_ref }} cannot be accepted as it is: {{ reason }}. The order "
        "is not fulfilled; refund or resolve it from the dashboard.\n"),
    ("payment_needs_review", E, "hi"): _t(
        "भुगतान की जाँच ज़रूरी: ऑर्डर {{ order_ref }}",
        "ऑर्डर {{ order_ref }} का एक भुगतान जैसा है वैसा स्वीकार नहीं किया जा सकता: {{ reason }}। ऑर्डर पूरा "
        "नहीं किया गया है; डैशबोर्ड से पैसे लौटाएँ या मामला सुलझाएँ।\n"),
    ("fulfilment_failed", E, "en"): _t(
        "We could not complete your order with {{ tenant_name }}",
        "Hello {{ full_name }},\n\nWe are sorry: order {{ order_ref }} could not be completed "
        "({{ reason }}). {{ amount }} is being refunded to you.\n"),
    ("fulfilment_failed", E, "hi"): _t(
        "{{ tenant_name }} के साथ आपका ऑर्डर पूरा नहीं हो सका",
        "नमस्ते {{ full_name }},\n\nक्षमा करें: ऑर्डर {{ order_ref }} पूरा नहीं हो सका ({{ reason }})। "
        "{{ amount }} आपको लौटाए जा रहे हैं।\n"),
    ("fulfilment_failed_staff", E, "en"): _t(
        "Order {{ order_ref }} could not be fulfilled",
        "Order {{ order_ref }} was paid but could not be fulfilled: {{ reason }}. Holds were "
        "released and {{ amount }} is being refunded.\n"),
    ("fulfilment_failed_staff", E, "hi"): _t(
        "ऑर्डर {{ order_ref }} पूरा नहीं हो सका",
        "ऑर्डर {{ order_ref }} का भुगतान हुआ पर वह पूरा नहीं हो सका: {{ reason }}। रोके गए समय छोड़ दिए गए "
        "और {{ amount }} लौटाए जा रहे हैं।\n"),
    ("fulfilment_awaiting_handler", E, "en"): _t(
        "Order {{ order_ref }} needs manual fulfilment",
        "Order {{ order_ref }} is paid. These items have no automatic fulfilment yet: {{ kinds }}. "
        "Please deliver them and mark them done.\n"),
    ("fulfilment_awaiting_handler", E, "hi"): _t(
        "ऑर्डर {{ order_ref }} को हाथ से पूरा करना है",
        "ऑर्डर {{ order_ref }} का भुगतान हो गया है। इन चीज़ों के लिए अभी कोई अपने-आप होने वाली व्यवस्था नहीं "
        "है: {{ kinds }}। कृपया इन्हें पहुँचाएँ और पूरा हुआ दर्ज करें।\n"),
    ("late_payment_refunded", E, "en"): _t(
        "Your late payment to {{ tenant_name }} is being refunded",
        "Hello {{ full_name }},\n\nYour payment for order {{ order_ref }} arrived after the order "
        "had {{ status }}. {{ amount }} is being refunded to you in full.\n"),
    ("late_payment_refunded", E, "hi"): _t(
        "{{ tenant_name }} को देर से हुआ आपका भुगतान लौटाया जा रहा है",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} का आपका भुगतान ऑर्डर के {{ status }} होने के बाद "
        "पहुँचा। {{ amount }} आपको पूरे लौटाए जा रहे हैं।\n"),
    ("refund_processed", E, "en"): _t(
        "Refund of {{ amount }} from {{ tenant_name }}",
        "Hello {{ full_name }},\n\nA refund of {{ amount }} for order {{ order_ref }} has been "
        "processed{{ destination }}.\n"),
    ("refund_processed", E, "hi"): _t(
        "{{ tenant_name }} से {{ amount }} की वापसी",
        "नमस्ते {{ full_name }},\n\nऑर्डर {{ order_ref }} के लिए {{ amount }} की वापसी कर दी गई है"
        "{% if destination %} (आपके वॉलेट में){% endif %}।\n"),
    ("refund_failed_staff", E, "en"): _t(
        "Refund failed: order {{ order_ref }}",
        "The refund of {{ amount }} for order {{ order_ref }} failed: {{ reason }}. Refund it another "
        "way or try again.\n"),
    ("refund_failed_staff", E, "hi"): _t(
        "वापसी नहीं हो सकी: ऑर्डर {{ order_ref }}",
        "ऑर्डर {{ order_ref }} के लिए {{ amount }} की वापसी नहीं हो सकी: {{ reason }}। किसी और तरीके से लौटाएँ "
        "या फिर से कोशिश करें।\n"),
})


# -- courses (the Enrollment workflow's messages, and discussion notices) ----------------------------------
BUILTIN.update({
    ("course.enrolled", E, "en"): _t(
        "Welcome to {{ course_title }}",
        "Hello {{ client_name }},\n\nYou are enrolled in {{ course_title }}.{% if lessons %} Open now:\n{{ lessons }}"
        "{% endif %}\n{% if next_unlock %}\nThe next lesson opens {{ next_unlock }}.\n{% endif %}"
        "\nStart here: {{ course_url }}\n"),
    ("course.enrolled", E, "hi"): _t(
        "{{ course_title }} में आपका स्वागत है",
        "नमस्ते {{ client_name }},\n\nआपका नामांकन {{ course_title }} में हो गया है।{% if lessons %} अभी खुले पाठ:\n"
        "{{ lessons }}{% endif %}\n{% if next_unlock %}\nअगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}"
        "\nयहाँ से शुरू करें: {{ course_url }}\n"),
    ("course.unlocked", E, "en"): _t(
        "New lesson: {{ lesson_title }}",
        "Hello {{ client_name }},\n\n\"{{ lesson_title }}\" of {{ course_title }} is open now.\n"
        "{% if next_unlock %}The next one opens {{ next_unlock }}.\n{% endif %}\nContinue: {{ course_url }}\n"),
    ("course.unlocked", E, "hi"): _t(
        "नया पाठ: {{ lesson_title }}",
        "नमस्ते {{ client_name }},\n\n{{ course_title }} का \"{{ lesson_title }}\" अब खुल गया है।\n"
        "{% if next_unlock %}अगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.unlocked_digest", E, "en"): _t(
        "{{ count }} new lessons in {{ course_title }}",
        "Hello {{ client_name }},\n\nThese lessons of {{ course_title }} are open now:\n{{ lessons }}\n"
        "{% if next_unlock %}\nThe next one opens {{ next_unlock }}.\n{% endif %}\nContinue: {{ course_url }}\n"),
    ("course.unlocked_digest", E, "hi"): _t(
        "{{ course_title }} में {{ count }} नए पाठ",
        "नमस्ते {{ client_name }},\n\n{{ course_title }} के ये पाठ अब खुल गए हैं:\n{{ lessons }}\n"
        "{% if next_unlock %}\nअगला पाठ {{ next_unlock }} को खुलेगा।\n{% endif %}\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.nudge", E, "en"): _t(
        "Pick up {{ course_title }} where you left off",
        "Hello {{ client_name }},\n\nIt has been {{ days }} days since you last opened {{ course_title }}."
        "{% if lesson_title %} Next up: \"{{ lesson_title }}\".{% endif %}\n\nContinue: {{ course_url }}\n"),
    ("course.nudge", E, "hi"): _t(
        "{{ course_title }} वहीं से जारी रखें",
        "नमस्ते {{ client_name }},\n\nआपने {{ days }} दिनों से {{ course_title }} नहीं खोला है।"
        "{% if lesson_title %} अगला पाठ: \"{{ lesson_title }}\"।{% endif %}\n\nआगे बढ़ें: {{ course_url }}\n"),
    ("course.completed", E, "en"): _t(
        "You completed {{ course_title }}",
        "Hello {{ client_name }},\n\nCongratulations: you completed {{ course_title }}. Your certificate code is "
        "{{ certificate_code }}.\n{% if certificate_url %}Download your certificate: {{ certificate_url }}\n{% endif %}"
        "Anyone can check it at {{ verify_url }}\n"),
    ("course.completed", E, "hi"): _t(
        "आपने {{ course_title }} पूरा किया",
        "नमस्ते {{ client_name }},\n\nबधाई हो: आपने {{ course_title }} पूरा कर लिया। आपका प्रमाणपत्र कोड "
        "{{ certificate_code }} है।\n{% if certificate_url %}प्रमाणपत्र डाउनलोड करें: {{ certificate_url }}\n{% endif %}"
        "कोई भी इसे यहाँ जाँच सकता है: {{ verify_url }}\n"),
    ("course.question", E, "en"): _t(
        "Question on \"{{ lesson_title }}\"",
        "{{ author_name }} asked in {{ course_title }}, \"{{ lesson_title }}\":\n\n{{ text }}\n\n"
        "Answer here: {{ thread_url }}\n"),
    ("course.question", E, "hi"): _t(
        "\"{{ lesson_title }}\" पर प्रश्न",
        "{{ author_name }} ने {{ course_title }}, \"{{ lesson_title }}\" में पूछा:\n\n{{ text }}\n\n"
        "यहाँ उत्तर दें: {{ thread_url }}\n"),
    ("course.reply", E, "en"): _t(
        "Reply on \"{{ lesson_title }}\"",
        "{{ author_name }} replied in {{ course_title }}, \"{{ lesson_title }}\":\n\n{{ text }}\n\n"
        "See the discussion: {{ thread_url }}\n"),
    ("course.reply", E, "hi"): _t(
        "\"{{ lesson_title }}\" पर उत्तर",
        "{{ author_name }} ने {{ course_title }}, \"{{ lesson_title }}\" में उत्तर दिया:\n\n{{ text }}\n\n"
        "चर्चा देखें: {{ thread_url }}\n"),
    # -- the team -----------------------------------------------------------------------------------------
    ("team_invitation", E, "en"): _t(
        "{{ inviter_name }} invites you to {{ tenant_name }}",
        "Hello {{ recipient_name }},\n\n{{ inviter_name }} invites you to join {{ tenant_name }} as {{ role }}.\n"
        "Accept here (you choose a password, or sign in with the account you have there):\n{{ link }}\n\n"
        "The link works once and expires on {{ expires }}. If you did not expect this, ignore it.\n"),
    ("team_invitation", E, "hi"): _t(
        "{{ inviter_name }} ने आपको {{ tenant_name }} में आमंत्रित किया है",
        "नमस्ते {{ recipient_name }},\n\n{{ inviter_name }} ने आपको {{ tenant_name }} में {{ role }} के रूप में "
        "जुड़ने के लिए आमंत्रित किया है।\nयहाँ स्वीकार करें (नया पासवर्ड चुनें, या वहाँ के अपने खाते से साइन इन करें):\n"
        "{{ link }}\n\nयह लिंक एक ही बार काम करता है और {{ expires }} को समाप्त हो जाएगा। अगर आपको इसकी "
        "अपेक्षा नहीं थी, तो इसे अनदेखा करें।\n"),
    # -- platform administration ----------------------------------------------------------------------------
    ("tenant_suspended", E, "en"): _t(
        "{{ tenant_name }} is suspended",
        "Hello {{ recipient_name }},\n\n{{ tenant_name }} has been suspended on Muhurta: {{ reason }}\n\n"
        "Until it is reactivated, its public pages, sign-ins and new bookings are refused and it sends no "
        "messages; bookings, orders and everything else keep their state. Reply to this email to talk to us.\n"),
    ("tenant_suspended", E, "hi"): _t(
        "{{ tenant_name }} निलंबित है",
        "नमस्ते {{ recipient_name }},\n\nMuhurta पर {{ tenant_name }} को निलंबित कर दिया गया है: {{ reason }}\n\n"
        "फिर से सक्रिय होने तक इसके सार्वजनिक पेज, साइन-इन और नई बुकिंग अस्वीकार की जाती हैं और यह कोई संदेश नहीं "
        "भेजता; बुकिंग, ऑर्डर और बाकी सब अपनी स्थिति में रहते हैं। हमसे बात करने के लिए इस ईमेल का उत्तर दें।\n"),
    ("tenant_reactivated", E, "en"): _t(
        "{{ tenant_name }} is active again",
        "Hello {{ recipient_name }},\n\n{{ tenant_name }} is active again on Muhurta ({{ reason }}). Sign in "
        "again; your pages are open, bookings are taken and messages are sent as before.\n"),
    ("tenant_reactivated", E, "hi"): _t(
        "{{ tenant_name }} फिर से सक्रिय है",
        "नमस्ते {{ recipient_name }},\n\nMuhurta पर {{ tenant_name }} फिर से सक्रिय है ({{ reason }})। फिर से साइन इन "
        "करें; आपके पेज खुले हैं, बुकिंग ली जाती हैं और संदेश पहले की तरह भेजे जाते हैं।\n"),
})


# -- quotations (the Quotation workflow's messages) ------------------------------------------------------
_Q = "quotation."
BUILTIN.update({
    (_Q + "received.client", E, "en"): _t(
        "Quotation {{ number }} from {{ tenant_name }}: {{ title }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has sent you a quotation: {{ title }} ({{ number }}), "
        "{{ total }} in all, valid until {{ valid_until }}.\n\nView it, then accept or decline: {{ link }}\n\n"
        "The quotation is attached as a PDF.\n"),
    (_Q + "received.client", E, "hi"): _t(
        "{{ tenant_name }} से कोटेशन {{ number }}: {{ title }}",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने आपको एक कोटेशन भेजा है: {{ title }} ({{ number }}), "
        "कुल {{ total }}, {{ valid_until }} तक मान्य।\n\nदेखें, फिर स्वीकार या अस्वीकार करें: {{ link }}\n\n"
        "कोटेशन PDF के रूप में संलग्न है।\n"),
    (_Q + "received.client", S, "en"): _t(
        None, "{{ tenant_name }}: quotation {{ number }} ({{ total }}) from {{ consultant_name }}, valid until "
              "{{ valid_until }}. View: {{ link }}"),
    (_Q + "received.client", S, "hi"): _t(
        None, "{{ tenant_name }}: {{ consultant_name }} से कोटेशन {{ number }} ({{ total }}), {{ valid_until }} तक "
              "मान्य। देखें: {{ link }}"),
    (_Q + "revised.client", E, "en"): _t(
        "Quotation {{ number }} revised (version {{ version }})",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has revised quotation {{ number }}: {{ title }}, now "
        "{{ total }}, valid until {{ valid_until }}. This version replaces the earlier one; your old link shows it "
        "too.\n\nView it: {{ link }}\n"),
    (_Q + "revised.client", E, "hi"): _t(
        "कोटेशन {{ number }} में बदलाव (संस्करण {{ version }})",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने कोटेशन {{ number }} बदला है: {{ title }}, अब "
        "{{ total }}, {{ valid_until }} तक मान्य। यह संस्करण पिछले की जगह लेता है; पुराना लिंक भी यही दिखाता है।"
        "\n\nदेखें: {{ link }}\n"),
    (_Q + "revised.client", S, "en"): _t(
        None, "{{ tenant_name }}: quotation {{ number }} was revised, now {{ total }}. View: {{ link }}"),
    (_Q + "revised.client", S, "hi"): _t(
        None, "{{ tenant_name }}: कोटेशन {{ number }} बदला गया, अब {{ total }}। देखें: {{ link }}"),
    (_Q + "viewed.consultant", E, "en"): _t(
        "{{ client_name }} opened quotation {{ number }}",
        "{{ client_name }} has opened quotation {{ number }} ({{ title }}, {{ total }}).\n\n{{ dashboard_url }}\n"),
    (_Q + "viewed.consultant", E, "hi"): _t(
        "{{ client_name }} ने कोटेशन {{ number }} खोला",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) खोला है।\n\n{{ dashboard_url }}\n"),
    (_Q + "reminder.client", E, "en"): _t(
        "Quotation {{ number }} expires in {{ days }} day(s)",
        "Hello {{ client_name }},\n\nA reminder: quotation {{ number }} ({{ title }}, {{ total }}) is valid until "
        "{{ valid_until }}.\n\nView, accept or decline it: {{ link }}\n"),
    (_Q + "reminder.client", E, "hi"): _t(
        "कोटेशन {{ number }} {{ days }} दिन में समाप्त होगा",
        "नमस्ते {{ client_name }},\n\nयाद दिला दें: कोटेशन {{ number }} ({{ title }}, {{ total }}) {{ valid_until }} "
        "तक मान्य है।\n\nदेखें, स्वीकार या अस्वीकार करें: {{ link }}\n"),
    (_Q + "reminder.client", S, "en"): _t(
        None, "{{ tenant_name }}: quotation {{ number }} ({{ total }}) is valid until {{ valid_until }}. {{ link }}"),
    (_Q + "reminder.client", S, "hi"): _t(
        None, "{{ tenant_name }}: कोटेशन {{ number }} ({{ total }}) {{ valid_until }} तक मान्य है। {{ link }}"),
    (_Q + "extended.client", E, "en"): _t(
        "Quotation {{ number }} is valid until {{ valid_until }}",
        "Hello {{ client_name }},\n\n{{ consultant_name }} has extended quotation {{ number }} ({{ title }}): it is "
        "now valid until {{ valid_until }}.\n\nView it: {{ link }}\n"),
    (_Q + "extended.client", E, "hi"): _t(
        "कोटेशन {{ number }} अब {{ valid_until }} तक मान्य",
        "नमस्ते {{ client_name }},\n\n{{ consultant_name }} ने कोटेशन {{ number }} ({{ title }}) की अवधि बढ़ाई है: अब "
        "यह {{ valid_until }} तक मान्य है।\n\nदेखें: {{ link }}\n"),
    (_Q + "accepted.client", E, "en"): _t(
        "You accepted quotation {{ number }}",
        "Hello {{ client_name }},\n\nThank you: you accepted quotation {{ number }} ({{ title }}). Your order of "
        "{{ total }} is ready to pay{% if pay_link %} here: {{ pay_link }}{% endif %}.\n"),
    (_Q + "accepted.client", E, "hi"): _t(
        "आपने कोटेशन {{ number }} स्वीकार किया",
        "नमस्ते {{ client_name }},\n\nधन्यवाद: आपने कोटेशन {{ number }} ({{ title }}) स्वीकार किया। {{ total }} का "
        "आपका ऑर्डर भुगतान के लिए तैयार है{% if pay_link %}: {{ pay_link }}{% endif %}।\n"),
    (_Q + "accepted.consultant", E, "en"): _t(
        "{{ client_name }} accepted quotation {{ number }}",
        "{{ client_name }} accepted quotation {{ number }} ({{ title }}, {{ total }}). The order awaits payment."
        "\n\n{{ dashboard_url }}\n"),
    (_Q + "accepted.consultant", E, "hi"): _t(
        "{{ client_name }} ने कोटेशन {{ number }} स्वीकार किया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) स्वीकार किया। ऑर्डर भुगतान की प्रतीक्षा "
        "में है।\n\n{{ dashboard_url }}\n"),
    (_Q + "rejected.consultant", E, "en"): _t(
        "{{ client_name }} declined quotation {{ number }}",
        "{{ client_name }} declined quotation {{ number }} ({{ title }}).{% if reason %} Their reason: {{ reason }}"
        "{% endif %}\n\n{{ dashboard_url }}\n"),
    (_Q + "rejected.consultant", E, "hi"): _t(
        "{{ client_name }} ने कोटेशन {{ number }} अस्वीकार किया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}) अस्वीकार किया।{% if reason %} कारण: {{ reason }}"
        "{% endif %}\n\n{{ dashboard_url }}\n"),
    (_Q + "withdrawn.client", E, "en"): _t(
        "Quotation {{ number }} was withdrawn",
        "Hello {{ client_name }},\n\n{{ tenant_name }} has withdrawn quotation {{ number }} ({{ title }})."
        "{% if reason %} {{ reason }}{% endif %}\n"),
    (_Q + "withdrawn.client", E, "hi"): _t(
        "कोटेशन {{ number }} वापस ले लिया गया",
        "नमस्ते {{ client_name }},\n\n{{ tenant_name }} ने कोटेशन {{ number }} ({{ title }}) वापस ले लिया है।"
        "{% if reason %} {{ reason }}{% endif %}\n"),
    (_Q + "expired.client", E, "en"): _t(
        "Quotation {{ number }} has expired",
        "Hello {{ client_name }},\n\nQuotation {{ number }} ({{ title }}) expired on {{ valid_until }}. Write to "
        "{{ consultant_name }} if you would still like it.\n"),
    (_Q + "expired.client", E, "hi"): _t(
        "कोटेशन {{ number }} की अवधि समाप्त",
        "नमस्ते {{ client_name }},\n\nकोटेशन {{ number }} ({{ title }}) {{ valid_until }} को समाप्त हो गया। अगर आप "
        "अब भी चाहते हैं तो {{ consultant_name }} को लिखें।\n"),
    (_Q + "expired.consultant", E, "en"): _t(
        "Quotation {{ number }} expired unaccepted",
        "Quotation {{ number }} to {{ client_name }} ({{ title }}, {{ total }}) expired on {{ valid_until }}, "
        "viewed {{ views }} time(s).\n\n{{ dashboard_url }}\n"),
    (_Q + "expired.consultant", E, "hi"): _t(
        "कोटेशन {{ number }} बिना स्वीकृति के समाप्त",
        "{{ client_name }} को भेजा कोटेशन {{ number }} ({{ title }}, {{ total }}) {{ valid_until }} को समाप्त हुआ, "
        "{{ views }} बार देखा गया।\n\n{{ dashboard_url }}\n"),
    (_Q + "payment_reminder.client", E, "en"): _t(
        "Your order for quotation {{ number }} is still unpaid",
        "Hello {{ client_name }},\n\nYou accepted quotation {{ number }} ({{ title }}); its order of {{ total }} is "
        "still unpaid. Pay it before the payment window closes{% if pay_link %}: {{ pay_link }}{% endif %}.\n"),
    (_Q + "payment_reminder.client", E, "hi"): _t(
        "कोटेशन {{ number }} का ऑर्डर अभी भी बकाया है",
        "नमस्ते {{ client_name }},\n\nआपने कोटेशन {{ number }} ({{ title }}) स्वीकार किया था; {{ total }} का ऑर्डर "
        "अभी भी बकाया है। भुगतान अवधि समाप्त होने से पहले भुगतान करें{% if pay_link %}: {{ pay_link }}{% endif %}।\n"),
    (_Q + "paid.consultant", E, "en"): _t(
        "Quotation {{ number }} is paid",
        "{{ client_name }} paid {{ total }} for quotation {{ number }} ({{ title }}).\n\n{{ dashboard_url }}\n"),
    (_Q + "paid.consultant", E, "hi"): _t(
        "कोटेशन {{ number }} का भुगतान हो गया",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}) के लिए {{ total }} का भुगतान किया।\n\n"
        "{{ dashboard_url }}\n"),
    (_Q + "lapsed.client", E, "en"): _t(
        "Quotation {{ number }}: the order was not paid in time",
        "Hello {{ client_name }},\n\nThe order for quotation {{ number }} ({{ title }}) was not paid within its "
        "payment window and is closed. Write to {{ consultant_name }} to start again.\n"),
    (_Q + "lapsed.client", E, "hi"): _t(
        "कोटेशन {{ number }}: ऑर्डर का भुगतान समय पर नहीं हुआ",
        "नमस्ते {{ client_name }},\n\nकोटेशन {{ number }} ({{ title }}) के ऑर्डर का भुगतान समय पर नहीं हुआ और वह "
        "बंद हो गया है। फिर से शुरू करने के लिए {{ consultant_name }} को लिखें।\n"),
    (_Q + "lapsed.consultant", E, "en"): _t(
        "Quotation {{ number }} lapsed unpaid",
        "{{ client_name }} accepted quotation {{ number }} ({{ title }}, {{ total }}) but did not pay within the "
        "payment window; the order is closed.\n\n{{ dashboard_url }}\n"),
    (_Q + "lapsed.consultant", E, "hi"): _t(
        "कोटेशन {{ number }} बिना भुगतान के समाप्त",
        "{{ client_name }} ने कोटेशन {{ number }} ({{ title }}, {{ total }}) स्वीकार किया पर भुगतान अवधि में भुगतान "
        "नहीं किया; ऑर्डर बंद हो गया है।\n\n{{ dashboard_url }}\n"),
})


# -- remedies (the Remedy workflow's messages) ---------------------------------------------------------------
BUILTIN.update({
    ("remedy.assigned", E, "en"): _t(
        "Your remedy: {{ remedy_title }}",
        "Hello {{ client_name }},\n\nYour consultant has prescribed \"{{ remedy_title }}\": {{ schedule }}.\n\n"
        "{{ instructions }}\n\nWe will remind you each time. Your programme: {{ programme_url }}\n"),
    ("remedy.assigned", E, "hi"): _t(
        "आपका उपाय: {{ remedy_title }}",
        "नमस्ते {{ client_name }},\n\nआपके परामर्शदाता ने \"{{ remedy_title }}\" बताया है: {{ schedule }}।\n\n"
        "{{ instructions }}\n\nहम हर बार याद दिलाएँगे। आपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.reminder", E, "en"): _t(
        "Now: {{ remedy_title }}",
        "Hello {{ client_name }},\n\nIt is time for \"{{ remedy_title }}\" ({{ occurrence_at }}).\n\n"
        "{{ instructions }}\n\nDone? Check in: {{ check_in_url }}\n"),
    ("remedy.reminder", E, "hi"): _t(
        "अभी: {{ remedy_title }}",
        "नमस्ते {{ client_name }},\n\n\"{{ remedy_title }}\" का समय हो गया है ({{ occurrence_at }})।\n\n"
        "{{ instructions }}\n\nपूरा हुआ? यहाँ बताएँ: {{ check_in_url }}\n"),
    ("remedy.reminder", S, "en"): _t(
        None, "{{ tenant_name }}: time for {{ remedy_title }} ({{ occurrence_at }}). Check in: {{ check_in_url }}"),
    ("remedy.reminder", S, "hi"): _t(
        None, "{{ tenant_name }}: {{ remedy_title }} का समय ({{ occurrence_at }})। बताएँ: {{ check_in_url }}"),
    ("remedy.nudge", E, "en"): _t(
        "Keep going with {{ remedy_title }}",
        "Hello {{ client_name }},\n\nThe last {{ missed }} times of \"{{ remedy_title }}\" went by without a "
        "check-in. A remedy works by being kept up: the next one is a good moment to start again.\n\n"
        "Your programme: {{ programme_url }}\n"),
    ("remedy.nudge", E, "hi"): _t(
        "{{ remedy_title }} जारी रखें",
        "नमस्ते {{ client_name }},\n\n\"{{ remedy_title }}\" के पिछले {{ missed }} अवसर बिना पुष्टि के निकल गए। "
        "उपाय नियमित करने से ही फल देता है: अगला अवसर फिर से शुरू करने का अच्छा समय है।\n\n"
        "आपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.missed", E, "en"): _t(
        "{{ client_name }} missed {{ remedy_title }} {{ missed }} times",
        "{{ client_name }} has missed the last {{ missed }} occurrences of \"{{ remedy_title }}\" "
        "({{ done }} done of {{ counted }} so far). They were sent a nudge.\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.missed", E, "hi"): _t(
        "{{ client_name }} ने {{ remedy_title }} {{ missed }} बार छोड़ा",
        "{{ client_name }} ने \"{{ remedy_title }}\" के पिछले {{ missed }} अवसर छोड़े हैं (अब तक {{ counted }} में से "
        "{{ done }} पूरे)। उन्हें याद दिलाया गया है।\n\nकार्यक्रम: {{ programme_url }}\n"),
    ("remedy.completed", E, "en"): _t(
        "You completed {{ remedy_title }}",
        "Hello {{ client_name }},\n\nYour programme \"{{ remedy_title }}\" is complete: {{ done }} of "
        "{{ counted }} done, best streak {{ best_streak }}.\n\nYour programme: {{ programme_url }}\n"),
    ("remedy.completed", E, "hi"): _t(
        "आपने {{ remedy_title }} पूरा किया",
        "नमस्ते {{ client_name }},\n\nआपका कार्यक्रम \"{{ remedy_title }}\" पूरा हुआ: {{ counted }} में से "
        "{{ done }} पूरे, लगातार सबसे अधिक {{ best_streak }}।\n\nआपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.completed_consultant", E, "en"): _t(
        "{{ client_name }} finished {{ remedy_title }}",
        "{{ client_name }}'s programme \"{{ remedy_title }}\" has ended: {{ done }} of {{ counted }} done, "
        "{{ missed }} missed, best streak {{ best_streak }}.\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.completed_consultant", E, "hi"): _t(
        "{{ client_name }} ने {{ remedy_title }} समाप्त किया",
        "{{ client_name }} का कार्यक्रम \"{{ remedy_title }}\" समाप्त हुआ: {{ counted }} में से {{ done }} पूरे, "
        "{{ missed }} छूटे, लगातार सबसे अधिक {{ best_streak }}।\n\nकार्यक्रम: {{ programme_url }}\n"),
    ("remedy.feedback", E, "en"): _t(
        "How did {{ remedy_title }} go?",
        "Hello {{ client_name }},\n\nYou have finished \"{{ remedy_title }}\". How did it go? Reply to this "
        "message or tell your consultant at your next session.\n\nYour programme: {{ programme_url }}\n"),
    ("remedy.feedback", E, "hi"): _t(
        "{{ remedy_title }} कैसा रहा?",
        "नमस्ते {{ client_name }},\n\nआपने \"{{ remedy_title }}\" पूरा कर लिया। कैसा रहा? इस संदेश का उत्तर दें "
        "या अगले सत्र में अपने परामर्शदाता को बताएँ।\n\nआपका कार्यक्रम: {{ programme_url }}\n"),
    ("remedy.stopped", E, "en"): _t(
        "Stopped: {{ remedy_title }} for {{ client_name }}",
        "The programme \"{{ remedy_title }}\" of {{ client_name }} was stopped: {{ reason }} ({{ done }} done of "
        "{{ counted }}).\n\nProgramme: {{ programme_url }}\n"),
    ("remedy.stopped", E, "hi"): _t(
        "रोका गया: {{ client_name }} का {{ remedy_title }}",
        "{{ client_name }} का कार्यक्रम \"{{ remedy_title }}\" रोका गया: {{ reason }} ({{ counted }} में से "
        "{{ done }} पूरे)।\n\nकार्यक्रम: {{ programme_url }}\n"),
})


# -- personal data ---------------------------------------------------------------------------------------
BUILTIN.update({
    ("privacy.export_ready", E, "en"): _t(
        "Your data from {{ tenant_name }} is ready",
        "Hello,\n\nThe copy of your data you asked {{ tenant_name }} for is ready: {{ link }}\n\n"
        "The link works until {{ expires }}; after that the archive is deleted. If you did not ask for it, "
        "tell {{ tenant_name }}.\n"),
    ("privacy.export_ready", E, "hi"): _t(
        "{{ tenant_name }} से आपका डेटा तैयार है",
        "नमस्ते,\n\nआपने {{ tenant_name }} से अपने डेटा की जो प्रति माँगी थी, वह तैयार है: {{ link }}\n\n"
        "यह लिंक {{ expires }} तक काम करेगा; उसके बाद संग्रह हटा दिया जाएगा। यदि आपने यह नहीं माँगा था, तो "
        "{{ tenant_name }} को बताएँ।\n"),
})


# -- session packages (the SessionPackage workflow's reminder) -----------------------------------------------
BUILTIN.update({
    ("package.expiring", E, "en"): _t(
        "{{ credits_left }} session(s) of {{ package_title }} expire {{ expires }}",
        "Hello {{ client_name }},\n\nYou still have {{ credits_left }} session(s) of {{ package_title }}. They "
        "expire {{ expires }}: book them before then.\n\nYour credits: {{ book_url }}\n"),
    ("package.expiring", E, "hi"): _t(
        "{{ package_title }} के {{ credits_left }} सत्र {{ expires }} को समाप्त होंगे",
        "नमस्ते {{ client_name }},\n\n{{ package_title }} के {{ credits_left }} सत्र अभी बाकी हैं। ये {{ expires }} "
        "को समाप्त हो जाएँगे: उससे पहले बुक कर लें।\n\nआपके क्रेडिट: {{ book_url }}\n"),
})


# -- memberships (the Membership workflow's messages; activities/memberships.py sends them) -------------------
BUILTIN.update({
    ("membership.past_due", E, "en"): _t(
        "Your {{ plan_title }} membership could not be renewed",
        "Hello {{ client_name }},\n\nRazorpay could not charge the renewal of your {{ plan_title }} membership "
        "({{ price }} a month). Your benefits stay until {{ grace_until }}; update your payment method on "
        "Razorpay's page to keep them: {{ link }}\n"),
    ("membership.past_due", E, "hi"): _t(
        "आपकी {{ plan_title }} सदस्यता का नवीनीकरण नहीं हो सका",
        "नमस्ते {{ client_name }},\n\nRazorpay आपकी {{ plan_title }} सदस्यता ({{ price }} प्रति माह) का नवीनीकरण "
        "शुल्क नहीं ले सका। आपके लाभ {{ grace_until }} तक बने रहेंगे; उन्हें जारी रखने के लिए Razorpay के पेज पर "
        "भुगतान का तरीका बदलें: {{ link }}\n"),
    ("membership.ended", E, "en"): _t(
        "Your {{ plan_title }} membership has ended",
        "Hello {{ client_name }},\n\nYour {{ plan_title }} membership ended {{ ended }} ({{ reason }}). Thank "
        "you for being a member; you can join again any time: {{ link }}\n"),
    ("membership.ended", E, "hi"): _t(
        "आपकी {{ plan_title }} सदस्यता समाप्त हो गई है",
        "नमस्ते {{ client_name }},\n\nआपकी {{ plan_title }} सदस्यता {{ ended }} को समाप्त हो गई ({{ reason }})। "
        "सदस्य बने रहने के लिए धन्यवाद; आप कभी भी फिर से जुड़ सकते हैं: {{ link }}\n"),
})
