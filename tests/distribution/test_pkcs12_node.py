"""The distribution document installs a PKCS#12 file (pkcs12Path) beside the PEM files or alone (installPem=false),
with the key's care: through the store's `current` link, mode 600, the owner given, never following a planted link.
The real document runs on a directory standing for a node's root (tests/distribution/node_document.py)."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from certlib.distribution.pkcs12 import build_pkcs12
from certlib.keys import key_matches_certificate
from tests.distribution.node_document import DIRECTORY, FILE_PATHS, STORE, NodeDocument, Pair, make_pair

PASSWORD = "0123456789abcdef0123456789abcdef0123456789abcdef"
P12_PATH = f"{DIRECTORY}/web.p12"
APP_DIRECTORY = "/opt/app/tls"
APP_P12 = f"{APP_DIRECTORY}/app.pfx"


@dataclass(frozen=True)
class Pkcs12Pair(Pair):
    """A bundle as the pipeline stores it for a profile with a pkcs12-path."""

    pkcs12: str = ""

    def bundle(self) -> dict[str, str]:
        fields = {"pkcs12": self.pkcs12, "pkcs12_password": PASSWORD} if self.pkcs12 else {}
        return {**super().bundle(), **fields}


def with_pkcs12(pair: Pair) -> Pkcs12Pair:
    data = build_pkcs12("web", pair.certificate_pem, pair.chain_pem, pair.key_pem, PASSWORD)
    return Pkcs12Pair(pair.serial, pair.certificate_pem, pair.key_pem, pair.chain_pem, base64.b64encode(data).decode())


@pytest.fixture(scope="module")
def pairs() -> list[Pkcs12Pair]:
    chain = make_pair(0x200).certificate_pem
    return [with_pkcs12(make_pair(0x2001 + index, chain)) for index in range(2)]


@pytest.fixture
def node(tmp_path: Path) -> NodeDocument:
    root = tmp_path / "node"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    return NodeDocument(root, tmp_path / "work")


def assert_keystore(path: Path, pair: Pair) -> None:
    """The file at `path` (through its links) is mode 600, this user's, and opens with the password to the pair's
    certificate and a key that matches it."""
    status = path.stat()
    assert stat.S_IMODE(status.st_mode) == 0o600
    assert status.st_uid == os.getuid()
    key, certificate, _ = pkcs12.load_key_and_certificates(path.read_bytes(), PASSWORD.encode())
    assert certificate is not None
    assert format(certificate.serial_number, "x") == pair.serial
    assert certificate == x509.load_pem_x509_certificate(pair.certificate_pem.encode())
    assert key is not None
    assert key_matches_certificate(certificate, key)  # type: ignore[arg-type]


def test_the_pkcs12_file_is_installed_beside_the_pem_files_and_switched_with_them(
    node: NodeDocument, pairs: list[Pkcs12Pair]
) -> None:
    # When two serials are installed one after the other, the second twice
    first = node.run(pairs[0], pkcs12Path=P12_PATH)
    second = node.run(pairs[1], pkcs12Path=P12_PATH)
    again = node.run(pairs[1], pkcs12Path=P12_PATH)

    # Then the .p12 path is a link into the store next to the key, like the PEM files, and holds the latest
    assert (first.code, second.code, again.code) == (0, 0, 0), (first.stderr, second.stderr, again.stderr)
    assert again.stdout.startswith("unchanged: serial")
    keystore = node.path(P12_PATH)
    assert os.readlink(keystore) == ".privkey.pem.versions/current/keystore.p12"
    assert_keystore(keystore, pairs[1])
    assert_keystore(node.path(P12_PATH + ".previous"), pairs[0])
    assert node.path(FILE_PATHS["keyPath"]).read_text() == pairs[1].key_pem.strip() + "\n"
    versions = [entry for entry in os.listdir(node.path(STORE)) if entry.startswith("v")]
    assert len(versions) == 2


def test_installpem_false_installs_the_pkcs12_file_only(node: NodeDocument, pairs: list[Pkcs12Pair]) -> None:
    # When the document runs with installPem=false (the PEM paths it is given are the profile's defaults)
    run = node.run(pairs[0], pkcs12Path=APP_P12, installPem="false")

    # Then only the .pfx is there, with its store next to it, and no PEM file anywhere
    assert run.code == 0, run.stderr
    assert_keystore(node.path(APP_P12), pairs[0])
    assert sorted(os.listdir(node.path(APP_DIRECTORY))) == [".app.pfx.versions", "app.pfx"]
    assert not node.path(DIRECTORY).exists()
    [version] = [e for e in os.listdir(node.path(f"{APP_DIRECTORY}/.app.pfx.versions")) if e.startswith("v")]
    assert os.listdir(node.path(f"{APP_DIRECTORY}/.app.pfx.versions/{version}")) == ["keystore.p12"]


def test_a_link_planted_at_the_pkcs12_path_is_replaced_not_followed(
    node: NodeDocument, pairs: list[Pkcs12Pair], tmp_path: Path
) -> None:
    # Given a link at the .p12 path to a file elsewhere (what a local user might plant)
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    directory = node.path(DIRECTORY)
    directory.mkdir(parents=True, mode=0o755)
    node.path(P12_PATH).symlink_to(victim)

    # When the document installs
    run = node.run(pairs[0], pkcs12Path=P12_PATH)

    # Then the planted link is replaced by the store's, and its target is as it was
    assert run.code == 0, run.stderr
    assert victim.read_text() == "untouched"
    assert_keystore(node.path(P12_PATH), pairs[0])


def test_a_bundle_without_the_pkcs12_file_fails_clearly_and_installs_nothing(
    node: NodeDocument, pairs: list[Pkcs12Pair]
) -> None:
    # Given a bundle stored before its profile asked for a PKCS#12 file
    plain = Pair(pairs[0].serial, pairs[0].certificate_pem, pairs[0].key_pem, pairs[0].chain_pem)

    # When the document is asked to install one
    run = node.run(plain, pkcs12Path=APP_P12, installPem="false")

    # Then it says what is missing and what to do, and nothing is on the node
    assert run.code == 1
    assert "the bundle has no PKCS#12 file" in run.stderr
    assert "renew the certificate to build it" in run.stderr
    assert not node.path(APP_P12).exists()
    assert not node.path(APP_P12).is_symlink()


def test_nothing_to_install_is_refused(node: NodeDocument, pairs: list[Pkcs12Pair]) -> None:
    run = node.run(pairs[0], installPem="false")

    assert run.code == 1
    assert "nothing to install: installPem is false and pkcs12Path is empty" in run.stderr


def test_a_pkcs12_file_added_later_leaves_no_dangling_link(node: NodeDocument, pairs: list[Pkcs12Pair]) -> None:
    # Given a node with the PEM files only (its profile had no pkcs12-path)
    assert node.run(pairs[0]).code == 0

    # When the profile asks for a PKCS#12 file and the check fails, then when it passes
    failed = node.run(pairs[1], pkcs12Path=P12_PATH, checkCommand="false")
    keystore = node.path(P12_PATH)
    after_failure = (keystore.is_symlink(), keystore.exists())
    installed = node.run(pairs[1], pkcs12Path=P12_PATH)

    # Then the failed run took its new link away again, and the installed one has no .previous (the version before
    # has no PKCS#12 file), while the PEM files have theirs
    assert failed.code == 1
    assert after_failure == (False, False)
    assert installed.code == 0, installed.stderr
    assert_keystore(keystore, pairs[1])
    assert not node.path(P12_PATH + ".previous").is_symlink()
    assert node.path(FILE_PATHS["keyPath"] + ".previous").read_text() == pairs[0].key_pem.strip() + "\n"
