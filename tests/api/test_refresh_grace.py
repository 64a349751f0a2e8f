"""Two tabs refreshing the same token at once stay signed in; a replay later still signs out.

Within REFRESH_REUSE_GRACE_SECONDS of a rotation, the rotated-away token gets the very pair it
was swapped for (kept in Redis, sealed with the old token, until the window ends). The window
ending is Redis expiring that entry; the tests end it by removing the entry, not by waiting.
"""

from __future__ import annotations

import asyncio

from support import active_consultancy, assert_problem, end_refresh_grace

from core.security import hash_token


async def test_concurrent_refreshes_of_one_token_get_one_pair_and_stay_signed_in(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    tabs = await asyncio.gather(*(client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
                                  for _ in range(5)))
    assert [tab.status_code for tab in tabs] == [200] * 5, [tab.text for tab in tabs]
    pairs = {(tab.json()["access_token"], tab.json()["refresh_token"]) for tab in tabs}
    assert len(pairs) == 1, "every tab gets the same new pair"
    access, refresh = pairs.pop()
    assert refresh != owner.refresh
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})).status_code == 200
    # One tab moves on with the new token; a straggler with the old one, still in the window, too.
    moved_on = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert moved_on.status_code == 200, moved_on.text
    late = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert late.status_code == 200 and late.json()["refresh_token"] == refresh
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {moved_on.json()['access_token']}"})
    assert me.status_code == 200


async def test_a_replay_after_the_grace_window_still_revokes_the_family(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    tabs = await asyncio.gather(*(client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
                                  for _ in range(2)))
    assert [tab.status_code for tab in tabs] == [200, 200]
    new = tabs[0].json()
    await end_refresh_grace(app_state.redis, owner.refresh)
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert_problem(replay, 401, "token-invalid", "refresh_token")
    assert_problem(await client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}),
                   401, "token-invalid", "refresh_token")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert_problem(me, 401, "token-invalid")


async def test_the_grace_pair_is_only_for_the_token_that_was_rotated(client, sessionmaker, app_state):
    """The kept pair is sealed with the old token: a guess at another secret of the same session
    reads nothing, and is refused without signing anyone out."""
    owner = await active_consultancy(client, sessionmaker)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert first.status_code == 200
    session_id = owner.refresh.partition(".")[0]
    forged = await client.post("/api/v1/auth/refresh", json={"refresh_token": f"{session_id}.guessed-secret"})
    assert_problem(forged, 401, "token-invalid", "refresh_token")
    kept = await app_state.redis.get(f"refresh-grace:{hash_token(owner.refresh.partition('.')[2])}")
    assert kept is not None and first.json()["refresh_token"] not in str(kept)
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]})
    assert again.status_code == 200, again.text
