"""The pure rules of session packages: when a cancelled booking's credit comes back, when to remind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.packages import credit_comes_back, package_workflow_id, reminder_at


def test_a_credit_comes_back_when_the_policy_would_refund_enough_or_the_consultant_cancels():
    assert credit_comes_back(100, 100, by_consultant=False)
    assert not credit_comes_back(50, 100, by_consultant=False)   # the late band of the default policy
    assert credit_comes_back(50, 50, by_consultant=False)        # a package that forgives more
    assert not credit_comes_back(0, 1, by_consultant=False)
    assert credit_comes_back(0, 100, by_consultant=True)         # the consultancy cancelled


def test_the_reminder_is_before_expiry_or_none():
    expires = datetime(2027, 3, 14, 12, tzinfo=UTC)
    assert reminder_at(expires, 7) == expires - timedelta(days=7)
    assert reminder_at(expires, 0) is None
    assert package_workflow_id("abc") == "package-abc"
