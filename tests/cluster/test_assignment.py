"""Rendezvous hashing: one owner per endpoint, fair shares, little movement, and the
cluster key of a config."""

from __future__ import annotations

from collections import Counter

from monitor_center.cluster import cluster_key, owner, share_of
from monitor_center.config import parse_config_text

ENDPOINTS = [f"portal-{n}" for n in range(3000)]


def test_every_endpoint_has_one_owner_and_shares_are_about_fair() -> None:
    members = ["host-a:1:aa", "host-b:2:bb", "host-c:3:cc"]
    counts = Counter(owner(e, members) for e in ENDPOINTS)
    assert set(counts) == set(members)
    assert all(800 <= n <= 1200 for n in counts.values()), counts
    shares = [share_of(m, ENDPOINTS, members) for m in members]
    assert sum(len(s) for s in shares) == len(ENDPOINTS)


def test_the_order_of_the_member_list_does_not_matter() -> None:
    members = ["x:1:01", "y:2:02", "z:3:03"]
    assert all(owner(e, members) == owner(e, members[::-1]) for e in ENDPOINTS[:200])


def test_a_joining_member_takes_only_from_the_others_what_becomes_its_own() -> None:
    before = ["a:1:01", "b:2:02", "c:3:03"]
    after = [*before, "d:4:04"]
    moved = [e for e in ENDPOINTS if owner(e, before) != owner(e, after)]
    assert all(owner(e, after) == "d:4:04" for e in moved)
    assert 600 <= len(moved) <= 900  # about a quarter


def test_a_leaving_member_moves_only_its_own_endpoints() -> None:
    before = ["a:1:01", "b:2:02", "c:3:03"]
    after = ["a:1:01", "c:3:03"]
    moved = {e for e in ENDPOINTS if owner(e, before) != owner(e, after)}
    assert moved == share_of("b:2:02", ENDPOINTS, before)


def test_nobody_owns_anything_without_members() -> None:
    assert owner("portal-1", []) is None


def test_the_cluster_key_follows_the_config_but_not_its_secrets() -> None:
    def config(url: str, token: str) -> str:
        return f"""
auth: {{tokens: [{{name: ops, token: {token}, role: admin}}]}}
agencies: [{{id: a, name: A, kind: platform}}]
endpoints: [{{id: e, agency: a, url: "{url}"}}]
"""

    def key(text: str) -> str:
        return cluster_key(parse_config_text(text, filename="c.yaml", env={}))

    base = key(config("http://a.example/", "token-one-0123456789"))
    assert key(config("http://a.example/", "token-two-0123456789")) == base
    assert key(config("http://b.example/", "token-one-0123456789")) != base
