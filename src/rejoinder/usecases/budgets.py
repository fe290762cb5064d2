"""The request limits counted per client network (not in the database): the moderation check
endpoint, readers' reports, and asking for the link to one's data.

Each limit charges the client's address (IPv4 /32, IPv6 /64) and, with a larger budget, its
group (IPv4 /24, IPv6 /48), as `rejoinder.core.addresses.networks_of` makes them and the web
layer hashes them; a request goes through only if both have room. The counts live in
`store.budgets`: Redis when configured (every worker and host), else this process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rejoinder.store.budgets import Budgets, Charge


@dataclass(frozen=True)
class Limit:
    name: str
    per_address: int
    per_group: int
    window: float  # seconds

    def charges(self, ip_hash: str, group_hash: str) -> list[Charge]:
        return [
            Charge(f"{self.name}:addr:{ip_hash}", self.per_address, self.window),
            Charge(f"{self.name}:group:{group_hash}", self.per_group, self.window),
        ]


# A check runs the whole pipeline: a writer checks once per post, rarely 30 times a minute.
CHECKS = Limit("check", per_address=30, per_group=120, window=60)
# Reports per hour; the per-address hour is also counted in the database (`usecases.reports`).
REPORTS = Limit("report", per_address=10, per_group=40, window=3600)
# Asking for the link to one's data, per hour: a person asks once or twice; more is someone
# trying addresses (the page says the same for each, and mails only where data is held).
PRIVACY = Limit("privacy", per_address=10, per_group=40, window=3600)


def take(budgets: Budgets, limit: Limit, ip_hash: str, group_hash: str, now: float) -> int:
    """Count one request against `limit` and return 0, or the whole seconds to wait (then
    nothing is counted)."""
    wait = budgets.take(limit.charges(ip_hash, group_hash), now)
    return max(1, math.ceil(wait)) if wait > 0 else 0
