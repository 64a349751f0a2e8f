"""docs/team.md's permission table is the one in api/permissions.py, cell for cell."""

from __future__ import annotations

from pathlib import Path

from api.permissions import ROLE_PERMISSIONS, Permission
from models.identity import Role

DOC = Path(__file__).parents[2] / "docs" / "team.md"


def test_the_docs_table_lists_every_permission_and_who_has_it() -> None:
    lines = DOC.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| permission | what |"))
    roles = [Role(cell.strip()) for cell in header.strip("|").split("|")[2:]]
    assert set(roles) == set(ROLE_PERMISSIONS)
    rows = {line.split("|")[1].strip().strip("`"): line for line in lines
            if line.startswith("| `") and ":" in line.split("|")[1]}
    for permission in Permission:
        row = rows.get(permission.value)
        assert row is not None, f"docs/team.md lacks {permission.value}"
        cells = [cell.strip() for cell in row.strip("|").split("|")[2:]]
        assert {role for role, cell in zip(roles, cells, strict=True) if cell == "✓"} == {
            role for role in roles if permission in ROLE_PERMISSIONS[role]}, permission.value
