"""Order notices speak the reader's language and clock: the Order workflow passes codes and instants."""

from __future__ import annotations

from domain.notification_templates import order_notice_words


def test_status_is_a_word_of_the_readers_language():
    assert order_notice_words({"status": "expired"}, "Asia/Kolkata", "hi")["status"] == "समाप्त"
    assert order_notice_words({"status": "expired"}, "Asia/Kolkata", "en")["status"] == "expired"
    assert order_notice_words({"status": "fulfilment_failed"}, "UTC", "en-IN")["status"] == "fulfilment failed"


def test_expiry_is_on_the_readers_clock():
    words = order_notice_words({"expires": "2026-11-28T13:00:00+00:00", "amount": "₹1,180.00"}, "Asia/Kolkata", "en")
    assert words == {"expires": "Sat 28 Nov 2026, 18:30 IST", "amount": "₹1,180.00"}
    hindi = order_notice_words({"expires": "2026-11-28T13:00:00+00:00"}, "Asia/Kolkata", "hi")["expires"]
    assert hindi.startswith("शनिवार, 28 नवंबर 2026") and "18:30" in hindi


def test_a_value_written_out_before_passes_through():
    assert order_notice_words({"expires": "28 Nov 2026 13:00 UTC"}, "Asia/Kolkata", "hi") == {
        "expires": "28 Nov 2026 13:00 UTC"}
