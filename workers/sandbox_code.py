"""Workflow modules compiled once per worker process, still executed afresh for every run.

The SDK's sandbox re-imports a workflow's module for each workflow run it creates (each run in
the worker's cache, each replay of an evicted run): that is what gives every run its own module
state and what lets the sandbox hand the module its restricted `datetime`, `time`, `random`,
`uuid`, `os`... so that `datetime.now()` in workflow code fails its task. Re-importing means
reading and compiling (or unmarshalling) the source every time, and every run then keeps its own
copy of the module's code objects: 53 KB of the 115 KB of Python memory a cached RemedyWorkflow
held (tracemalloc), and about 5 ms of CPU per run where no `.pyc` is written
(PYTHONDONTWRITEBYTECODE=1: the Dockerfile, `make dev` here).

Code objects are immutable, so one copy serves every run: this finder gives the modules of the
`workflows` package (and any other named by `share_workflow_code`) a loader that keeps each
module's code object (recompiled if the file changes on disk, as before) and executes it in the
new module as usual. Each run still gets its own module, functions, classes and globals, imported
inside the sandbox with the same restrictions; only the compiled bytecode is shared.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader
from types import CodeType, ModuleType

_packages: set[str] = {"workflows"}   # modules under these names get the shared loader
_codes: dict[str, tuple[tuple[int, int], CodeType]] = {}   # source path -> ((mtime ns, size), code)
_install_lock = threading.Lock()


class SharedCodeLoader(SourceFileLoader):
    """A source loader whose compiled module is kept and reused while the file is unchanged."""

    def get_code(self, fullname: str) -> CodeType:
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_size)
        kept = _codes.get(self.path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        code = super().get_code(fullname)
        if code is None:  # a source loader always has code; the base class's type says Optional
            raise ImportError(f"no code for {fullname}", name=fullname)
        _codes[self.path] = (stamp, code)
        return code


class SharedCodeFinder(MetaPathFinder):
    """Finds the modules under `_packages` as the path finder does, and loads them with SharedCodeLoader."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if not any(fullname == p or fullname.startswith(p + ".") for p in _packages):
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not SourceFileLoader or spec.origin is None:
            return spec
        spec.loader = SharedCodeLoader(fullname, spec.origin)
        return spec


def share_workflow_code(*packages: str) -> None:
    """Put SharedCodeFinder first on sys.meta_path, once per process; `packages` (modules or
    packages holding workflows, e.g. a test's) join `workflows`."""
    with _install_lock:
        _packages.update(packages)
        if not any(isinstance(finder, SharedCodeFinder) for finder in sys.meta_path):
            sys.meta_path.insert(0, SharedCodeFinder())
