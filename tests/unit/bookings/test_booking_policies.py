"""Cancellation bands, refunds in minor units, and the reschedule policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.bookings.policies import (
    CancellationPolicy,
    CancelledBy,
    RefundBand,
    ReschedulePolicy,
    cancellation_terms,
    reschedule_refusal,
)

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DEFAULT = CancellationPolicy()


@pytest.mark.parametrize(("hours_before", "percent", "refund"), [
    (72, 100, 150_000), (24, 100, 150_000), (23.9, 50, 75_000), (4, 50, 75_000), (3.99, 0, 0), (0.1, 0, 0),
])
def test_default_bands_full_until_24h_half_until_4h_none_after(hours_before, percent, refund):
    terms = cancellation_terms(DEFAULT, starts_at=START, at=START - timedelta(hours=hours_before),
                               by=CancelledBy.CLIENT, paid_minor=150_000)
    assert (terms.refund_percent, terms.refund_due_minor) == (percent, refund)


def test_the_consultancy_cancelling_refunds_in_full_and_nothing_paid_refunds_nothing():
    late = START - timedelta(minutes=5)
    assert cancellation_terms(DEFAULT, starts_at=START, at=late, by=CancelledBy.CONSULTANT,
                              paid_minor=99_900).refund_due_minor == 99_900
    unpaid = cancellation_terms(DEFAULT, starts_at=START, at=START - timedelta(days=3), by=CancelledBy.CLIENT,
                                paid_minor=0)
    assert unpaid.refund_due_minor == 0 and unpaid.refund_percent == 0


def test_partial_refund_rounds_down_to_the_minor_unit():
    policy = CancellationPolicy(bands=[RefundBand(hours_before=1, refund_percent=33)])
    terms = cancellation_terms(policy, starts_at=START, at=START - timedelta(hours=2), by=CancelledBy.CLIENT,
                               paid_minor=1001)
    assert terms.refund_due_minor == 330


def test_policies_that_make_no_sense_are_refused():
    with pytest.raises(ValidationError, match="cannot refund more"):
        CancellationPolicy(bands=[RefundBand(hours_before=24, refund_percent=50),
                                  RefundBand(hours_before=2, refund_percent=100)])
    with pytest.raises(ValidationError, match="same hours_before"):
        CancellationPolicy(bands=[RefundBand(hours_before=2, refund_percent=50),
                                  RefundBand(hours_before=2, refund_percent=10)])
    assert "50 % refund until 4 h before" in DEFAULT.describe()


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 100)), max_size=6, unique_by=lambda b: b[0]),
       st.integers(0, 10**9), st.integers(0, 600), st.integers(0, 600))
def test_refunds_never_grow_as_the_start_nears_and_never_exceed_what_was_paid(bands, paid, h1, h2):
    ordered = sorted(bands, key=lambda b: -b[0])
    percents = sorted((p for _, p in ordered), reverse=True)
    policy = CancellationPolicy(bands=[RefundBand(hours_before=h, refund_percent=p)
                                       for (h, _), p in zip(ordered, percents, strict=True)])
    early, late = max(h1, h2), min(h1, h2)
    a = cancellation_terms(policy, starts_at=START, at=START - timedelta(hours=early), by=CancelledBy.CLIENT,
                           paid_minor=paid)
    b = cancellation_terms(policy, starts_at=START, at=START - timedelta(hours=late), by=CancelledBy.CLIENT,
                           paid_minor=paid)
    assert 0 <= b.refund_due_minor <= a.refund_due_minor <= paid


def test_reschedule_policy_binds_clients_not_the_consultancy():
    policy = ReschedulePolicy(min_hours_before=12, max_reschedules=1)
    ok = START - timedelta(hours=13)
    assert reschedule_refusal(policy, starts_at=START, at=ok, reschedules=0, by=CancelledBy.CLIENT) is None
    assert "12 h" in reschedule_refusal(policy, starts_at=START, at=START - timedelta(hours=11), reschedules=0,
                                        by=CancelledBy.CLIENT)
    assert "already moved" in reschedule_refusal(policy, starts_at=START, at=ok, reschedules=1,
                                                 by=CancelledBy.CLIENT)
    assert reschedule_refusal(policy, starts_at=START, at=START - timedelta(hours=1), reschedules=5,
                              by=CancelledBy.CONSULTANT) is None
    assert "started" in reschedule_refusal(policy, starts_at=START, at=START, reschedules=0,
                                           by=CancelledBy.CONSULTANT)
