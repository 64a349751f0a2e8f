"""A small HTTP/1.1 load generator for the bench scripts: keep-alive connections written by hand.

One process per core by default, each a plain `epoll` loop over non-blocking sockets (no asyncio,
no streams: a response costs one `recv`, a `find` and a `send`); each connection sends one
request, reads the whole answer, sends the next (no pipelining, like wrk). Requests are prepared
bytes. Each process measures its own CPU time, so every run can show that the generator is not
the limit (`Result.generator_busy`: the share of its processes' time they spent on the CPU; well
below 100 % means they were waiting for the server). bench/request_path.py prints it beside the
bare FastAPI app's rate, and wrk's when installed.

Not a library for tests: figures only.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import select
import socket
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
    processes: int = 1
    generator_cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def generator_busy(self) -> float:
        """The share of its processes' wall time the generator spent on the CPU."""
        return self.generator_cpu_seconds / (self.seconds * self.processes) if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _response_end(buffer: bytearray | bytes, start: int) -> tuple[int, int] | None:
    """(status, end offset) of the response starting at `start` if it is complete, else None."""
    head_end = buffer.find(b"\r\n\r\n", start)
    if head_end < 0:
        return None
    head = bytes(buffer[start:head_end]).lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        eol = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:eol if eol >= 0 else len(head)])
        end = head_end + 4 + length
        return (status, end) if len(buffer) >= end else None
    if b"\r\ntransfer-encoding: chunked" in head:
        end = buffer.find(b"\r\n0\r\n\r\n", head_end)  # the last chunk (bench answers carry no trailers)
        return (status, end + 7) if end >= 0 else None
    return status, head_end + 4  # no body (204, 304)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response from an asyncio stream (bench/booking_race.py's one-shot requests)."""
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


def _drive(port: int, requests: list[bytes], connections: int, seconds: float, start_at: float,
           sample_every: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    socks = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
    poller = select.epoll()
    by_fd = {sock.fileno(): sock for sock in socks}
    buffers = {fd: bytearray() for fd in by_fd}
    sent_at: dict[int, float] = {}
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)  # every process starts at the same instant
    cpu_before = time.process_time()
    began = time.perf_counter()
    deadline = began + seconds
    cursor = done = 0
    for fd, sock in by_fd.items():
        if cursor < len(requests):
            sent_at[fd] = time.perf_counter()
            sock.sendall(requests[cursor])
            cursor += 1
            poller.register(fd, select.EPOLLIN)
    open_fds = len(sent_at)
    perf_counter, recv_size = time.perf_counter, 1 << 16
    while open_fds:
        for fd, _ in poller.poll(1.0):
            sock = by_fd[fd]
            data = sock.recv(recv_size)
            if not data:
                raise RuntimeError("the server closed a keep-alive connection")
            buffer = buffers[fd]
            buffer += data
            found = _response_end(buffer, 0)
            if found is None:
                continue
            status, end = found
            del buffer[:end]
            now = perf_counter()
            statuses[status] += 1
            done += 1
            if done % sample_every == 0:
                latencies.append((now - sent_at[fd]) * 1000)
            if cursor < len(requests) and now < deadline:
                sent_at[fd] = now
                sock.sendall(requests[cursor])
                cursor += 1
            else:
                poller.unregister(fd)
                open_fds -= 1
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    for sock in socks:
        sock.close()
    return {"requests": done, "seconds": elapsed, "statuses": dict(statuses), "latencies": latencies,
            "cpu_seconds": cpu}


def _process(port: int, requests: list[bytes], connections: int, seconds: float, start_at: float,
             sample_every: int, out: Any) -> None:
    out.put(_drive(port, requests, connections, seconds, start_at, sample_every))


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
    result = Result(processes=processes)
    for part in parts:
        result.requests += part["requests"]
        result.seconds = max(result.seconds, part["seconds"])
        result.statuses.update(part["statuses"])
        result.latencies_ms += part["latencies"]
        result.generator_cpu_seconds += part["cpu_seconds"]
    return result


def repeat(request: bytes, n: int) -> list[bytes]:
    """The same request n times (for routes where repeating is harmless: GETs)."""
    return [request] * n
