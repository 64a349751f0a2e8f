"""Telling files apart by content, safe display names, tenant keys, and signed download links."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.signed_links import DownloadLinks, LinkError
from core.storage import LocalStorage, ObjectMissing, check_key, key_tenant, tenant_key
from domain.files import FileKind, FileRejected, check_content, display_name, sniff

PDF = b"%PDF-1.4\nbody\n%%EOF"
ALL = frozenset(FileKind)


@pytest.mark.parametrize(("data", "kind"), [
    (PDF, FileKind.PDF), (b"\x89PNG\r\n\x1a\n....", FileKind.PNG), (b"\xff\xd8\xff\xdb", FileKind.JPEG),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", FileKind.WEBP), (b"GIF89a..", FileKind.GIF), (b"GIF87a..", FileKind.GIF),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", FileKind.WAV), (b"\x00\x00\x00\x18ftypisom", FileKind.MP4),
    (b"\x00\x00\x00\x18ftypM4A ", FileKind.M4A), (b"ID3\x04", FileKind.MP3), (b"\x1a\x45\xdf\xa3", FileKind.WEBM),
    (b"OggS\x00", FileKind.OGG), (b"PK\x03\x04", None), (b"", None), (b"%PDF", None),
])
def test_sniff(data, kind):
    assert sniff(data) == kind


def test_media_is_refused_where_documents_are_asked_for():
    from domain.files import DOCUMENT_KINDS
    with pytest.raises(FileRejected, match="this file is an MP4 video"):
        check_content(b"\x00\x00\x00\x18ftypisom", filename="talk.mp4", allowed=DOCUMENT_KINDS)


def test_names_and_claims_do_not_decide_but_a_lying_name_is_refused():
    assert check_content(PDF, filename=None, allowed=ALL) == FileKind.PDF
    assert check_content(PDF, filename="report.PDF", allowed=ALL) == FileKind.PDF
    assert check_content(PDF, filename="report.final", allowed=ALL) == FileKind.PDF  # unknown extension: fine
    with pytest.raises(FileRejected, match=r"named \.pdf but its content is a PNG image"):
        check_content(b"\x89PNG\r\n\x1a\n", filename="report.pdf", allowed=ALL)
    with pytest.raises(FileRejected, match="upload a PDF document"):
        check_content(b"\x89PNG\r\n\x1a\n", filename="x.png", allowed=frozenset({FileKind.PDF}))


@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_accepted_only_as_a_sniffed_kind(data):
    try:
        kind = check_content(data, filename=None, allowed=ALL)
    except FileRejected:
        return
    assert sniff(data) == kind


@pytest.mark.parametrize(("given_name", "shown"), [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("C:\\Users\\me\\Kundli 2027.PDF", "Kundli 2027.pdf"),
    ("evil\r\nX-Header: 1.pdf", "evilX-Header_ 1.pdf"), (None, "file.pdf"), ("....pdf", "file.pdf"),
    ("राशिफल.pdf", "राशिफल.pdf"), ("a" * 300 + ".pdf", "a" * 100 + ".pdf"), ("photo.png", "photo.pdf"),
])
def test_display_names_are_safe(given_name, shown):
    assert display_name(given_name, FileKind.PDF) == shown


def test_keys_are_tenant_scoped():
    tenant = uuid.uuid4()
    key = tenant_key(tenant, "files", "abc.pdf")
    assert key == f"tenants/{tenant}/files/abc.pdf" and key_tenant(key) == tenant
    for bad in ("..", "a/b", "", "UPPER", ".hidden"):
        with pytest.raises(ValueError, match="not a safe key part"):
            tenant_key(tenant, "files", bad)
    with pytest.raises(ValueError, match="tenant-scoped"):
        check_key(f"tenants/{tenant}/files/../../x")


async def test_local_storage_round_trip_and_stays_in_its_folder(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    key = tenant_key(uuid.uuid4(), "files", "a.pdf")
    await storage.put(key, PDF, "application/pdf")
    assert await storage.get(key) == PDF
    assert (tmp_path / "files" / key).read_bytes() == PDF
    assert not [p for p in (tmp_path / "files").rglob(".upload-*")]  # no temporary file left behind
    await storage.delete(key)
    await storage.delete(key)  # deleting twice is fine
    with pytest.raises(ObjectMissing):
        await storage.get(key)
    with pytest.raises(ValueError, match="tenant-scoped"):
        await storage.put("tenants/../../escape", PDF, "application/pdf")


def test_signed_links():
    links = DownloadLinks("secret-" + "x" * 40)
    file_id, tenant, user = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    token = links.token(file_id=file_id, tenant_id=tenant, user_id=user, expires_at=now + timedelta(minutes=15))
    grant = links.verify(token, file_id=file_id, now=now)
    assert (grant.tenant_id, grant.user_id) == (tenant, user)
    with pytest.raises(LinkError) as expired:
        links.verify(token, file_id=file_id, now=now + timedelta(minutes=15))
    assert expired.value.reason == "expired"
    for wrong in (lambda: links.verify(token, file_id=uuid.uuid4(), now=now),
                  lambda: DownloadLinks("another-secret" + "y" * 40).verify(token, file_id=file_id, now=now),
                  lambda: links.verify(token.replace("v1.", "v2.", 1), file_id=file_id, now=now),
                  lambda: links.verify(token + "A", file_id=file_id, now=now)):
        with pytest.raises(LinkError) as invalid:
            wrong()
        assert invalid.value.reason == "invalid"


def test_report_messages_refuse_missing_variables():
    from domain.notification_channels import Channel
    from domain.notification_templates import TemplateError, render_template
    from domain.notification_texts import BUILTIN

    rendered = render_template(BUILTIN[("report_due_soon", Channel.EMAIL, "en")], {
        "full_name": "A", "client_name": "B", "title": "T", "due": "1 Jan", "link": "https://x"},
        timezone="UTC", locale="en")
    assert rendered.subject == "Report due 1 Jan: T" and "https://x" in rendered.body
    with pytest.raises(TemplateError):
        render_template(BUILTIN[("report_delivered", Channel.EMAIL, "en")], {"full_name": "A"},
                        timezone="UTC", locale="en")
