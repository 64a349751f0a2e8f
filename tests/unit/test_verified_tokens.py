"""core.security.Keys.decode_token answers a token it verified before from memory, and only
while the token is valid: same answers as PyJWT's, expiry included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.fernet import Fernet

from core.security import VERIFIED_TOKENS_KEPT, Keys, TokenError


@pytest.fixture
def keys() -> Keys:
    return Keys("a-secret-long-enough-for-hs256-" + "x" * 16, [Fernet.generate_key().decode()])


def _token(keys: Keys, ttl: timedelta = timedelta(minutes=15)) -> str:
    token, _ = keys.issue_access_token(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role="consultant",
                                       session_id=uuid.uuid4(), mfa=False, ttl=ttl)
    return token


def test_a_token_verified_again_gives_the_same_claims(keys: Keys) -> None:
    token = _token(keys)
    first = keys.read_access_token(token)
    again = keys.read_access_token(token)
    assert again == first
    payload = keys.decode_token(token)
    payload["role"] = "owner"  # a caller changing its copy changes nothing kept
    assert keys.decode_token(token)["role"] == "consultant"


def test_a_kept_token_stops_working_when_it_expires(keys: Keys) -> None:
    """A token kept while it was valid (issued 16 minutes ago with 15 to live, kept then) is
    refused now, as PyJWT refuses it."""
    issued = datetime.now(UTC) - timedelta(minutes=16)
    token, _ = keys.issue_access_token(user_id=uuid.uuid4(), tenant_id=None, role="client",
                                       session_id=uuid.uuid4(), mfa=False, ttl=timedelta(minutes=15), now=issued)
    keys._verified[token] = jwt.decode(token, keys.jwt_secret, algorithms=["HS256"],
                                       options={"verify_exp": False})  # as kept back then
    with pytest.raises(jwt.ExpiredSignatureError):
        keys.decode_token(token)
    assert token not in keys._verified
    with pytest.raises(TokenError, match="expired"):
        keys.read_access_token(token)


def test_other_tokens_are_verified_as_before(keys: Keys) -> None:
    token = _token(keys)
    keys.read_access_token(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(TokenError):
        keys.read_access_token(forged)
    other = Keys("another-secret-long-enough-for-hs256-" + "y" * 8, [Fernet.generate_key().decode()])
    with pytest.raises(TokenError):
        other.read_access_token(token)  # kept per key: verified by `keys`, not by `other`
    with pytest.raises(TokenError):
        keys.read_access_token(_token(keys, ttl=timedelta(seconds=-1)))


def test_the_kept_tokens_are_bounded(keys: Keys) -> None:
    first = _token(keys)
    keys.decode_token(first)
    for _ in range(VERIFIED_TOKENS_KEPT + 10):
        keys.decode_token(_token(keys))
    assert len(keys._verified) == VERIFIED_TOKENS_KEPT
    assert first not in keys._verified  # the oldest went first
    assert keys.decode_token(first)["typ"] == "access"  # and is verified again when it comes back
