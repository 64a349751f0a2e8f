"""Each API process's copy of the public slot listings it has served, so that a page viewed again
runs no statement.

The public slot listing is the page a consultancy's visitors open most, and the same one again
and again: a consultant's next weeks, on one clock. Read from PostgreSQL it was two statements in
a transaction, three quarters of the listing's cost (docs/performance.md, twelfth pass). A
listing found here is shown from memory: `SlotListing.document(now)` applies notice and horizon
as of the moment of asking, so a kept listing stays right as time passes; one whose first day
was "today" is not used once the viewer's date has changed.

Staying right, whoever changes a schedule (as `api.tenant_directory`, whose listening connection
this shares):
- **Listening.** Triggers on `consultants`, `offerings`, `availability_overrides`, `bookings` and
  `webinar_sessions` (migration 3000) notify the `muhurta_schedules` channel with the
  consultant's id when a change that can move a slot commits: a booking made, moved, cancelled or
  expired, an override, the weekly hours, an offering's rules; `*` on a TRUNCATE. The process
  drops that consultant's listings. Listings are used only while the LISTEN is in force; when
  the connection is lost, everything is dropped and listings are read until it listens again.
- **This process's own writes** drop the consultant's listings when their transaction commits
  (session events), without waiting for the notification: a client who books, or a consultant
  who changes their hours, sees it in their very next listing.
- **No stale store.** A listing read while something was dropped is not kept (a generation
  counter); one older than `MAX_AGE_SECONDS` is read again.

What changes for a visitor: a booking made through another API process or the worker leaves
the listings of this one when its notification arrives, a few milliseconds after it committed.
A slot shown in that moment and then booked is refused with a 409, as a slot shown a moment
before someone else booked it always was: the booking path reads and locks the database, never
this copy.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, datetime

from api.commit_drops import drop_on_commit
from api.services.slot_listing import SlotListing
from api.tenant_directory import DIRECTORY
from core.observability.metrics import SLOT_LISTINGS
from domain.bookings.slots import zone
from models.bookings import AvailabilityOverride, Booking, Consultant, Offering, WebinarSession

CHANNEL = "muhurta_schedules"
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 2048
# A 60-day listing holds about 700 starts and its document about 85 kB: the copy is bounded by
# its size too, at about 300 such listings per API process.
MAX_BYTES = 32 << 20
BYTES_PER_START = 160  # the int in the list (36 bytes) and the slot's part of the document (~120)
_KEPT, _READ = SLOT_LISTINGS.labels("kept"), SLOT_LISTINGS.labels("read")

# (tenant id, consultant slug, offering id, first day asked for or None, days, zone asked for or None)
ListingKey = tuple[uuid.UUID, str, uuid.UUID, date | None, int, str | None]


def listing_key(tenant_id: uuid.UUID, consultant_slug: str, offering_id: uuid.UUID, start: date | None, days: int,
                viewer_zone: str | None) -> ListingKey:
    """The listing a public request asks for, as it asked (`None`: today, the consultant's zone)."""
    return tenant_id, consultant_slug.lower(), offering_id, start, days, viewer_zone


class _Entry:
    __slots__ = ("listing", "size", "stored_at")

    def __init__(self, listing: SlotListing, stored_at: float) -> None:
        self.listing, self.stored_at = listing, stored_at
        self.size = 1024 + BYTES_PER_START * len(listing.starts)


class SlotListings:
    """The public listings this process has served (see the module's docstring)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[ListingKey, _Entry] = OrderedDict()
        self._bytes = 0
        self.generation = 0  # bumped by every drop: a read that spans one is not stored

    def find(self, key: ListingKey, now: datetime) -> SlotListing | None:
        """The listing kept under `key`, if it is still the one to show at `now`."""
        entry = self._entries.get(key) if DIRECTORY.listening else None
        if entry is None or time.monotonic() - entry.stored_at > MAX_AGE_SECONDS:
            _READ.inc()
            return None
        listing = entry.listing
        if key[3] is None and now.astimezone(zone(listing.viewer)).date() != listing.first_day:
            self._drop(key)  # "from today", and today is another day on the viewer's clock
            _READ.inc()
            return None
        self._entries.move_to_end(key)
        _KEPT.inc()
        return listing

    def keep(self, key: ListingKey, listing: SlotListing, generation: int) -> None:
        """Keep `listing`, read under `generation` (`self.generation` before the read began):
        not kept if something was dropped since, or if nobody listens for changes."""
        if not DIRECTORY.listening or generation != self.generation:
            return
        if key in self._entries:
            self._drop(key)
        entry = self._entries[key] = _Entry(listing, time.monotonic())
        self._bytes += entry.size
        while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
            self._drop(next(iter(self._entries)))  # the least recently shown

    def _drop(self, key: ListingKey) -> None:
        self._bytes -= self._entries.pop(key).size

    def forget(self, consultant_ids: Iterable[uuid.UUID | str]) -> None:
        wanted = {str(consultant_id) for consultant_id in consultant_ids}
        if not wanted:
            return
        self.generation += 1
        if "*" in wanted:
            self._entries.clear()
            self._bytes = 0
            return
        for key in [key for key, entry in self._entries.items() if str(entry.listing.consultant_id) in wanted]:
            self._drop(key)

    def forget_all(self) -> None:
        self.forget(["*"])

    def __len__(self) -> int:
        return len(self._entries)


LISTINGS = SlotListings()
"""The API process's one copy (module-level so that session events and the listener reach it)."""
DIRECTORY.follow(CHANNEL, LISTINGS)


# -- this process's own writes: dropped when they commit -------------------------------------------

def _changed_consultant(instance: object) -> uuid.UUID | None:
    if isinstance(instance, Consultant):
        return instance.id
    if isinstance(instance, AvailabilityOverride | Booking | Offering | WebinarSession):
        return instance.consultant_id
    return None


drop_on_commit("schedules", _changed_consultant,
               ("consultants", "offerings", "availability_overrides", "bookings", "webinar_sessions"), LISTINGS.forget)
