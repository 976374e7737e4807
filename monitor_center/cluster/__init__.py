"""Scale-out on PostgreSQL: the center's processes (``serve`` and ``worker``) share the
endpoints through leases in the database, share their results over NOTIFY, and one of
them, the leader, runs the once-per-center jobs. See ``membership.py`` for the design."""

from monitor_center.cluster.assignment import cluster_key, owner, results_channel, share_of
from monitor_center.cluster.membership import Membership
from monitor_center.cluster.node import ClusterNode, Role
from monitor_center.cluster.probing import LeasedProber, NotProbed, results_only
from monitor_center.cluster.sharing import ResultShare

__all__ = [
    "ClusterNode",
    "LeasedProber",
    "Membership",
    "NotProbed",
    "ResultShare",
    "Role",
    "cluster_key",
    "owner",
    "results_channel",
    "results_only",
    "share_of",
]
