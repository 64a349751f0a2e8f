"""An S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Backblaze B2...) on httpx.

Three calls are all Muhurta needs (put, get, delete an object), so rather than the AWS SDK this is
a small client that signs each request with AWS Signature Version 4, the scheme every
S3-compatible service accepts:
https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
The payload is hashed and signed too (`x-amz-content-sha256`), so the store refuses a body that
was changed on the way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

import httpx

from core.settings import Settings
from core.storage import ObjectMissing, StorageError, check_key

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_uri(path: str) -> str:
    """Each segment URI-encoded exactly once (S3 does not double-encode); '/' kept. Accepts the
    path raw or already percent-encoded as sent."""
    return quote(unquote(path or "/"), safe="/~")


def canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def sign_v4(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str = "s3",
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to add to a request: `x-amz-date`, `x-amz-content-sha256` and `Authorization`.

    Every header in `headers` (and `host`) is signed.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(url)
    host = parts.netloc
    all_headers = {k.lower(): v for k, v in headers.items()}
    all_headers.setdefault("host", host)
    all_headers["x-amz-date"] = amz_date
    all_headers["x-amz-content-sha256"] = payload_sha256
    names = sorted(all_headers)
    canonical_headers = "".join(f"{n}:{' '.join(str(all_headers[n]).split())}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join([
        method.upper(), canonical_uri(parts.path), canonical_query(parts.query),
        canonical_headers, signed_headers, payload_sha256,
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([
        ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    signature = hmac.new(signing_key(secret_key, date, region, service), string_to_sign.encode(),
                         hashlib.sha256).hexdigest()
    return {
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload_sha256,
        "Authorization": f"{ALGORITHM} Credential={access_key}/{scope}, "
                         f"SignedHeaders={signed_headers}, Signature={signature}",
    }


_ERROR_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")


class S3Storage:
    backend = "s3"

    def __init__(
        self,
        *,
        endpoint_url: str,
        bucket: str,
        region: str,
        access_key: str,
        secret_key: str,
        path_style: bool = True,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint_url.rstrip("/")
        self.bucket = bucket
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.path_style = path_style
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        if not (settings.s3_bucket and settings.s3_access_key_id and secret):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY")
        return cls(endpoint_url=settings.s3_endpoint_url, bucket=settings.s3_bucket, region=settings.s3_region,
                   access_key=settings.s3_access_key_id, secret_key=secret, path_style=settings.s3_path_style)

    def object_url(self, key: str) -> str:
        encoded = quote(check_key(key), safe="/~")
        if self.path_style:
            return f"{self.endpoint}/{self.bucket}/{encoded}"
        scheme, _, host = self.endpoint.partition("://")
        return f"{scheme}://{self.bucket}.{host}/{encoded}"

    async def _send(self, method: str, key: str, body: bytes = b"", headers: Mapping[str, str] | None = None
                    ) -> httpx.Response:
        url = self.object_url(key)
        extra = dict(headers or {})
        signed = sign_v4(method=method, url=url, headers=extra, payload_sha256=hashlib.sha256(body).hexdigest(),
                         access_key=self.access_key, secret_key=self.secret_key, region=self.region)
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                return await client.request(method, url, content=body or None, headers={**extra, **signed})
        except httpx.HTTPError as exc:
            raise StorageError(f"S3 {method} {key}: {exc}") from exc

    @staticmethod
    def _fail(method: str, key: str, response: httpx.Response) -> StorageError:
        found = _ERROR_CODE.search(response.content)
        code = found.group(1).decode() if found else "no error code"
        return StorageError(f"S3 {method} {key} answered {response.status_code} ({code})")

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        response = await self._send("PUT", key, data, {"content-type": content_type})
        if response.status_code != 200:
            raise self._fail("PUT", key, response)

    async def get(self, key: str) -> bytes:
        response = await self._send("GET", key)
        if response.status_code == 404:
            raise ObjectMissing(key)
        if response.status_code != 200:
            raise self._fail("GET", key, response)
        return response.content

    async def delete(self, key: str) -> None:
        response = await self._send("DELETE", key)
        if response.status_code not in (200, 204, 404):
            raise self._fail("DELETE", key, response)
