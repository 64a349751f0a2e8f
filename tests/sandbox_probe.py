"""A workflow that makes the call it is told to, for tests/workflows/test_sandbox.py (kept apart:
the sandbox re-imports the module that defines a workflow, and test modules import the world)."""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import datetime

from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

RUNS_IN_THIS_MODULE: list[str] = []   # module state: each run's own copy of the module has its own


@workflow.defn(name="SandboxProbe", failure_exception_types=[RestrictedWorkflowAccessError])
class SandboxProbe:
    @workflow.run
    async def run(self, call: str) -> str:
        if call == "datetime.now":
            return str(datetime.now())
        if call == "time.time":
            return str(time.time())
        if call == "random.random":
            return str(random.random())
        if call == "uuid.uuid4":
            return str(uuid.uuid4())
        if call == "os.getenv":
            return str(os.getenv("HOME"))
        if call == "open":
            with open(__file__) as source:
                return source.read(10)
        if call == "workflow.now":
            return workflow.now().isoformat()
        if call == "module":   # how this run's module was loaded, its code, and its module state
            RUNS_IN_THIS_MODULE.append(workflow.info().run_id)
            loader = globals()["__loader__"]
            return f"{type(loader).__name__} {id(SandboxProbe.run.__code__)} {len(RUNS_IN_THIS_MODULE)}"
        raise ValueError(call)
