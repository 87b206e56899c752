"""DNS answers are believed only when they answer the question asked: the same message ID, the response flag, the
same question (name case-insensitively, type, class); from the resolver's own address. Anything else is a failed
lookup that says why (TransientError: the step is retried with a new question)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from dnslib import CLASS, CNAME, QTYPE, RR, DNSLabel, DNSQuestion, DNSRecord

from certlib.adapters.public_dns import PublicDns, answer_mismatch
from certlib.exceptions import TransientError

NAME = "_acme-challenge.www.elsewhere.test"
TARGET = "www.validation.example.net"
# How the fake resolver answers a question: the bytes it sends back (None: nothing).
Responder = Callable[[DNSRecord], bytes | None]


def cname_reply(question: DNSRecord, name: str = NAME, target: str = TARGET) -> DNSRecord:
    reply = question.reply()
    reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(target), ttl=60))
    return reply


@dataclass
class FakeResolver:
    """A DNS server on 127.0.0.1 (UDP and TCP on one port) that answers with what `responder` builds (over TCP,
    `tcp_responder`'s when given)."""

    responder: Responder
    tcp_responder: Responder | None = None
    udp: socket.socket = field(init=False)
    tcp: socket.socket = field(init=False)
    port: int = field(init=False)
    stray: socket.socket | None = None  # answers from here instead: another port of the same host

    def __post_init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp.listen()
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve_udp), threading.Thread(target=self._serve_tcp)]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self.udp.recvfrom(4096)
            except TimeoutError:
                continue
            answer = self.responder(DNSRecord.parse(data))
            if answer is not None:
                (self.stray or self.udp).sendto(answer, client)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.tcp.accept()
            except TimeoutError:
                continue
            with connection:
                (length,) = struct.unpack("!H", connection.recv(2))
                answer = (self.tcp_responder or self.responder)(DNSRecord.parse(connection.recv(length)))
                if answer is not None:
                    connection.sendall(struct.pack("!H", len(answer)) + answer)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for sock in (self.udp, self.tcp, self.stray):
            if sock is not None:
                sock.close()


@pytest.fixture
def resolver() -> Iterator[Callable[..., FakeResolver]]:
    started: list[FakeResolver] = []

    def start(responder: Responder, tcp_responder: Responder | None = None) -> FakeResolver:
        started.append(FakeResolver(responder, tcp_responder))
        return started[-1]

    yield start
    for fake in started:
        fake.stop()


def lookup(fake: FakeResolver) -> str | None:
    return PublicDns(fake.address, timeout_seconds=0.5).cname_at(NAME)


def test_the_answer_to_our_question_is_believed(resolver: Callable[..., FakeResolver]) -> None:
    # Given a resolver that answers the question asked, spelling the name in another case (DNS names are not
    # case-sensitive, and some resolvers answer with 0x20-randomized case)
    def answer(question: DNSRecord) -> bytes:
        reply = cname_reply(question, name=NAME.upper())
        reply.questions[0].qname = DNSLabel(NAME.upper())
        return bytes(reply.pack())

    fake = resolver(answer)

    # When / Then the CNAME's target is read
    assert lookup(fake) == TARGET


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda reply: setattr(reply.header, "id", (reply.header.id + 1) % 0x10000), r"its message ID \d+ is not"),
        (lambda reply: setattr(reply.header, "qr", 0), r"it is not a response \(the QR flag is not set\)"),
        (
            lambda reply: setattr(reply.questions[0], "qname", DNSLabel("_acme-challenge.other.test")),
            r"it answers _acme-challenge\.other\.test CNAME IN instead of _acme-challenge\.www\.elsewhere\.test "
            r"CNAME IN",
        ),
        (
            lambda reply: setattr(reply.questions[0], "qtype", QTYPE.TXT),
            r"it answers _acme-challenge\.www\.elsewhere\.test TXT IN instead of .* CNAME IN",
        ),
        (
            lambda reply: setattr(reply.questions[0], "qclass", CLASS.CH),
            r"it answers _acme-challenge\.www\.elsewhere\.test CNAME CH instead of .* CNAME IN",
        ),
        (lambda reply: reply.questions.clear(), r"it holds 0 questions instead of the one asked"),
        (
            lambda reply: reply.add_question(DNSQuestion("x.example.net", QTYPE.CNAME)),
            r"it holds 2 questions instead of the one asked",
        ),
    ],
    ids=["wrong-id", "not-a-response", "other-name", "other-type", "other-class", "no-question", "two-questions"],
)
def test_an_answer_to_another_question_is_ignored(
    resolver: Callable[..., FakeResolver], tamper: Callable[[DNSRecord], None], reason: str
) -> None:
    # Given a resolver whose answer carries our CNAME but does not match our question
    def answer(question: DNSRecord) -> bytes:
        reply = cname_reply(question)
        tamper(reply)
        return bytes(reply.pack())

    fake = resolver(answer)

    # When / Then the lookup fails (retried by the state machine), saying why, and the CNAME is not followed
    with pytest.raises(TransientError, match=rf"answer for the CNAME at {NAME} ignored: {reason}"):
        lookup(fake)


def test_the_answer_over_tcp_is_checked_too(resolver: Callable[..., FakeResolver]) -> None:
    # Given a resolver whose UDP answer is truncated (so the question is asked again over TCP), and whose TCP answer
    # has another message ID
    def truncated(question: DNSRecord) -> bytes:
        reply = question.reply()
        reply.header.tc = 1
        return bytes(reply.pack())

    def other_id(question: DNSRecord) -> bytes:
        reply = cname_reply(question)
        reply.header.id = (question.header.id + 1) % 0x10000
        return bytes(reply.pack())

    # When / Then the TCP answer is ignored too; a matching one is believed
    with pytest.raises(TransientError, match=r"ignored: its message ID \d+ is not the question's"):
        lookup(resolver(truncated, other_id))
    assert lookup(resolver(truncated, lambda question: cname_reply(question).pack())) == TARGET


def test_an_answer_from_another_address_never_reaches_us(resolver: Callable[..., FakeResolver]) -> None:
    # Given a "resolver" whose answer (a perfect one) comes from another port than the one asked, as a spoofed
    # datagram would
    fake = resolver(lambda question: cname_reply(question).pack())
    fake.stray = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.stray.bind(("127.0.0.1", 0))

    # When / Then the connected socket drops it: no answer in time
    with pytest.raises(TransientError, match=rf"no answer from DNS \(127\.0\.0\.1:{fake.port}\) for the CNAME at"):
        lookup(fake)


def test_a_garbled_answer_is_a_failed_lookup(resolver: Callable[..., FakeResolver]) -> None:
    # Given a resolver that answers with bytes that are no DNS message
    fake = resolver(lambda question: struct.pack("!H", question.header.id) + b"\x81\x80\x00\x01garbage")

    # When / Then
    with pytest.raises(TransientError, match=r"no answer from DNS .* for the CNAME at"):
        lookup(fake)


def test_answer_mismatch_names_what_differs() -> None:
    # Given our question and answers built for it with dnslib
    question = DNSRecord.question(NAME, "CNAME")
    good = cname_reply(question)
    other_id = cname_reply(question)
    other_id.header.id = (question.header.id + 7) % 0x10000

    # When / Then only the matching answer passes
    assert answer_mismatch(question, good) is None
    assert answer_mismatch(question, DNSRecord.parse(good.pack())) is None
    assert f"is not the question's {question.header.id}" in str(answer_mismatch(question, other_id))
    assert answer_mismatch(question, DNSRecord.question(NAME, "CNAME")) is not None  # a query is no answer
