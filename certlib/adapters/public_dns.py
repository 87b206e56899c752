"""DNS as the world sees it: the CNAME at a name, for `_acme-challenge` records delegated by CNAME (from a zone that
is not in Route 53, or from one of ours: asking DNS first costs no Route 53 call, certlib.lifecycle.zone_directory).

The resolver is the system's (the first `nameserver` of /etc/resolv.conf, as on Lambda), or `host:port` when given
(the sandbox's DNS server). One recursive question over UDP (TCP when the answer is truncated), through dnslib,
imported on first use: only validate_request asks, once per DNS-01 name (and per CNAME it follows).

An answer is believed only when it answers our question: the same message ID (random for each question), the
response flag set, and exactly the question asked (the name case-insensitively, its type and class). The UDP socket
is connected to the resolver, so datagrams from anywhere else never reach us. Anything else is ignored, and the
lookup fails with the reason (TransientError: the step is retried with a new question).
"""

from __future__ import annotations

import secrets
import socket
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from certlib.exceptions import ConfigError, TransientError

if TYPE_CHECKING:
    from dnslib import DNSQuestion, DNSRecord

TIMEOUT_SECONDS = 5.0
RESOLV_CONF = Path("/etc/resolv.conf")
DNS_PORT = 53
MAX_UDP_ANSWER_BYTES = 65535


class PublicDns:
    def __init__(self, resolver_address: str | None = None, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        """`resolver_address` is "host:port" (or "host"); None: the system's resolver."""
        self._address = resolver_address
        self._timeout = timeout_seconds

    def cname_at(self, name: str) -> str | None:
        """The target of the CNAME at `name` (absolute, without the final dot, lower case), or None when the name
        has no CNAME or does not exist.

        Raises TransientError when the resolver does not answer in time, answers SERVFAIL or REFUSED, or answers
        something that is not the answer to our question (another message ID or question, not a response: ignored);
        ConfigError for a resolver address that is not host[:port].
        """
        from dnslib import QTYPE, RCODE, DNSRecord

        host, port = self._resolver()
        question = DNSRecord.question(name, "CNAME")
        question.header.id = secrets.randbelow(0x10000)  # dnslib's own is from `random`, which can be predicted
        reply = self._ask(question, host, port, tcp=False)
        if reply.header.tc:
            reply = self._ask(question, host, port, tcp=True)
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

    def _ask(self, question: DNSRecord, host: str, port: int, tcp: bool) -> DNSRecord:
        """The resolver's answer to `question`, checked against it. Raises TransientError."""
        from dnslib import DNSError, DNSRecord

        name = str(question.q.qname).rstrip(".")
        try:
            data = _exchange(question.pack(), host, port, tcp, self._timeout)
            reply = DNSRecord.parse(data)
        except (OSError, ValueError, struct.error, DNSError) as exc:  # a timeout is an OSError; garbled: DNSError
            raise TransientError(f"no answer from DNS ({host}:{port}) for the CNAME at {name}: {exc}") from exc
        mismatch = answer_mismatch(question, reply)
        if mismatch is not None:
            raise TransientError(f"DNS ({host}:{port}) answer for the CNAME at {name} ignored: {mismatch}")
        return reply

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


def answer_mismatch(question: DNSRecord, reply: DNSRecord) -> str | None:
    """Why `reply` is not the answer to `question`, or None when it is: the same message ID, the response (QR) flag
    set, and one question equal to the one asked (the name case-insensitively, the type and the class)."""
    if reply.header.id != question.header.id:
        return f"its message ID {reply.header.id} is not the question's {question.header.id}"
    if not reply.header.qr:
        return "it is not a response (the QR flag is not set)"
    if len(reply.questions) != 1:
        return f"it holds {len(reply.questions)} questions instead of the one asked ({_describe(question.q)})"
    answered, asked = reply.questions[0], question.q
    if (answered.qname, answered.qtype, answered.qclass) != (asked.qname, asked.qtype, asked.qclass):
        return f"it answers {_describe(answered)} instead of {_describe(asked)}"
    return None


def _describe(question: DNSQuestion) -> str:
    from dnslib import CLASS, QTYPE

    return f"{str(question.qname).rstrip('.') or '.'} {QTYPE.get(question.qtype)} {CLASS.get(question.qclass)}"


def _exchange(packet: bytes, host: str, port: int, tcp: bool, timeout: float) -> bytes:
    """Send one DNS message and read one answer: over a connected UDP socket (only the resolver's datagrams reach
    it) or over TCP (two-byte length prefix). Raises OSError (a timeout too), ValueError for a message too long."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if not tcp:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.connect((host, port))
            sock.send(packet)
            return sock.recv(MAX_UDP_ANSWER_BYTES)
    if len(packet) > 0xFFFF:
        raise ValueError(f"DNS message of {len(packet)} bytes is too long for TCP")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!H", len(packet)) + packet)
        (length,) = struct.unpack("!H", _read_exactly(sock, 2))
        return _read_exactly(sock, length)


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"the connection closed after {len(data)} of {count} bytes")
        data += chunk
    return data
