"""File storage behind one small interface: local disk by default, an S3-compatible bucket by settings.

Keys are always built here from ids (`tenants/<tenant id>/files/<file id>.<ext>`), never from
anything a person typed, and every adapter refuses a key outside a tenant's prefix. Objects are
written whole and atomically: a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from uuid import UUID

from core.settings import Settings

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY = re.compile(rf"^tenants/{_UUID}(/[a-z0-9][a-z0-9._-]{{0,99}}){{1,4}}$")
_PART = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class StorageError(Exception):
    """The store failed (unreachable, refused): a server-side problem, worth a retry."""


class ObjectMissing(StorageError):
    """No object under this key."""


def tenant_key(tenant_id: UUID, *parts: str) -> str:
    """The key of an object of this tenant: `tenants/<tenant id>/<part>/...`."""
    for part in parts:
        if not _PART.match(part) or ".." in part:
            raise ValueError(f"not a safe key part: {part!r}")
    key = "/".join(["tenants", str(tenant_id), *parts])
    check_key(key)
    return key


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a tenant-scoped storage key: {key!r}")
    return key


def key_tenant(key: str) -> UUID:
    """The tenant a key belongs to."""
    return UUID(check_key(key).split("/")[1])


class FileStorage(Protocol):
    """Where the bytes of uploaded and generated files live."""

    backend: str

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one folder (`<data_dir>/files` by default), laid out as their keys."""

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces: check_key already forbids '..'
            raise ValueError(f"key escapes the storage folder: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


def build_storage(settings: Settings) -> FileStorage:
    """The storage the settings choose (`STORAGE_BACKEND=local|s3`)."""
    if settings.storage_backend == "s3":
        from core.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.data_dir / "files")
