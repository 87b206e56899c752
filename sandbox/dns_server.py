"""A DNS server (UDP and TCP on one port) that answers from Route 53's hosted zones, as the world would.

Pebble's VA sends its DNS-01 TXT queries here, so validation really goes through the records the lifecycle
wrote into Route 53; the functions ask it for CNAMEs outside Route 53 (DNS_RESOLVER). Names with no records are
NXDOMAIN, in a known zone or outside every zone. A TXT (or A, AAAA) question at a name holding a CNAME is answered
like a recursive resolver would: the CNAME, then the target's records, following at most MAX_CNAME_HOPS links and
refusing loops.

The overrides (sandbox.dns_overrides) come first at every name of the chain: an overriding answer of the asked
type ends it, and an overriding CNAME is followed like Route 53's (a domain whose DNS is elsewhere, delegating its
`_acme-challenge` name to a zone in Route 53).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from sandbox.dns_overrides import DnsOverrides
from sandbox.zone_records import RecordSet, Route53Records, normalize_name, txt_strings

LOG = logging.getLogger(__name__)
MAX_CNAME_HOPS = 8
BIND_ATTEMPTS = 20


class Route53Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, records: Route53Records, overrides: DnsOverrides | None = None) -> None:
        self._records = records
        self._overrides = overrides

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        question = request.q
        qtype = QTYPE.get(question.qtype, str(question.qtype))
        try:
            self._answer(reply, question.qname, qtype)
        except Exception:
            LOG.exception("dns: answering %s %s failed", question.qname, qtype)
            reply = request.reply()
            reply.header.rcode = RCODE.SERVFAIL
        LOG.info("dns: %s %s -> %s, %d answer(s)", question.qname, qtype, RCODE.get(reply.header.rcode), len(reply.rr))
        return reply

    def _answer(self, reply: DNSRecord, qname: DNSLabel, qtype: str) -> None:
        owner = qname
        name = normalize_name(str(qname))
        visited = {name}
        for _ in range(MAX_CNAME_HOPS):
            overridden = self._override(name, qtype)
            if overridden is not None:
                reply.add_answer(*resource_records(owner, RecordSet(name, qtype, 1, tuple(overridden))))
                return
            cname = self._override_cname(name, qtype) or self._route53_cname(reply, owner, name, qtype)
            if cname is None:
                return
            reply.add_answer(*resource_records(owner, cname))
            name = normalize_name(cname.values[0])
            owner = DNSLabel(name)
            if name in visited:
                break
            visited.add(name)
        LOG.warning("dns: the CNAME chain from %s loops or is longer than %d links", qname, MAX_CNAME_HOPS)
        reply.header.rcode = RCODE.SERVFAIL

    def _override(self, name: str, qtype: str) -> list[str] | None:
        return self._overrides.answers(name, qtype) if self._overrides is not None else None

    def _override_cname(self, name: str, qtype: str) -> RecordSet | None:
        targets = self._override(name, "CNAME") if qtype != "CNAME" else None
        return RecordSet(name, "CNAME", 1, (targets[0],)) if targets else None

    def _route53_cname(self, reply: DNSRecord, owner: DNSLabel, name: str, qtype: str) -> RecordSet | None:
        """Answer `name` from Route 53; return its CNAME when the chain goes on, None when the answer is complete."""
        zone = self._records.zone_for(name)
        if zone is None:
            if not reply.rr:  # a CNAME pointing out of every zone ends the answer; a name in no zone does not exist
                reply.header.rcode = RCODE.NXDOMAIN
            return None
        record_sets = self._records.record_sets(zone)
        at_name = [record_set for record_set in record_sets if record_set.name == name]
        if not at_name and not _has_descendants(name, record_sets):
            reply.header.rcode = RCODE.NXDOMAIN
            return None
        matching = [record_set for record_set in at_name if record_set.record_type == qtype]
        cname = next((record_set for record_set in at_name if record_set.record_type == "CNAME"), None)
        if matching or cname is None:
            for record_set in matching:
                reply.add_answer(*resource_records(owner, record_set))
            return None
        return cname


def _has_descendants(name: str, record_sets: list[RecordSet]) -> bool:
    """An empty non-terminal (a name with records only below it) exists: NOERROR, not NXDOMAIN."""
    return any(record_set.name.endswith("." + name) for record_set in record_sets)


def resource_records(owner: DNSLabel, record_set: RecordSet) -> list[RR]:
    """The DNS answer records of one Route 53 record set, named `owner`."""
    if record_set.record_type == "TXT":
        return [RR(owner, QTYPE.TXT, rdata=TXT(txt_strings(value)), ttl=record_set.ttl) for value in record_set.values]
    answers: list[RR] = []
    for value in record_set.values:
        for record in RR.fromZone(f"answer. {record_set.ttl} IN {record_set.record_type} {value}"):
            record.rname = owner
            answers.append(record)
    return answers


class DnsServer:
    """UDP and TCP servers on the same free port of 127.0.0.1, each answering on its own threads."""

    def __init__(self, resolver: BaseResolver, host: str = "127.0.0.1") -> None:
        self.host = host
        logger = DNSLogger(log="error", prefix=False, logf=lambda message: LOG.warning("dns: %s", message))
        for _ in range(BIND_ATTEMPTS):
            udp = DNSServer(resolver, address=host, port=0, logger=logger)
            self.port: int = udp.server.server_address[1]
            try:
                tcp = DNSServer(resolver, address=host, port=self.port, tcp=True, logger=logger)
            except OSError:  # the TCP side of this port is taken: try another port
                udp.server.server_close()
                continue
            self._servers = (udp, tcp)
            self._started = False
            return
        raise OSError(f"no port of {host} was free for both UDP and TCP after {BIND_ATTEMPTS} attempts")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        for server in self._servers:
            server.start_thread()
        self._started = True

    def stop(self) -> None:
        """Stop answering and free the port (also when never started)."""
        if self._started:  # each shutdown waits for its loop's next poll (0.5 s): wait for both at once
            stoppers = [threading.Thread(target=server.server.shutdown) for server in self._servers]
            for stopper in stoppers:
                stopper.start()
            for stopper in stoppers:
                stopper.join()
        for server in self._servers:
            server.server.server_close()
        self._started = False
