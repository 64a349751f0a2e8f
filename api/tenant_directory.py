"""Each API process's copy of the tenants it has served, so that a request need not read its
tenant's row from PostgreSQL.

Reading the tenant was most of what many requests asked of the database: through SQLAlchemy's
asyncio layer, the lookup in the request's transaction cost the API about 1 ms of CPU on the
machine of docs/performance.md (tenth pass), a third of a chart. A request that finds its tenant
here runs no statement for it; the tenant scope that the lookup used to set is set when the
request's transaction begins (`core.db`'s `after_begin`), so a route that needs nothing else from
the database opens no transaction at all.

Staying right, whoever changes a tenant:
- **Listening.** The copy is used only while this process LISTENs on PostgreSQL's
  `muhurta_tenants` channel. Triggers on `tenants` and `tenant_domains` (migration 2900) notify
  it of every change to a tenant, its domains or its texts (which bump `texts_version`) when the
  change commits, from the API, the worker, the seed or psql; `*` for a TRUNCATE. The process
  drops that tenant. When the listening connection is lost, it drops everything and reads the
  database until it listens again.
- **This process's own writes** are dropped at once when their transaction commits (a session
  event), without waiting for the notification: a consultant who edits a text, or an admin who
  suspends a consultancy, sees the change in their very next request.
- **No stale store.** A request that read its tenant from the database keeps its copy only if
  nothing was dropped while it read (a generation counter), so a notification that overtook it
  cannot leave an old copy behind.
- **A bound.** The listening connection is checked every `HEARTBEAT_SECONDS` when quiet, so a
  connection that died without a word stops the copy's use within seconds; a copy older than
  `MAX_AGE_SECONDS` is read again, should a notification ever be missed.

What changes for a user: a change made elsewhere (another API process, the worker) is seen here
when its notification arrives, a few milliseconds after it committed, rather than by the next
statement. A suspension, an approval and a text edit take effect that quickly in every process.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple, Protocol

import psycopg
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from api.commit_drops import drop_on_commit
from core.observability.metrics import TENANT_LOOKUPS
from models.astrology import InterpretiveText
from models.tenancy import Tenant, TenantDomain, TenantStatus

log = logging.getLogger(__name__)
_KEPT, _READ, _UNHEARD = (TENANT_LOOKUPS.labels(source) for source in ("kept", "read", "unheard"))

CHANNEL = "muhurta_tenants"
APPLICATION_NAME = "muhurta-tenant-directory"  # how the listening connection shows in pg_stat_activity
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 1024
RECONNECT_AFTER_SECONDS = (0.5, 1.0, 2.0, 5.0)
# A listening connection quiet this long is asked a `SELECT 1`, which must answer as fast: a
# connection that died without a word stops the copy's use within twice this.
HEARTBEAT_SECONDS = 5.0

TenantBy = Literal["slug", "id", "domain"]
_Key = tuple[TenantBy, str]

_COLUMNS = tuple(Tenant.__table__.columns)
# each column's attribute on Tenant (the same names today, but the mapping is the ORM's to say)
_ATTRIBUTES = tuple(Tenant.__mapper__.get_property_by_column(column).key for column in _COLUMNS)
_ID, _NAME, _STATUS = (_ATTRIBUTES.index(attribute) for attribute in ("id", "name", "status"))


class TenantSummary(NamedTuple):
    id: uuid.UUID
    name: str
    status: TenantStatus


class _Entry:
    __slots__ = ("stored_at", "tenant_id", "values")

    def __init__(self, tenant_id: uuid.UUID, values: tuple[Any, ...], stored_at: float) -> None:
        self.tenant_id, self.values, self.stored_at = tenant_id, values, stored_at


class Follower(Protocol):
    """A copy of other rows kept right by the directory's listening connection, on its own channel
    (`api.slot_listings`): told what changed, and to drop everything when nobody listens."""

    def forget(self, ids: Iterable[uuid.UUID | str]) -> None: ...

    def forget_all(self) -> None: ...


class TenantDirectory:
    """The tenants this process has served, by slug, id and domain (see the module's docstring)."""

    def __init__(self) -> None:
        self._followers: dict[str, Follower] = {}
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self.generation = 0  # bumped by every drop: a read that spans one is not stored
        self._listening = asyncio.Event()
        self.started = False  # on (TENANT_DIRECTORY): not listening then means not hearing changes
        self._task: asyncio.Task[None] | None = None
        self._users = 0  # starts not yet matched by a stop

    # -- reading ------------------------------------------------------------------------------

    def find(self, by: TenantBy, value: object) -> Tenant | None:
        """A fresh detached `Tenant` for the copy kept under (by, value), or None."""
        values = self._kept(by, value, count_misses=True)
        return None if values is None else _instance(values)

    def peek(self, by: TenantBy, value: object) -> TenantSummary | None:
        """What a route that needs no `Tenant` instance reads of a kept tenant (its id, name and
        status), without building one. A miss is not counted: the route then reads with `find`."""
        values = self._kept(by, value, count_misses=False)
        return None if values is None else TenantSummary(values[_ID], values[_NAME], values[_STATUS])

    def _kept(self, by: TenantBy, value: object, *, count_misses: bool) -> tuple[Any, ...] | None:
        """The values kept under (by, value), while listening and not too old."""
        if not self.listening:
            if count_misses:
                (_UNHEARD if self.started else _READ).inc()
            return None
        key = (by, str(value))
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.stored_at > MAX_AGE_SECONDS:
            if count_misses:
                _READ.inc()
            return None
        self._entries.move_to_end(key)
        _KEPT.inc()
        return entry.values

    def keep(self, by: TenantBy, value: object, tenant: Tenant, generation: int) -> None:
        """Keep a copy of `tenant`, read from the database under `generation` (`self.generation`
        when the read began): not kept if something was dropped since."""
        if not self.listening or generation != self.generation:
            return
        values = tuple(getattr(tenant, attribute) for attribute in _ATTRIBUTES)
        self._entries[(by, str(value))] = _Entry(tenant.id, copy.deepcopy(values), time.monotonic())
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    # -- dropping -----------------------------------------------------------------------------

    def forget(self, tenant_ids: Iterable[uuid.UUID | str]) -> None:
        wanted = {str(tenant_id) for tenant_id in tenant_ids}
        if not wanted:
            return
        self.generation += 1
        if "*" in wanted:
            self._entries.clear()
            return
        for key in [key for key, entry in self._entries.items() if str(entry.tenant_id) in wanted]:
            del self._entries[key]

    def forget_all(self) -> None:
        self.forget(["*"])
        for follower in self._followers.values():
            follower.forget_all()

    def follow(self, channel: str, follower: Follower) -> None:
        """Have `follower` told of the notifications on `channel` from the next LISTEN on: one
        listening connection serves every copy the process keeps (module import time)."""
        self._followers[channel] = follower

    @property
    def listening(self) -> bool:
        """Whether the LISTEN is in force: only then is a copy used or kept."""
        return self._listening.is_set()

    @listening.setter
    def listening(self, value: bool) -> None:
        if value:
            self._listening.set()
        else:
            self._listening.clear()

    async def listening_now(self) -> None:
        """Return once the LISTEN is in force (tests, after a start)."""
        await self._listening.wait()

    # -- listening ----------------------------------------------------------------------------

    def start(self, database_url: str) -> None:
        """Listen for changes in the background (the API's start-up); the copy is used from the
        moment the LISTEN is in force. Each `start` is matched by a `stop`: the listener runs
        until the last of its users stops (two apps in one process share it)."""
        self.started = True
        self._users += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(database_url))

    async def stop(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users:
            return
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._stopped_listening()

    async def _listen(self, database_url: str) -> None:
        conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        conninfo, autocommit=True, connect_timeout=int(HEARTBEAT_SECONDS),
                        application_name=APPLICATION_NAME) as connection:
                    for channel in (CHANNEL, *self._followers):
                        await connection.execute(f"LISTEN {channel}")
                    # whatever changed while nobody listened is unknown: start from nothing
                    self.forget_all()
                    self.listening = True
                    failures = 0
                    while True:
                        async for notification in connection.notifies(timeout=HEARTBEAT_SECONDS):
                            follower = self._followers.get(notification.channel)
                            (follower or self).forget([notification.payload])
                        # quiet for a while: is the connection still there? (a dead TCP peer
                        # would otherwise look like a quiet one)
                        await asyncio.wait_for(connection.execute("SELECT 1"), HEARTBEAT_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarting, a dropped connection
                self._stopped_listening()
                pause = RECONNECT_AFTER_SECONDS[min(failures, len(RECONNECT_AFTER_SECONDS) - 1)]
                failures += 1
                log.warning("tenant change notifications lost (%s); reading tenants from the database, "
                            "listening again in %.1f s", exc, pause)
                await asyncio.sleep(pause)

    def _stopped_listening(self) -> None:
        self.listening = False
        self.forget_all()


def _instance(values: tuple[Any, ...]) -> Tenant:
    """A detached Tenant holding `values` as loaded: persistent and clean once added to a
    session, with its own copies of mutable values (a route that changes `settings` in place
    must not change the copy kept here)."""
    tenant: Tenant = Tenant.__mapper__.class_manager.new_instance()
    for attribute, value in zip(_ATTRIBUTES, values, strict=True):
        set_committed_value(tenant, attribute, copy.deepcopy(value) if isinstance(value, dict | list) else value)
    make_transient_to_detached(tenant)
    return tenant


DIRECTORY = TenantDirectory()
"""The API process's one directory (module-level so that session events reach it)."""


# -- this process's own writes: dropped when they commit -------------------------------------------

def _changed_tenant(instance: object) -> uuid.UUID | None:
    if isinstance(instance, Tenant):
        return instance.id
    if isinstance(instance, TenantDomain | InterpretiveText):
        return instance.tenant_id
    return None


drop_on_commit("tenants", _changed_tenant, ("tenants", "tenant_domains", "interpretive_texts"), DIRECTORY.forget)
