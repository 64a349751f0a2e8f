"""The outbox rule on the time-skipping server: an update answers before its message is sent,
a message that keeps failing is given up without failing the workflow, and the run waits for
what is still being sent."""

from __future__ import annotations

import asyncio
import uuid

from outbox_probe import OutboxProbe
from temporalio import activity
from temporalio.client import WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from workers.registry import workflow_runner


class Provider:
    """Stands in for the outside world: sends block until `release` is set, or fail."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.sent: list[str] = []
        self.fail = False

    @activity.defn(name="test_outbox.send")
    async def send(self, text: str) -> int:
        self.started.set()
        if self.fail:
            raise ApplicationError("provider said 401: the key is wrong")
        await self.release.wait()
        self.sent.append(text)
        return 1


async def _run(env, provider: Provider):
    queue = f"outbox-{uuid.uuid4().hex[:8]}"
    worker = Worker(env.client, task_queue=queue, workflows=[OutboxProbe], activities=[provider.send],
                    workflow_runner=workflow_runner())
    return worker, queue


async def test_an_update_answers_while_its_message_is_still_being_sent(time_skipping_env):
    env, provider = time_skipping_env, Provider()
    worker, queue = await _run(env, provider)
    async with worker:
        handle = await env.client.start_workflow(OutboxProbe.run, id=f"probe-{uuid.uuid4()}", task_queue=queue)
        # The provider has not answered (and will not until released), yet the update is answered.
        answer = await handle.execute_update(OutboxProbe.close, "bye")
        assert answer == "closed"
        await provider.started.wait()
        assert await handle.query(OutboxProbe.sending) == ["closed:bye"]
        assert provider.sent == []
        provider.release.set()
        result = await handle.result()
    assert provider.sent == ["bye"]  # once, though posted twice
    assert result["sent"] == 1 and result["failed"] == 0 and result["delivered"] == [1]
    assert [(m["step"], m["status"]) for m in result["recent"]] == [("closed:bye", "sent")]


async def test_a_message_that_keeps_failing_is_given_up_and_the_workflow_completes(time_skipping_env):
    env, provider = time_skipping_env, Provider()
    provider.fail = True
    worker, queue = await _run(env, provider)
    async with worker:
        handle = await env.client.start_workflow(OutboxProbe.run, id=f"probe-{uuid.uuid4()}", task_queue=queue)
        update = await handle.start_update(OutboxProbe.close, "bye", wait_for_stage=WorkflowUpdateStage.COMPLETED)
        assert await update.result() == "closed"
        result = await handle.result()
    assert result["sent"] == 0 and result["failed"] == 1 and result["delivered"] == []
    [message] = result["recent"]
    assert message["status"] == "failed" and "the key is wrong" in message["error"]
