"""`muhurta doctor`: is every server reachable and is the configuration safe?"""

from __future__ import annotations

from sqlalchemy import text

from activities.documents.pdf import fonts_available
from core.db import make_engine
from core.redis import make_redis
from core.settings import Settings
from core.temporal import connect_temporal
from workflows.search_attributes import SEARCH_ATTRIBUTES


def pdf_rendering() -> tuple[bool, str]:
    """Can this machine make PDFs (WeasyPrint with Pango and fontconfig)? (ok, why not)."""
    from activities.documents.pdf import PdfUnavailableError, render_pdf_html

    try:
        render_pdf_html("<p>doctor</p>")
    except PdfUnavailableError as exc:
        return False, str(exc).splitlines()[0]
    return True, ""


def harfbuzz_subset_available() -> bool:
    """WeasyPrint embeds font subsets with HarfBuzz when it can, else with fontTools (slower)."""
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


async def run_doctor(settings: Settings) -> int:
    problems = 0

    def report(ok: bool, what: str, hint: str = "", *, warning_only: bool = False) -> None:
        nonlocal problems
        problems += not ok and not warning_only
        mark = "ok" if ok else "--" if warning_only else "!!"
        print(f"[{mark}] {what}" + (f"\n     {hint}" if hint and not ok else ""))

    engine = make_engine(settings.database_url, 1)
    try:
        async with engine.connect() as conn:
            role = (await conn.execute(text(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
            report(True, f"PostgreSQL reachable as {role.rolname}")
            report(not role.rolsuper and not role.rolbypassrls,
                   "row-level security applies to the application's role",
                   "connect as a role without SUPERUSER and BYPASSRLS, or the second line of tenant "
                   "isolation is off")
            has_table = (await conn.execute(text("SELECT to_regclass('alembic_version')"))).scalar()
            head = None
            if has_table:
                head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
            report(head is not None, f"migrations applied (revision {head})", "run `muhurta migrate`")
    except Exception as exc:
        report(False, "PostgreSQL reachable", f"{type(exc).__name__}: {exc}")
    finally:
        await engine.dispose()

    redis = make_redis(settings.redis_url)
    try:
        report(bool(await redis.ping()), "Redis reachable")
    except Exception as exc:
        report(False, "Redis reachable", f"{type(exc).__name__}: {exc}")
    finally:
        await redis.aclose()

    try:
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

        client = await connect_temporal(settings)
        report(True, f"Temporal reachable at {settings.temporal_address} ({settings.temporal_namespace})")
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=settings.temporal_namespace))
        missing = sorted(set(SEARCH_ATTRIBUTES) - set(listed.custom_attributes))
        report(not missing, "custom search attributes registered",
               f"missing {', '.join(missing)}: run `muhurta migrate`")
    except Exception as exc:
        report(False, "Temporal reachable", f"{type(exc).__name__}: {exc}")

    pdf_ok, why = pdf_rendering()
    report(pdf_ok, "PDF rendering (chart reports, invoices, booking confirmations)",
           f"{why}; install Pango >= 1.44 and fontconfig (Debian/Ubuntu: apt install "
           "libpango-1.0-0 libpangoft2-1.0-0 libfontconfig1), as the Dockerfile does")
    if pdf_ok:
        report(harfbuzz_subset_available(), "HarfBuzz subsetter for PDF fonts",
               "PDFs render with a slower fallback (and WeasyPrint warns on each): install libharfbuzz-subset0",
               warning_only=True)
    fonts = fonts_available()
    report(fonts.get("Noto Sans Devanagari", False), "Devanagari font for Hindi documents",
           "Hindi text in PDFs shows as empty boxes: install fonts-noto-core (Latin text renders with "
           "DejaVu Sans)", warning_only=True)

    if settings.is_production:
        report(settings.jwt_secret is not None and settings.encryption_keys is not None,
               "JWT_SECRET and ENCRYPTION_KEYS set")
    print("all good" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0
