"""A small HTTP/1.1 load generator for the bench scripts: keep-alive connections written by hand.

Several processes (one per core by default), each an event loop (uvloop when installed) driving
its share of the connections; each connection sends one request, reads the whole answer, sends
the next (no pipelining, like wrk). Requests are prepared bytes, so the generator spends its time
on the socket, not on building requests: it is checked against a bare FastAPI app in every run
(`bench/request_path.py` prints the bare app's rate beside each figure, and wrk's when installed).

Not a library for tests: figures only.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def http_request(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                 body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = -1
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body)
            body += chunk[:-2]
    return status, await reader.readexactly(length) if length > 0 else b""


async def _drive(port: int, requests: list[bytes], connections: int, seconds: float, start_at: float,
                 sample_every: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    cursor = 0
    done = 0
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)  # every process starts at the same instant
    began = time.perf_counter()
    deadline = began + seconds

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal cursor, done
        while cursor < len(requests) and time.perf_counter() < deadline:
            request = requests[cursor]
            cursor += 1
            t0 = time.perf_counter()
            writer.write(request)
            status, _ = await _read_response(reader)
            statuses[status] += 1
            done += 1
            if done % sample_every == 0:
                latencies.append((time.perf_counter() - t0) * 1000)
        writer.close()

    await asyncio.gather(*(connection(r, w) for r, w in opened))
    return {"requests": done, "seconds": time.perf_counter() - began, "statuses": dict(statuses),
            "latencies": latencies}


def _process(port: int, requests: list[bytes], connections: int, seconds: float, start_at: float,
             sample_every: int, out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out.put(asyncio.run(_drive(port, requests, connections, seconds, start_at, sample_every)))


def run_load(port: int, requests: list[bytes], *, seconds: float, connections: int = 32,
             processes: int | None = None, sample_every: int = 1) -> Result:
    """Drive 127.0.0.1:port for about `seconds` with `connections` keep-alive connections over
    `processes` processes. Each process sends its own slice of `requests` once, in order (so
    that requests meant to be unique stay unique), and stops early if its slice runs out.
    Returns the summed result."""
    processes = processes or min(os.cpu_count() or 1, connections)
    context = mp.get_context("fork")
    out = context.Queue()
    share = len(requests) // processes
    start_at = time.time() + 0.5 + 0.05 * processes
    workers = [context.Process(target=_process, args=(port, requests[i * share:(i + 1) * share],
                                                      connections // processes, seconds, start_at,
                                                      sample_every, out))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    parts = [out.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    result = Result()
    for part in parts:
        result.requests += part["requests"]
        result.seconds = max(result.seconds, part["seconds"])
        result.statuses.update(part["statuses"])
        result.latencies_ms += part["latencies"]
    return result


def repeat(request: bytes, n: int) -> list[bytes]:
    """The same request n times (for routes where repeating is harmless: GETs)."""
    return [request] * n
