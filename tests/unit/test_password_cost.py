"""The product hashes passwords with argon2id at RFC 9106's recommended cost. The test suite
lowers the cost in its own processes (tests/conftest.py), so this is checked in a fresh one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_passwords_are_hashed_at_the_recommended_cost_and_any_cost_verifies() -> None:
    script = (
        "from argon2 import PasswordHasher\n"
        "from core.security import hash_password, verify_password\n"
        "stored = hash_password('a long passphrase')\n"
        "cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash('a long passphrase')\n"
        "print(stored.split('$')[3])\n"
        "print(verify_password('a long passphrase', stored), verify_password('not it at all', stored),"
        " verify_password('a long passphrase', cheap))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=120).stdout.split("\n")
    assert out[0] == "m=65536,t=3,p=4"  # 64 MiB, 3 passes, 4 lanes
    assert out[1] == "True False True"
