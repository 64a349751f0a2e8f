"""The worker's sandbox (workers.registry.workflow_runner): workflow code that makes a
non-deterministic call is refused, also now that the workflow modules' compiled code is shared
between runs (workers.sandbox_code); each run still has its own module."""

from __future__ import annotations

import sys
import uuid

import pytest
from sandbox_probe import SandboxProbe
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

import workflows
from workers.registry import workflow_runner
from workers.sandbox_code import SharedCodeFinder, SharedCodeLoader, share_workflow_code

share_workflow_code("sandbox_probe")   # loaded as the worker loads the `workflows` package


async def _run(env, queue: str, call: str) -> str:
    return await env.client.execute_workflow(SandboxProbe.run, call, id=f"probe-{uuid.uuid4()}", task_queue=queue)


@pytest.mark.parametrize("call", ["datetime.now", "time.time", "random.random", "uuid.uuid4", "os.getenv", "open"])
async def test_a_workflow_making_a_non_deterministic_call_is_refused(time_skipping_env, call):
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[SandboxProbe],
                      workflow_runner=workflow_runner()):
        with pytest.raises(WorkflowFailureError) as failed:
            await _run(time_skipping_env, queue, call)
    assert "from inside a workflow" in str(failed.value.cause), failed.value.cause


async def test_runs_share_the_compiled_module_but_not_its_state(time_skipping_env):
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[SandboxProbe],
                      workflow_runner=workflow_runner()):
        assert await _run(time_skipping_env, queue, "workflow.now")
        first, second = [(await _run(time_skipping_env, queue, "module")).split() for _ in range(2)]
    assert first[0] == second[0] == "SharedCodeLoader"
    assert first[1] == second[1]              # one code object for both runs
    assert first[2] == second[2] == "1"       # each run saw only itself in its module's state


def test_the_workers_runner_loads_the_workflow_modules_with_the_shared_code(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if not isinstance(f, SharedCodeFinder)])
    workflow_runner()
    # what the sandbox's import of the module finds (importlib.util.find_spec would answer with the
    # host's own, already imported, module)
    spec = next(spec for finder in sys.meta_path
                if (spec := finder.find_spec("workflows.remedy", workflows.__path__)) is not None)
    assert isinstance(spec.loader, SharedCodeLoader)
