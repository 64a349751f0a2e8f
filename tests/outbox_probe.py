"""A small workflow that uses the outbox, for tests/workflows/test_outbox.py (kept apart: the
sandbox re-imports the module that defines a workflow, and test modules import the world)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.outbox import Outbox


@workflow.defn(name="OutboxProbe", sandboxed=True)
class OutboxProbe:
    def __init__(self) -> None:
        self._outbox = Outbox(attempt_timeout=timedelta(seconds=30),
                              retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3))
        self._status = "open"
        self._delivered: list[int] = []

    @workflow.run
    async def run(self) -> dict:
        await workflow.wait_condition(lambda: self._status == "closed")
        await self._outbox.drained()
        return {"sent": self._outbox.sent, "failed": self._outbox.failed, "delivered": self._delivered,
                "recent": [m.model_dump(mode="json") for m in self._outbox.recent]}

    @workflow.update
    def close(self, text: str) -> str:
        self._status = "closed"
        self._outbox.post(f"closed:{text}", "test_outbox.send", text, on_result=self._delivered.append)
        self._outbox.post(f"closed:{text}", "test_outbox.send", text)  # a repeat is ignored
        return self._status

    @workflow.query
    def sending(self) -> list[str]:
        return self._outbox.sending
