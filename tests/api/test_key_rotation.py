"""Rotating the encryption key keeps every stored secret readable, then the old key can go."""

from __future__ import annotations

import pyotp
from cryptography.fernet import Fernet
from support import active_consultancy, login

from core.security import Keys
from models import Base
from models.encrypted import ENCRYPTED_COLUMNS
from workers.rotate_keys import rotate_encrypted_columns


async def test_rotate_keys_reencrypts_totp_secrets(client, sessionmaker, keys, app_state):
    owner = await active_consultancy(client, sessionmaker)
    secret = (await client.post("/api/v1/auth/totp/enrol", headers=owner.headers())).json()["secret"]
    await client.post("/api/v1/auth/totp/confirm", headers=owner.headers(), json={"code": pyotp.TOTP(secret).now()})

    new_key = Fernet.generate_key().decode()
    old_key = app_state.settings.encryption_keys.get_secret_value()
    both = Keys(keys.jwt_secret, [new_key, old_key])
    assert await rotate_encrypted_columns(sessionmaker, both) == 1

    only_new = Keys(keys.jwt_secret, [new_key])
    original = app_state.keys
    app_state.keys = only_new
    try:
        signed_in = await login(client, owner.email, slug=owner.tenant_slug, totp_code=pyotp.TOTP(secret).now())
        assert signed_in.status_code == 200, signed_in.text
    finally:
        app_state.keys = original


def test_every_encrypted_column_is_rotated():
    """A column named *_encrypted that `rotate-keys` forgot would be lost when an old key is dropped."""
    listed = {(column.class_.__tablename__, column.key) for column in ENCRYPTED_COLUMNS}
    named = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
             if column.name.endswith("_encrypted")}
    assert named <= listed, named - listed
    assert ("idempotency_records", "response_body") in listed
