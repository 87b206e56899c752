"""DNS as the world sees it: the CNAME at a name, for `_acme-challenge` records delegated from a zone that is not in
Route 53 (or in no zone we may read) to one that is.

The resolver is the system's (the first `nameserver` of /etc/resolv.conf, as on Lambda), or `host:port` when given
(the sandbox's DNS server). One recursive question over UDP (TCP when the answer is truncated), through dnslib,
imported on first use: only validate_request asks, and only for such names.
"""

from __future__ import annotations

from pathlib import Path

from certlib.exceptions import ConfigError, TransientError

TIMEOUT_SECONDS = 5.0
RESOLV_CONF = Path("/etc/resolv.conf")
DNS_PORT = 53


class PublicDns:
    def __init__(self, resolver_address: str | None = None, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        """`resolver_address` is "host:port" (or "host"); None: the system's resolver."""
        self._address = resolver_address
        self._timeout = timeout_seconds

    def cname_at(self, name: str) -> str | None:
        """The target of the CNAME at `name` (absolute, without the final dot, lower case), or None when the name
        has no CNAME or does not exist.

        Raises TransientError when the resolver does not answer in time or answers SERVFAIL or REFUSED; ConfigError
        for a resolver address that is not host[:port].
        """
        from dnslib import QTYPE, RCODE, DNSRecord

        host, port = self._resolver()
        question = DNSRecord.question(name, "CNAME")
        try:
            reply = DNSRecord.parse(question.send(host, port, timeout=self._timeout))
            if reply.header.tc:
                reply = DNSRecord.parse(question.send(host, port, tcp=True, timeout=self._timeout))
        except (OSError, ValueError) as exc:  # socket.timeout is an OSError; a garbled answer a ValueError
            raise TransientError(f"no answer from DNS ({host}:{port}) for the CNAME at {name}: {exc}") from exc
        rcode = RCODE.get(reply.header.rcode)
        if rcode == "NXDOMAIN":
            return None
        if rcode != "NOERROR":
            raise TransientError(f"DNS ({host}:{port}) answered {rcode} for the CNAME at {name}")
        wanted = name.rstrip(".").lower()
        for record in reply.rr:
            if record.rtype == QTYPE.CNAME and str(record.rname).rstrip(".").lower() == wanted:
                return str(record.rdata.label).rstrip(".").lower()
        return None

    def _resolver(self) -> tuple[str, int]:
        if self._address:
            host, _, port = self._address.partition(":")
            if not host or (port and not port.isdigit()):
                raise ConfigError(f"the DNS resolver address must be host[:port], got {self._address!r}")
            return host, int(port or DNS_PORT)
        try:
            lines = RESOLV_CONF.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"no DNS resolver: {RESOLV_CONF} cannot be read ({exc})") from exc
        for line in lines:
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver":
                return fields[1], DNS_PORT
        raise ConfigError(f"no DNS resolver: {RESOLV_CONF} names no nameserver")
