"""Plumbing the quotation, remedy and enrolment lifecycles share: how they call their activities,
how they publish what they are for lists and the support console, and how they refuse a change.

Replay safety: these are the very calls the workflows made inline before (same activity, same
options, same search attributes in the same order, same memo), only written once, so a history
recorded by the earlier code replays unchanged. Change an option here only behind
`workflow.patched(...)` in every workflow that uses it. (The remedy workflow shares `publish`
and `refuse` only: its `_background` runs some steps as local activities behind a patch.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

TIMEOUT = timedelta(seconds=30)
# Work nobody waits on (a timer's step, bookkeeping): retried until it succeeds.
BACKGROUND = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Work a person waits on (an update's step): a few quick tries, then a clear refusal.
INTERACTIVE = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2),
                          maximum_attempts=4)
T = TypeVar("T")


async def background(name: str, arg: object, result_type: type[T]) -> T:
    """Run activity `name` with BACKGROUND retries (it does not give up)."""
    result: T = await workflow.execute_activity(name, arg, result_type=result_type,
                                                start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
    return result


async def interactive(name: str, arg: object, result_type: type[T]) -> T:
    """Run activity `name` for an update: its refusal is the update's (same message, details and
    type); any other failure, once INTERACTIVE's tries are spent, is "try again"."""
    try:
        result: T = await workflow.execute_activity(name, arg, result_type=result_type,
                                                    start_to_close_timeout=TIMEOUT, retry_policy=INTERACTIVE)
    except ActivityError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
        raise ApplicationError("the change could not be made just now; try again", non_retryable=True) from None
    return result


def publish(attributes: Sequence[SearchAttributeUpdate[Any]], summary: object) -> None:
    """The search attributes lists filter on, then the memo's summary the console shows."""
    workflow.upsert_search_attributes(list(attributes))
    workflow.upsert_memo({"summary": summary})


def refuse(message: str, field: str | None = None, *, type_: str | None = None) -> ApplicationError:
    """A non-retryable refusal naming the field at fault (the API answers it as a problem)."""
    return ApplicationError(message, *([{"field": field}] if field else []), type=type_, non_retryable=True)
