"""Messages a workflow sends, off the path of the state changes that cause them.

The rule every lifecycle follows: **an update answers when its own state change is made.**
Emails, SMS, WhatsApp, PDFs and anything else that talks to the outside world go *after* the
answer, in the background, with their own timeouts and bounded retries. A provider that is
down or misconfigured can then never hold a person's request, a handler's lock, or the next
step of a lifecycle that does not depend on the message.

    self._outbox = Outbox()
    ...
    # in an update, once the state change is applied:
    self._outbox.post("cancelled", NOTIFY, Notify(...))
    return self._state                    # answered now; the message leaves in the background

    # in run(), before returning or continuing as new:
    await self._outbox.drained()

Each posted message runs as its own activity in a workflow task (deterministic: tasks in a
workflow run on Temporal's own event loop), concurrently with later ones, so a message stuck
retrying never delays the next reminder. Its retries back off up to `maximum_interval` and stop
at `deadline`; what finally fails is recorded (`failed`) and never fails the workflow: the
delivery log holds the provider's reason. A step is posted once per workflow run; posting it
again is ignored (the activity dedupes by the same key anyway).

The outbox keeps a short log (`recent`) of what it sent, for the workflow's query, so the
support console can say "sent", "sending" or "failed, and why" without reading the history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.notifications import NOTIFICATION_REJECTED
    from domain.outbox import PostedMessage

# One attempt: every channel's provider call has its own HTTP timeout (NOTIFY_HTTP_TIMEOUT_SECONDS);
# this bounds the whole attempt, PDFs and several channels included.
MESSAGE_ATTEMPT_TIMEOUT = timedelta(minutes=2)
# Retries back off from seconds to ten minutes and stop after a day: a message a provider keeps
# refusing is given up (the delivery log keeps the reason) rather than retried without end.
MESSAGE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                            maximum_interval=timedelta(minutes=10),
                            non_retryable_error_types=[NOTIFICATION_REJECTED])
MESSAGE_DEADLINE = timedelta(hours=24)
RECENT = 20  # entries kept for queries: a year-long programme must not carry its whole past



class Outbox:
    """Background sender for one workflow run (see the module docstring)."""

    def __init__(self, *, task_queue: str | None = None, attempt_timeout: timedelta = MESSAGE_ATTEMPT_TIMEOUT,
                 retry: RetryPolicy = MESSAGE_RETRY, deadline: timedelta = MESSAGE_DEADLINE) -> None:
        self._task_queue = task_queue
        self._attempt_timeout = attempt_timeout
        self._retry = retry
        self._deadline = deadline
        self._steps: set[str] = set()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self.recent: list[PostedMessage] = []
        self.sent = 0
        self.failed = 0

    def post(self, step: str, activity: str, arg: Any, *, result_type: type = int,
             on_result: Callable[[Any], None] | None = None) -> bool:
        """Send `arg` through `activity` in the background; False if `step` was posted before.

        `on_result` runs with the activity's result when it succeeds (in workflow code: it may
        change the workflow's state, e.g. mark a reminder delivered).
        """
        if step in self._steps:
            return False
        self._steps.add(step)
        entry = PostedMessage(step=step, activity=activity, posted_at=workflow.now())
        self.recent.append(entry)
        del self.recent[:-RECENT]
        self._in_flight[step] = asyncio.create_task(self._send(entry, arg, result_type, on_result))
        return True

    def posted(self, step: str) -> bool:
        return step in self._steps

    @property
    def sending(self) -> list[str]:
        """Steps still being sent (retrying, or waiting on a provider)."""
        return list(self._in_flight)

    async def drained(self) -> None:
        """Wait until every posted message was sent or given up: before the run ends or continues as new."""
        await workflow.wait_condition(lambda: not self._in_flight)

    async def _send(self, entry: PostedMessage, arg: Any, result_type: type,
                    on_result: Callable[[Any], None] | None) -> None:
        try:
            result = await workflow.execute_activity(
                entry.activity, arg, result_type=result_type, task_queue=self._task_queue,
                start_to_close_timeout=self._attempt_timeout, schedule_to_close_timeout=self._deadline,
                retry_policy=self._retry)
        except ActivityError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            entry.status, entry.error = "failed", reason[:500]
            self.failed += 1
            workflow.logger.warning("message %s not sent: %s", entry.step, reason)
        else:
            entry.status = "sent"
            self.sent += 1
            if on_result is not None:
                on_result(result)
        # Not in a `finally`: a workflow evicted from the worker's cache closes this coroutine
        # outside its event loop, where workflow.now() cannot be called.
        entry.finished_at = workflow.now()
        self._in_flight.pop(entry.step, None)
