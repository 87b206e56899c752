"""One measured issuance: how long it took and the work it made the CA and AWS do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.cost import ExecutionWork


@dataclass
class Measurement:
    tool: str  # ours | certbot
    seconds: float
    succeeded: bool
    failure: str = ""
    acme: Counter[str] = field(default_factory=Counter)
    route53: Counter[str] = field(default_factory=Counter)  # the issuer's calls, by operation
    other_aws: Counter[str] = field(default_factory=Counter)  # the issuer's other calls, by service
    dns_server_reads: int = 0  # Route 53 reads of the sandbox's DNS server answering Pebble
    work: ExecutionWork | None = None
    process_seconds: float | None = None  # ours: the whole `certctl issue --wait` process (certbot's is `seconds`)
