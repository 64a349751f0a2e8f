"""/files: uploads are judged by their content and size, stored under tenant keys, and fetched only
through signed, expiring links by the people allowed to."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update
from support import active_consultancy, assert_problem, register_client

from api.app import create_app
from core.db import TenantScope, scoped_session
from core.signed_links import DownloadLinks
from models.files import StoredFile
from models.identity import User

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _upload(client, account, name: str, data: bytes, claimed: str = "application/octet-stream", **fields):
    return await client.post("/api/v1/files", headers=account.headers(), files={"file": (name, data, claimed)},
                             data=fields)


async def _link(client, account, file_id: str) -> str:
    response = await client.get(f"/api/v1/files/{file_id}/download-link", headers=account.headers())
    assert response.status_code == 200, response.text
    return _path(response.json()["url"])


@pytest.fixture
async def small_uploads(app_state, clean):
    """The app with a 1 KiB upload limit."""
    state = dataclasses.replace(app_state, settings=app_state.settings.model_copy(update={"upload_max_bytes": 1024}))
    transport = ASGITransport(app=create_app(state=state), client=("203.0.113.8", 50000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_client_uploads_an_image_stored_under_its_tenant_and_fetches_it(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    response = await _upload(client, customer, "../../etc/My Palm.JPG", JPEG, "text/plain")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "jpeg" and body["content_type"] == "image/jpeg"  # by content, not the claim
    assert body["name"] == "My Palm.jpg" and body["client_id"] == customer.user_id
    assert body["size_bytes"] == len(JPEG) and body["sha256"] == hashlib.sha256(JPEG).hexdigest()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        stored = await session.get(StoredFile, uuid.UUID(body["id"]))
    assert stored.storage_key == f"tenants/{owner.tenant_id}/files/{body['id']}.jpg"
    on_disk = app_state.settings.data_dir / "files" / stored.storage_key
    assert on_disk.read_bytes() == JPEG

    fetched = await client.get(await _link(client, customer, body["id"]))  # no Authorization: the link is enough
    assert fetched.status_code == 200 and fetched.content == JPEG
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"].startswith('attachment; filename="My Palm.jpg"')
    listed = await client.get("/api/v1/files", headers=customer.headers())
    assert [f["id"] for f in listed.json()["items"]] == [body["id"]]


@pytest.mark.parametrize(("name", "data", "kind"), [("scan.webp", WEBP, "webp"), ("report.pdf", PDF, "pdf"),
                                                    ("photo", PNG, "png")])
async def test_accepted_kinds(client, sessionmaker, name, data, kind):
    owner = await active_consultancy(client, sessionmaker)
    response = await _upload(client, owner, name, data)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind


async def test_a_png_named_pdf_is_refused_and_names_the_field(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    response = await _upload(client, customer, "birth-chart.pdf", PNG, "application/pdf")
    body = assert_problem(response, 415, "unsupported-file-type", "file")
    assert ".pdf" in body["detail"] and "PNG" in body["detail"]
    assert (await client.get("/api/v1/files", headers=customer.headers())).json()["items"] == []


@pytest.mark.parametrize(("name", "data", "words"), [
    ("invoice.pdf", b"MZ\x90\x00" + bytes(100), "Windows program"),
    ("page.png", b"<!DOCTYPE html><script>alert(1)</script>", "HTML"),
    ("archive.jpg", b"PK\x03\x04" + bytes(40), "ZIP"),
    ("empty.pdf", b"", "empty"),
    ("broken.pdf", b"%PDF-1.7\n" + bytes(50), "incomplete"),
    ("setup.exe", PNG, ".exe"),
])
async def test_content_that_is_not_accepted_is_refused(client, sessionmaker, name, data, words):
    owner = await active_consultancy(client, sessionmaker)
    body = assert_problem(await _upload(client, owner, name, data), 415, "unsupported-file-type", "file")
    assert words in body["detail"]


async def test_oversize_uploads_are_refused_with_the_limit(small_uploads, sessionmaker):
    owner = await active_consultancy(small_uploads, sessionmaker)
    # just over the limit: read up to the limit and refused
    just_over = await _upload(small_uploads, owner, "big.png", PNG + bytes(1024))
    body = assert_problem(just_over, 413, "file-too-large", "file")
    assert body["max_bytes"] == 1024 and "1024 bytes" in body["detail"]
    # far over: refused from Content-Length, before the body is read
    far_over = await _upload(small_uploads, owner, "huge.png", PNG + bytes(200_000))
    assert_problem(far_over, 413, "file-too-large", "file")
    ok = await _upload(small_uploads, owner, "small.png", PNG)
    assert ok.status_code == 201
    assert len((await small_uploads.get("/api/v1/files", headers=owner.headers())).json()["items"]) == 1


async def test_malformed_upload_requests_name_the_field(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    assert_problem(await client.post("/api/v1/files", headers=owner.headers(), json={"file": "x"}),
                   422, "validation", "file")
    no_part = await client.post("/api/v1/files", headers=owner.headers(), data={"other": "x"},
                                files={"attachment": ("a.png", PNG, "image/png")})
    assert_problem(no_part, 422, "validation", "file")
    bad_client = await _upload(client, owner, "a.png", PNG, client_id="not-an-id")
    assert_problem(bad_client, 422, "validation", "client_id")
    no_boundary = await client.post("/api/v1/files", content=b"--x\r\nnot a part",
                                    headers={**owner.headers(), "content-type": "multipart/form-data"})
    assert_problem(no_boundary, 422, "validation", "file")


async def test_staff_upload_for_their_clients_only_and_clients_for_themselves(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    other_owner = await active_consultancy(client, sessionmaker)
    stranger = await register_client(client, other_owner.tenant_slug)
    for_customer = await _upload(client, owner, "chart.png", PNG, client_id=customer.user_id)
    assert for_customer.status_code == 201 and for_customer.json()["client_id"] == customer.user_id
    assert_problem(await _upload(client, owner, "chart.png", PNG, client_id=stranger.user_id),
                   422, "validation", "client_id")
    assert_problem(await _upload(client, owner, "chart.png", PNG, client_id=owner.user_id),
                   422, "validation", "client_id")  # the owner is not a client
    sibling = await register_client(client, owner.tenant_slug)
    assert_problem(await _upload(client, customer, "x.png", PNG, client_id=sibling.user_id), 403, "forbidden",
                   "client_id")
    # the client sees the file staff uploaded for them
    mine = (await client.get("/api/v1/files", headers=customer.headers())).json()["items"]
    assert [f["id"] for f in mine] == [for_customer.json()["id"]]


async def test_a_client_reaches_only_their_own_files_staff_every_file_of_the_tenant(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    first = await register_client(client, owner.tenant_slug)
    second = await register_client(client, owner.tenant_slug)
    firsts = (await _upload(client, first, "a.png", PNG)).json()["id"]
    seconds = (await _upload(client, second, "b.png", PNG)).json()["id"]
    for path in (f"/api/v1/files/{seconds}", f"/api/v1/files/{seconds}/download-link"):
        assert_problem(await client.get(path, headers=first.headers()), 404, "not-found", "file_id")
    assert (await client.get(f"/api/v1/files/{firsts}", headers=first.headers())).status_code == 200
    everything = (await client.get("/api/v1/files", headers=owner.headers())).json()["items"]
    assert {f["id"] for f in everything} == {firsts, seconds}
    only_second = await client.get("/api/v1/files", params={"client_id": second.user_id}, headers=owner.headers())
    assert [f["id"] for f in only_second.json()["items"]] == [seconds]
    staff_link = await _link(client, owner, firsts)
    assert (await client.get(staff_link)).content == PNG
    # a client asking for another client's files by filter still gets only their own
    sneaky = await client.get("/api/v1/files", params={"client_id": second.user_id}, headers=first.headers())
    assert sneaky.json()["items"] == []


async def test_expired_and_tampered_links_are_refused(client, sessionmaker, keys):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    file_id = (await _upload(client, customer, "a.png", PNG)).json()["id"]
    other_id = (await _upload(client, customer, "b.png", PNG)).json()["id"]
    links = DownloadLinks.from_keys(keys)
    expired = links.token(file_id=uuid.UUID(file_id), tenant_id=uuid.UUID(owner.tenant_id),
                          user_id=uuid.UUID(customer.user_id), expires_at=datetime.now(UTC) - timedelta(seconds=1))
    body = assert_problem(await client.get(f"/api/v1/files/{file_id}/content", params={"token": expired}),
                          410, "download-link-expired", "token")
    assert "expired" in body["detail"]

    good = await _link(client, customer, file_id)
    token = good.split("token=", 1)[1]
    *head, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged_expiry = ".".join([*head[:3], str(int(head[3]) + 86400), signature])
    forged_user = ".".join([head[0], head[1], uuid.UUID(owner.user_id).hex, head[3], signature])
    for bad in (".".join([*head, flipped]), forged_expiry, forged_user, "v1.garbage.token.here.x", "x" * 40):
        response = await client.get(f"/api/v1/files/{file_id}/content", params={"token": bad})
        assert_problem(response, 403, "download-link-invalid", "token")
    # a good token for one file opens no other
    assert_problem(await client.get(f"/api/v1/files/{other_id}/content", params={"token": token}),
                   403, "download-link-invalid", "token")
    assert (await client.get(good)).status_code == 200


async def test_a_link_cannot_reach_another_tenants_file(client, sessionmaker, keys):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    a_file = (await _upload(client, a, "a.png", PNG)).json()["id"]
    b_file = (await _upload(client, b, "b.png", PNG)).json()["id"]
    b_token = (await _link(client, b, b_file)).split("token=", 1)[1]
    # B's valid token, on A's file id
    assert_problem(await client.get(f"/api/v1/files/{a_file}/content", params={"token": b_token}),
                   403, "download-link-invalid", "token")
    # a correctly signed token that names B's tenant for A's file finds nothing there
    crafted = DownloadLinks.from_keys(keys).token(file_id=uuid.UUID(a_file), tenant_id=uuid.UUID(b.tenant_id),
                                                  user_id=uuid.UUID(b.user_id),
                                                  expires_at=datetime.now(UTC) + timedelta(minutes=5))
    response = await client.get(f"/api/v1/files/{a_file}/content", params={"token": crafted})
    assert_problem(response, 404, "not-found", "file_id")
    assert PNG not in response.content
    assert_problem(await client.get(f"/api/v1/files/{a_file}/download-link", headers=b.headers()),
                   404, "not-found", "file_id")


async def test_a_link_stops_working_for_a_deactivated_person(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    file_id = (await _upload(client, customer, "a.png", PNG)).json()["id"]
    link = await _link(client, customer, file_id)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(User).where(User.id == uuid.UUID(customer.user_id)).values(is_active=False))
    assert_problem(await client.get(link), 403, "download-link-invalid", "token")


async def test_files_need_a_signed_in_person_of_an_active_tenant(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    assert_problem(await client.get("/api/v1/files", headers={"X-Tenant": owner.tenant_slug}), 401, "unauthenticated")
    assert_problem(await client.post("/api/v1/files", headers={"X-Tenant": owner.tenant_slug},
                                     files={"file": ("a.png", PNG, "image/png")}), 401, "unauthenticated")
    pending = await client.post("/api/v1/auth/signup", json={
        "business_name": "Pending", "slug": f"p-{uuid.uuid4().hex[:6]}", "full_name": "P",
        "email": f"p-{uuid.uuid4().hex[:6]}@example.com", "password": "correct-horse-battery-staple"})
    token = pending.json()["tokens"]["access_token"]
    assert_problem(await client.get("/api/v1/files", headers={"Authorization": f"Bearer {token}"}),
                   403, "tenant-pending-approval")
