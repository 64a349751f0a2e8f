"""Passwords, tokens, TOTP and the encryption of secrets kept in the database."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import Settings

_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommendation: 3 passes over 64 MiB
# A hash to verify against when the account does not exist, so that "no such user" and
# "wrong password" take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords (and the no-such-account dummy) with `hasher`'s cost from now on, in
    this process. Only the test suite calls it, with the smallest cost argon2 takes: at the
    default cost each hash is ~50 ms of CPU, a tenth of a `make test` worker's time. Hashes made
    at another cost still verify (argon2 reads the cost from the hash)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-" + secrets.token_hex(8))

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """What is wrong with a new password, in words a person can act on (empty if fine).

    Follows NIST SP 800-63B: length over composition rules, and no password equal to the
    account's own email or a well-known weak one.
    """
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"use at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"use at most {PASSWORD_MAX_LENGTH} characters")
    lowered = password.lower()
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        problems.append("do not use your email address as the password")
    if lowered in _WEAK_PASSWORDS or len(set(password)) < 4:
        problems.append("this password is too easy to guess")
    return problems


_WEAK_PASSWORDS = {
    "password", "password1", "password123", "1234567890", "12345678910", "qwertyuiop",
    "iloveyou123", "letmein123", "welcome123", "admin12345", "passw0rd123", "abcdefghij",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_opaque_token() -> str:
    """A random token for refresh, email verification and reset links (~256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: a leaked table cannot be replayed."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    tenant_id: UUID | None
    role: str
    session_id: UUID
    mfa: bool
    expires_at: datetime


class TokenError(Exception):
    pass


VERIFIED_TOKENS_KEPT = 4096


class Keys:
    """The process's signing and encryption keys."""

    def __init__(self, jwt_secret: str, encryption_keys: list[str]) -> None:
        self.jwt_secret = jwt_secret
        self._fernet = MultiFernet([Fernet(k.encode()) for k in encryption_keys])
        # token -> its payload, for tokens this process verified and that have not expired
        self._verified: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        jwt_secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        enc = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
        if jwt_secret and enc:
            return cls(jwt_secret, [k.strip() for k in enc.split(",") if k.strip()])
        if settings.is_production:
            raise RuntimeError("JWT_SECRET and ENCRYPTION_KEYS must be set in production")
        dev = _development_keys(settings.data_dir / "dev-keys.json")
        return cls(jwt_secret or dev["jwt_secret"], [enc] if enc else [dev["encryption_key"]])

    # -- access tokens ---------------------------------------------------------------------
    def issue_access_token(
        self,
        *,
        user_id: UUID,
        tenant_id: UUID | None,
        role: str,
        session_id: UUID,
        mfa: bool,
        ttl: timedelta,
        now: datetime | None = None,
    ) -> tuple[str, datetime]:
        issued = now or datetime.now(UTC)
        expires = issued + ttl
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "tid": str(tenant_id) if tenant_id else None,
            "role": role,
            "sid": str(session_id),
            "mfa": mfa,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "typ": "access",
        }
        return jwt.encode(payload, self.jwt_secret, algorithm="HS256"), expires

    def read_access_token(self, token: str, verified: dict[str, Any] | None = None) -> AccessClaims:
        """The claims of a valid access token. `verified`: the token's payload as
        `decode_token` returned it earlier in the same request (the rate limiter decodes it
        first), so that a request verifies its signature once, not twice."""
        if verified is None:
            try:
                data = self.decode_token(token)
            except jwt.ExpiredSignatureError as exc:
                raise TokenError("the access token has expired; refresh it") from exc
            except jwt.PyJWTError as exc:
                raise TokenError("the access token is not valid") from exc
        else:
            data = verified
        if "exp" not in data or "sub" not in data or data.get("typ") != "access":
            raise TokenError("the access token is not valid")
        return AccessClaims(
            user_id=UUID(data["sub"]),
            tenant_id=UUID(data["tid"]) if data.get("tid") else None,
            role=data["role"],
            session_id=UUID(data["sid"]),
            mfa=bool(data.get("mfa")),
            expires_at=datetime.fromtimestamp(data["exp"], UTC),
        )

    @staticmethod
    def revoked_key(session_id: object) -> str:
        """The Redis key that marks a signed-out session (its access tokens stop working)."""
        return f"revoked-session:{session_id}"

    def decode_token(self, token: str) -> dict[str, Any]:
        """A signed token's payload: signature (HS256) and expiry checked; raises PyJWTError.

        A token verified before is answered from memory until it expires: the same bytes under
        the same secret verify the same way every time, and only the expiry moves. PyJWT's
        verification was 8 % of a chart's CPU in the API (docs/performance.md, eleventh pass);
        a client sends the same access token on every request for its 15 minutes. At most
        `VERIFIED_TOKENS_KEPT` are kept, the oldest dropped first. Sign-out is not a property of
        the token: it is checked in Redis on every request, as before."""
        kept = self._verified.get(token)
        if kept is not None:
            if kept["exp"] > time.time():  # PyJWT's own rule: expired once exp <= now
                return dict(kept)
            self._verified.pop(token, None)
        data: dict[str, Any] = jwt.decode(token, self.jwt_secret, algorithms=["HS256"])
        if isinstance(data.get("exp"), int | float):
            self._verified[token] = dict(data)
            while len(self._verified) > VERIFIED_TOKENS_KEPT:
                with contextlib.suppress(RuntimeError, StopIteration):  # another thread's change
                    self._verified.pop(next(iter(self._verified)), None)
        return data

    # -- secrets at rest -------------------------------------------------------------------
    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key (the first of ENCRYPTION_KEYS)."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot rotate: the data was encrypted with an unknown key") from exc

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: the data was encrypted with an unknown key") from exc


def _development_keys(path: Path) -> dict[str, str]:
    """Keys generated once per data folder, so tokens survive a `make dev` restart."""
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {"jwt_secret": secrets.token_urlsafe(48), "encryption_key": Fernet.generate_key().decode()}
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


# -- TOTP --------------------------------------------------------------------------------
TOTP_ISSUER = "Muhurta"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=TOTP_ISSUER)


def totp_matches(secret: str, code: str, *, at: datetime | None = None) -> bool:
    """Accepts the current 30-second step and one either side (clock drift)."""
    cleaned = code.replace(" ", "")
    if not (cleaned.isdigit() and len(cleaned) == 6):
        return False
    return pyotp.TOTP(secret).verify(cleaned, for_time=at or datetime.now(UTC), valid_window=1)


def new_recovery_codes(count: int = 10) -> list[str]:
    return [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(count)]
