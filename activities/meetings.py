"""Meeting links behind a small interface, chosen per offering (`meeting_provider`).

The default, Jitsi Meet, needs no account: a room is any unguessable name on meet.jit.si (or a
self-hosted Jitsi, `JITSI_BASE_URL`). The name is an HMAC of the booking id, so asking twice
(a retried activity) gives the same room. Google Meet and Zoom adapters can be added later
under their own names; they would create the meeting through their APIs and keep its id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class MeetingRequest:
    booking_id: UUID          # the booking, or the webinar session its seats share
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class MeetingLink:
    provider: str
    url: str


class MeetingProvider(Protocol):
    name: str

    async def create(self, request: MeetingRequest) -> MeetingLink:
        """A link for this booking; the same booking must always get the same link."""
        ...

    async def move(self, link: MeetingLink, request: MeetingRequest) -> MeetingLink:
        """The booking's time changed; return the (possibly new) link."""
        ...

    async def cancel(self, link: MeetingLink) -> None:
        ...


class JitsiProvider:
    name = "jitsi"

    def __init__(self, secret: bytes, base_url: str = "https://meet.jit.si") -> None:
        self._secret = secret
        self._base = base_url.rstrip("/")

    def room(self, booking_id: UUID) -> str:
        digest = hmac.new(self._secret, f"jitsi-room:{booking_id}".encode(), hashlib.sha256).hexdigest()
        return f"Muhurta-{digest[:24]}"

    async def create(self, request: MeetingRequest) -> MeetingLink:
        return MeetingLink(self.name, f"{self._base}/{self.room(request.booking_id)}")

    async def move(self, link: MeetingLink, request: MeetingRequest) -> MeetingLink:
        return link  # a Jitsi room has no time: the same link works at the new time

    async def cancel(self, link: MeetingLink) -> None:
        return None


MEETING_TIMEOUT_SECONDS = 15.0


class Bounded:
    """A provider whose every call has a deadline: a room service that hangs fails the attempt
    (the activity's retry policy tries again) instead of holding the booking's row for ever."""

    def __init__(self, inner: MeetingProvider, seconds: float = MEETING_TIMEOUT_SECONDS) -> None:
        self.inner, self.seconds = inner, seconds
        self.name = inner.name

    async def create(self, request: MeetingRequest) -> MeetingLink:
        async with asyncio.timeout(self.seconds):
            return await self.inner.create(request)

    async def move(self, link: MeetingLink, request: MeetingRequest) -> MeetingLink:
        async with asyncio.timeout(self.seconds):
            return await self.inner.move(link, request)

    async def cancel(self, link: MeetingLink) -> None:
        async with asyncio.timeout(self.seconds):
            await self.inner.cancel(link)


PROVIDER_NAMES = ("jitsi",)


def build_providers(secret: bytes, jitsi_base_url: str) -> dict[str, MeetingProvider]:
    return {"jitsi": JitsiProvider(secret, jitsi_base_url)}
