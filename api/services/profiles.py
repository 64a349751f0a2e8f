"""Consultant profiles as a public page shows them: the photo (through storage) and the rating
from the feedback clients give after their sessions (the Consultation workflow asks for it)."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import NOT_FOUND, Problem
from api.schemas.bookings import PublicConsultant, PublicOffering, Rating
from api.services.files import storage_of
from api.state import AppState
from core.storage import ObjectMissing
from models.bookings import Booking, Consultant
from models.files import StoredFile
from models.tenancy import Tenant


async def consultant_rating(session: AsyncSession, consultant_id: UUID) -> Rating:
    average, count = (await session.execute(
        select(func.avg(Booking.feedback_rating), func.count(Booking.feedback_rating))
        .where(Booking.consultant_id == consultant_id, Booking.feedback_rating.is_not(None)))).one()
    return Rating(average=round(float(average), 2) if average is not None else None, count=int(count or 0))


def public_profile(tenant: Tenant, c: Consultant, offerings: list[PublicOffering], rating: Rating) -> PublicConsultant:
    photo = f"/api/v1/public/{tenant.slug}/consultants/{c.slug}/photo" if c.photo_file_id else None
    return PublicConsultant(slug=c.slug, display_name=c.display_name, headline=c.headline, bio=c.bio,
                            timezone=c.timezone, offerings=offerings, photo_url=photo, languages=c.languages,
                            specialities=c.specialities, experience_years=c.experience_years,
                            social_links=c.social_links, rating=rating)


async def photo_response(session: AsyncSession, state: AppState, consultant: Consultant) -> Response:
    stored = await session.get(StoredFile, consultant.photo_file_id) if consultant.photo_file_id else None
    if stored is None or stored.tenant_id != consultant.tenant_id:
        raise Problem(NOT_FOUND, "this consultant has no photo", field="consultant_slug")
    try:
        data = await storage_of(state).get(stored.storage_key)
    except ObjectMissing as exc:
        raise Problem(NOT_FOUND, "this consultant's photo is missing from storage", field="consultant_slug") from exc
    return Response(content=data, media_type=stored.content_type,
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
