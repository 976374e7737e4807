"""Who should probe what: rendezvous hashing over the live members, and the cluster key.

Rendezvous (highest-random-weight) hashing: every member scores every endpoint with a
hash of (member, endpoint) and the highest score owns it. Every process computes the same
answer from the same member list, with no coordination; when a member joins it takes
about 1/n of the endpoints, from every other member alike, and when one leaves only its
own endpoints move. (A modulo over a sorted member list would move most endpoints on
every change.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from monitor_center.config import Config


def weight(member_id: str, endpoint_id: str) -> int:
    """The member's score for the endpoint: 64 bits of BLAKE2b, the same in every process."""
    digest = hashlib.blake2b(
        f"{member_id}\x00{endpoint_id}".encode(), digest_size=8, usedforsecurity=False
    )
    return int.from_bytes(digest.digest(), "big")


def owner(endpoint_id: str, members: Sequence[str]) -> str | None:
    """The member that should probe ``endpoint_id`` (None without members)."""
    if not members:
        return None
    return max(members, key=lambda m: (weight(m, endpoint_id), m))


def share_of(member_id: str, endpoint_ids: Iterable[str], members: Sequence[str]) -> set[str]:
    """The endpoints that ``member_id`` should probe among ``members``."""
    return {e for e in endpoint_ids if owner(e, members) == member_id}


def cluster_key(config: Config) -> str:
    """A fingerprint of the config: processes share work only with processes that run
    the same one (secrets are masked in the dump, so a rotated token changes nothing)."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def results_channel(cluster: str) -> str:
    """The NOTIFY channel on which a cluster's members share their probe results."""
    return f"monitor_center_results_{cluster}"
