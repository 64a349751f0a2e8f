"""A client's cart, priced from the catalogue into order lines for the existing Order workflow.

Each item names what it buys; the line kind decides how the paid line is fulfilled
(workflows/fulfilment.py): a course enrols (`enrollment`), a remedy starts its programme
(`remedy`), a report product starts a report delivery for its consultant (`report`), another
product waits for staff to deliver it (`product`), a session package grants its credits
(`package`). The line's `offering_id` is the catalogue item's id, so a coupon limited to some
items (`offering_ids`) or kinds (`offering_kinds`) applies exactly to those.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import ALREADY_EXISTS, NOT_FOUND, VALIDATION, Problem
from api.schemas.checkout import CartItem, CartKind, ProductKind
from api.services.courses import live_enrollment
from domain.payments.pricing import LineIn, LineKind
from models.catalogue import Product, SessionPackage
from models.courses import Cohort, Course
from models.remedies import Remedy


async def _course(session: AsyncSession, tenant_id: uuid.UUID, ref: uuid.UUID) -> tuple[Course | None, Cohort | None]:
    course = (await session.execute(select(Course).where(
        Course.tenant_id == tenant_id, Course.id == ref, Course.status == "published"))).scalar_one_or_none()
    if course is not None:
        return course, None
    cohort = (await session.execute(select(Cohort).where(Cohort.tenant_id == tenant_id, Cohort.id == ref)))\
        .scalar_one_or_none()
    if cohort is None:
        return None, None
    course = (await session.execute(select(Course).where(
        Course.id == cohort.course_id, Course.status == "published"))).scalar_one_or_none()
    return course, cohort


async def cart_lines(session: AsyncSession, tenant_id: uuid.UUID, client_id: uuid.UUID,
                     items: list[CartItem]) -> tuple[list[LineIn], str]:
    """The order lines of a cart and its currency; a problem naming `items.<n>.<field>` otherwise."""
    lines: list[LineIn] = []
    currencies: set[str] = set()
    seen: set[tuple[CartKind, uuid.UUID]] = set()
    for n, item in enumerate(items):
        where = f"items.{n}.ref_id"
        if (item.kind, item.ref_id) in seen:
            raise Problem(VALIDATION, "this item is in the cart twice; buy it once", field=where)
        seen.add((item.kind, item.ref_id))
        if item.quantity != 1 and item.kind != CartKind.PRODUCT:
            raise Problem(VALIDATION, "only products are bought several at a time", field=f"items.{n}.quantity")
        line: LineIn
        if item.kind == CartKind.COURSE:
            course, cohort = await _course(session, tenant_id, item.ref_id)
            if course is None:
                raise Problem(NOT_FOUND, "this consultancy has no published course or cohort with this id",
                              field=where)
            if await live_enrollment(session, course.id, client_id) is not None:
                raise Problem(ALREADY_EXISTS, f"you are already enrolled in {course.title}", field=where)
            line = LineIn(kind=LineKind.ENROLLMENT, description=course.title[:200], unit_amount=course.price_minor,
                          offering_id=str(course.id), ref_id=str(cohort.id if cohort else course.id))
            currency = course.currency
        elif item.kind == CartKind.REMEDY:
            remedy = (await session.execute(select(Remedy).where(
                Remedy.tenant_id == tenant_id, Remedy.id == item.ref_id, Remedy.active.is_(True))))\
                .scalar_one_or_none()
            if remedy is None:
                raise Problem(NOT_FOUND, "this consultancy has no remedy with this id", field=where)
            if remedy.price_minor is None:
                raise Problem(VALIDATION, f"{remedy.title} is not sold on its own; ask your consultant",
                              field=where)
            line = LineIn(kind=LineKind.REMEDY, description=remedy.title[:200], unit_amount=remedy.price_minor,
                          offering_id=str(remedy.id), ref_id=str(remedy.id))
            currency = remedy.currency
        elif item.kind == CartKind.PRODUCT:
            product = (await session.execute(select(Product).where(
                Product.tenant_id == tenant_id, Product.id == item.ref_id, Product.active.is_(True))))\
                .scalar_one_or_none()
            if product is None:
                raise Problem(NOT_FOUND, "this consultancy has no product with this id", field=where)
            report = product.kind == ProductKind.REPORT.value
            if report and (product.consultant_user_id is None or item.quantity != 1):
                raise Problem(VALIDATION, "a report is bought one at a time from a consultant who writes it",
                              field=where)
            line = LineIn(kind=LineKind.REPORT if report else LineKind.PRODUCT, description=product.title[:200],
                          unit_amount=product.price_minor, quantity=item.quantity, offering_id=str(product.id),
                          ref_id=str(product.consultant_user_id if report else product.id))
            currency = product.currency
        else:
            package = (await session.execute(select(SessionPackage).where(
                SessionPackage.tenant_id == tenant_id, SessionPackage.id == item.ref_id,
                SessionPackage.active.is_(True)))).scalar_one_or_none()
            if package is None:
                raise Problem(NOT_FOUND, "this consultancy has no session package with this id", field=where)
            line = LineIn(kind=LineKind.PACKAGE, description=package.title[:200], unit_amount=package.price_minor,
                          offering_id=str(package.id), ref_id=str(package.id))
            currency = package.currency
        currencies.add(currency)
        if len(currencies) > 1:
            raise Problem(VALIDATION, "everything in one cart is paid in one currency; check out this item apart",
                          field=where)
        lines.append(line)
    return lines, currencies.pop()
