"""Templates: strict rendering, the reader's zone and language, the sandbox, the catalogue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.notification_channels import Channel
from domain.notification_events import EVENTS, event_spec
from domain.notification_templates import (
    LANGUAGES,
    TemplateError,
    format_instant,
    render_template,
    resolve_template,
    sample_variables,
    validate_template,
)
from domain.notification_texts import BUILTIN
from domain.notification_texts.base import TemplateText
from domain.notifications import Addresses, Preferences, choose_channels

SESSION_AT = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


def test_an_instant_is_shown_in_each_readers_zone():
    assert format_instant(SESSION_AT, "Asia/Kolkata", "en", "time") == "18:30 IST"
    assert format_instant(SESSION_AT, "Europe/London", "en", "time") == "13:00 GMT"
    assert format_instant(SESSION_AT, "America/New_York", "en", "time") == "08:00 EST"
    assert format_instant(datetime(2026, 7, 1, 13, 0, tzinfo=UTC), "Europe/London", "en", "time") == "14:00 BST"
    assert format_instant(SESSION_AT, "Asia/Dubai", "en", "time") == "17:00 UTC+4"
    assert format_instant(SESSION_AT, "Asia/Kathmandu", "en", "time") == "18:45 UTC+5:45"
    assert format_instant(SESSION_AT, "Asia/Kolkata", "en") == "Sat 28 Nov 2026, 18:30 IST"
    assert format_instant(SESSION_AT, "Asia/Kolkata", "hi") == "शनिवार, 28 नवंबर 2026, 18:30 IST"
    assert format_instant(SESSION_AT.isoformat(), "Asia/Kolkata", "hi-IN", "date") == "शनिवार, 28 नवंबर 2026"


@settings(max_examples=300, deadline=None)
@given(at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)),
       zone=st.sampled_from(["Asia/Kolkata", "Europe/London", "America/New_York", "Australia/Lord_Howe"]))
def test_the_clock_shown_is_the_local_wall_clock(at, zone):
    local = at.astimezone(ZoneInfo(zone))
    assert format_instant(at, zone, "en", "time").startswith(f"{local:%H:%M} ")
    assert format_instant(at, zone, "en", "date").endswith(f" {local.day} {local:%b} {local.year}")


def test_the_same_session_reads_right_for_client_and_consultant():
    text = BUILTIN[("session_reminder", Channel.SMS, "en")]
    variables = {**sample_variables(event_spec("session_reminder")), "starts_at": SESSION_AT}
    client = render_template(text, variables, timezone="Asia/Kolkata", locale="en")
    consultant = render_template(text, variables, timezone="Europe/London", locale="en")
    assert "18:30 IST" in client.body and "13:00 GMT" in consultant.body


def test_a_missing_variable_is_an_error_not_a_blank():
    text = TemplateText("Hi {{ recipient_name }}", "See you at {{ starts_at | local_time }} for {{ service_name }}")
    with pytest.raises(TemplateError, match="'service_name' is undefined"):
        render_template(text, {"recipient_name": "P", "starts_at": SESSION_AT}, timezone="UTC", locale="en")
    with pytest.raises(TemplateError, match="'starts_at' is undefined"):
        render_template(text, {"recipient_name": "P", "service_name": "x"}, timezone="UTC", locale="en")


@pytest.mark.parametrize("body", [
    "{{ title.__class__.__mro__ }}",
    "{{ ''.__class__.__subclasses__() }}",
    "{% for x in range(10**9) %}{% endfor %}",  # range is capped by the sandbox
    "{{ recipient_name.upper.__globals__ }}",
])
def test_tenant_templates_cannot_reach_python(body):
    with pytest.raises(TemplateError):
        validate_template("announcement", Channel.EMAIL, "en", "{{ title }}", body)


def test_subjects_are_one_line_whatever_a_variable_holds():
    rendered = render_template(TemplateText("{{ title }}", "x"), {"title": "Hello\r\nBcc: evil@example.com"},
                               timezone="UTC", locale="en")
    assert rendered.subject == "Hello Bcc: evil@example.com"


def test_validation_names_the_part_at_fault():
    with pytest.raises(TemplateError) as missing:
        validate_template("session_booked", Channel.EMAIL, "en", "{{ service_name }}", "{{ nonexistent }}")
    assert missing.value.part == "body" and "nonexistent" in str(missing.value)
    with pytest.raises(TemplateError) as syntax:
        validate_template("session_booked", Channel.EMAIL, "en", "{{ service_name", "ok")
    assert syntax.value.part == "subject"
    with pytest.raises(TemplateError) as no_subject:
        validate_template("session_booked", Channel.EMAIL, "en", None, "ok")
    assert no_subject.value.part == "subject"
    with pytest.raises(TemplateError):
        validate_template("session_booked", Channel.SMS, "en", "SMS has no subject", "ok")
    with pytest.raises(TemplateError, match="allows 1600"):
        validate_template("announcement", Channel.SMS, "en", None, "{{ message * 40 }}")


@pytest.mark.parametrize(("event", "channel", "language"), sorted(BUILTIN, key=str))
def test_every_builtin_template_renders_with_its_sample(event, channel, language):
    text = BUILTIN[(event, channel, language)]
    rendered = validate_template(event, channel, language, text.subject, text.body)
    assert rendered.body.strip()


def test_every_event_has_english_and_hindi_for_its_default_channels():
    for spec in EVENTS.values():
        for channel in spec.default_channels:
            for language in LANGUAGES:
                resolved = resolve_template(spec.name, channel, language)
                assert resolved is not None and resolved.language == language, (spec.name, channel, language)


def test_lookup_prefers_the_readers_language_then_the_tenants_override():
    override = TemplateText("Custom {{ title }}", "{{ message }}")
    overrides = {("announcement", Channel.EMAIL, "en"): override}
    assert resolve_template("announcement", Channel.EMAIL, "en", overrides).source == "tenant"
    hindi = resolve_template("announcement", Channel.EMAIL, "hi", overrides)
    assert hindi.source == "builtin" and hindi.language == "hi"
    assert resolve_template("announcement", Channel.EMAIL, "fr").language == "en"
    whatsapp = resolve_template("session_reminder", Channel.WHATSAPP, "en")
    assert whatsapp.channel == Channel.SMS  # WhatsApp falls back to the SMS text
    assert resolve_template("verify_email", Channel.SMS, "en") is None


def test_the_spines_messages_keep_their_words():
    def email(event: str, variables: dict) -> object:
        return render_template(BUILTIN[(event, Channel.EMAIL, "en")], variables, timezone="UTC", locale="en")
    message = email("onboarding_rejected", {"full_name": "A", "tenant_name": "T", "reason": "no papers"})
    assert message.subject == "About your application for T"
    assert "We could not approve T: no papers" in message.body
    assert email("onboarding_pending_admin", {"count": 2, "tenant_name": "T", "tenant_slug": "t",
                                              "since": "x", "link": "y"}).subject == (
        "2 consultancies waiting for approval")


def test_channel_choice():
    spec = event_spec("session_reminder")
    chosen, skipped = choose_channels(spec, None, Preferences(), Addresses(email="a@x", phone=None))
    assert chosen == [Channel.EMAIL, Channel.IN_APP]
    assert skipped == {Channel.SMS: "no phone number", Channel.WHATSAPP: "opted out of whatsapp"}
    announcement = event_spec("announcement")
    _, skipped = choose_channels(announcement, None, Preferences(announcements=False), Addresses("a@x", None))
    assert set(skipped.values()) == {"opted out of announcements"}
    chosen, _ = choose_channels(spec, [Channel.SMS, Channel.SMS], Preferences(), Addresses("a@x", "+91"))
    assert chosen == [Channel.SMS]


def test_sample_instants_are_real_instants():
    for spec in EVENTS.values():
        values = sample_variables(spec)
        for name, value in values.items():
            if isinstance(value, datetime):
                assert value.utcoffset() == timedelta(0) or value.tzinfo is not None, name


def test_the_docs_list_every_event_and_its_variables():
    from pathlib import Path

    docs = (Path(__file__).parents[3] / "docs" / "notifications.md").read_text()
    for spec in EVENTS.values():
        assert f"| `{spec.name}` |" in docs, f"docs/notifications.md lacks {spec.name}"
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{spec.name}` |"))
        like = re.search(r"\| as `([^`]+)`", row)  # "as `session_booked` + `minutes`": only the extra ones
        inherited = set(EVENTS[like.group(1)].variables) if like else set()
        for name in set(spec.variables) - inherited:
            assert f"`{name}`" in row, (spec.name, name)


def test_two_modules_of_texts_writing_the_same_text_are_refused(monkeypatch):
    import types

    import domain.notification_texts as texts
    from domain.notification_texts.base import E, t

    first = types.SimpleNamespace(__name__="first", TEXTS={("x.event", E, "en"): t("a", "b")})
    second = types.SimpleNamespace(__name__="second", TEXTS={("x.event", E, "en"): t("c", "d")})
    monkeypatch.setattr(texts, "_PARTS", (first, second))
    with pytest.raises(ValueError, match="second repeats texts of another module"):
        texts._merged()
    monkeypatch.setattr(texts, "_PARTS", (first,))
    assert texts._merged() == first.TEXTS
