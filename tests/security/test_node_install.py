"""The node-side install cannot be turned against the node: the document refuses directories someone else could
write, never follows a link planted at a name it writes, and switches the four files with one rename so that a reader
never gets a key and a certificate that do not match. The real document runs on a directory standing for a node's root
(tests/distribution/node_document.py); the last test runs it through the sandbox's agent."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.distribution.helpers import distribution_profile, start_nodes, unique
from tests.distribution.node_document import (
    DIRECTORY,
    FILE_PATHS,
    STORE,
    NodeDocument,
    Pair,
    make_pair,
    tree,
)
from tests.lifecycle.helpers import inventory_item, issue

FILES = {"cert.pem": 0o644, "chain.pem": 0o644, "fullchain.pem": 0o644, "privkey.pem": 0o600}
NOBODY = 65534
REFUSED = "distribute-certificate: refusing the directory"


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    chain = make_pair(0x100).certificate_pem  # stands for the intermediate: the document does not check it
    return [make_pair(0x1001 + index, chain) for index in range(3)]


@pytest.fixture
def node(tmp_path: Path) -> NodeDocument:
    root = tmp_path / "node"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    return NodeDocument(root, tmp_path / "work")


def expected_files(pair: Pair) -> dict[str, str]:
    certificate, chain = pair.certificate_pem.strip() + "\n", pair.chain_pem.strip() + "\n"
    return {
        "cert.pem": certificate,
        "chain.pem": chain,
        "fullchain.pem": certificate + chain,
        "privkey.pem": pair.key_pem.strip() + "\n",
    }


def assert_installed(node: NodeDocument, pair: Pair) -> str:
    """Each configured path is a link through the store's `current` to the pair's file, mode 644 (key 600), owned
    by this user; returns the version `current` names."""
    directory = node.path(DIRECTORY)
    for name, mode in FILES.items():
        assert os.readlink(directory / name) == f".privkey.pem.versions/current/{name}"
        status = (directory / name).stat()
        assert (stat.S_IMODE(status.st_mode), status.st_uid) == (mode, os.getuid()), name
        assert (directory / name).read_text() == expected_files(pair)[name], name
    version = os.readlink(node.path(f"{STORE}/current"))
    assert version.startswith(f"v{pair.serial}-")
    return version


def outside_file(node: NodeDocument, absolute: str, text: str) -> Path:
    path = node.path(absolute)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o640)
    return path


def test_the_paths_go_through_one_link_and_each_install_switches_it(node: NodeDocument, pairs: list[Pair]) -> None:
    # Given a node without the directory
    first, second, third = pairs

    # When a certificate is installed
    installed = node.run(first)

    # Then the directory is made (755), each path is a link into the version `current` names, nothing previous
    assert installed.code == 0, installed.stderr
    assert installed.stdout.strip() == f"installed: serial {first.serial}"
    assert stat.S_IMODE(node.path(DIRECTORY).stat().st_mode) == 0o755
    first_version = assert_installed(node, first)
    assert not [path for path in node.path(DIRECTORY).iterdir() if path.name.endswith(".previous")]

    # When the next certificate is installed
    assert node.run(second).code == 0
    # Then `current` names its version and `previous` the first, which <path>.previous reads
    assert_installed(node, second)
    assert os.readlink(node.path(f"{STORE}/previous")) == first_version
    for name in FILES:
        assert node.path(f"{DIRECTORY}/{name}.previous").read_text() == expected_files(first)[name]

    # When the same certificate is sent again: nothing changes
    before = tree(node.path(DIRECTORY))
    again = node.run(second)
    assert again.code == 0, again.stderr
    assert again.stdout.strip() == f"unchanged: serial {second.serial} is already installed"
    assert tree(node.path(DIRECTORY)) == before

    # When a third comes: only the versions `current` and `previous` name are kept
    assert node.run(third).code == 0
    assert_installed(node, third)
    versions = sorted(path.name for path in node.path(STORE).iterdir() if not path.is_symlink())
    assert versions == sorted(os.readlink(node.path(f"{STORE}/{link}")) for link in ("current", "previous"))


def test_plain_files_of_the_earlier_layout_become_the_previous_version(node: NodeDocument, pairs: list[Pair]) -> None:
    # Given the four plain files an earlier version of the document installed
    old, new = pairs[0], pairs[1]
    directory = node.path(DIRECTORY)
    directory.mkdir(parents=True, mode=0o755)
    for name, text in expected_files(old).items():
        (directory / name).write_text(text)
        (directory / name).chmod(FILES[name])

    # When the next certificate is installed
    result = node.run(new)

    # Then the paths are links to it, and the old files are the previous version
    assert result.code == 0, result.stderr
    assert_installed(node, new)
    for name in FILES:
        assert (directory / f"{name}.previous").read_text() == expected_files(old)[name]


def test_files_in_several_directories_switch_together(node: NodeDocument, pairs: list[Pair]) -> None:
    # Given paths in three directories, the key's under a directory named "current"
    paths = {
        "certificatePath": "/etc/ssl/certs/web.crt",
        "chainPath": "/etc/ssl/certs/web.chain.pem",
        "fullchainPath": "/etc/nginx/tls/web.pem",
        "keyPath": "/srv/current/tls/web.key",
    }
    store = node.path("/srv/current/tls/.web.key.versions")

    # When two certificates are installed one after the other
    for pair in pairs[:2]:
        result = node.run(pair, **paths)
        assert result.code == 0, result.stderr

    # Then every path goes through the one link `current` next to the key (absolute from another directory), and
    # each <path>.previous through `previous`
    texts, previous_texts = expected_files(pairs[1]), expected_files(pairs[0])
    for parameter, name in zip(paths, FILES, strict=True):
        path = node.path(paths[parameter])
        expected_link = f"{store}/current/{name}" if parameter != "keyPath" else f"{store.name}/current/{name}"
        assert os.readlink(path) == expected_link
        assert path.read_text() == texts[name]
        assert path.with_name(path.name + ".previous").read_text() == previous_texts[name]
    assert os.readlink(store / "current").startswith(f"v{pairs[1].serial}-")


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o1777])
def test_a_directory_others_may_write_is_refused_and_nothing_is_installed(
    node: NodeDocument, pairs: list[Pair], mode: int
) -> None:
    # Given the key's directory, writable by group or others (sticky or not); the certificate's does not exist yet
    keys = node.path("/etc/ssl/private")
    keys.mkdir(parents=True)
    keys.chmod(mode)
    paths = {**FILE_PATHS, "keyPath": "/etc/ssl/private/web.key"}

    # When the document runs
    result = node.run(pairs[0], **paths)

    # Then it fails with one clear line, and nothing was written: neither there nor in the other directory
    assert result.code == 1
    assert f"{REFUSED} {keys}: it is writable by its group or by others (mode {mode:03o})" in result.stderr
    assert "nothing was installed" in result.stderr
    assert list(keys.iterdir()) == []
    assert not node.path(DIRECTORY).exists()


def test_links_planted_at_the_names_an_install_writes_are_never_followed(node: NodeDocument, pairs: list[Pair]) -> None:
    # Given plain files as an earlier install left them, and links planted at the certificate's and the key's paths
    # and at the names an install copied the previous files through, each pointing at a file elsewhere on the node
    directory = node.path(DIRECTORY)
    directory.mkdir(parents=True, mode=0o755)
    for name, text in expected_files(pairs[0]).items():
        (directory / name).write_text(text)
    targets = {
        "cert.pem": outside_file(node, "/etc/shadow", "root:secret\n"),
        "privkey.pem": outside_file(node, "/root/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\n"),
        "chain.pem.previous": outside_file(node, "/etc/motd", "welcome\n"),
        "fullchain.pem.previous.partial": outside_file(node, "/etc/sudoers", "root ALL=(ALL) ALL\n"),
    }
    for name, target in targets.items():
        (directory / name).unlink(missing_ok=True)
        (directory / name).symlink_to(target)
    untouched = {target: (target.read_bytes(), target.stat()) for target in targets.values()}

    # When the document installs a certificate there
    result = node.run(pairs[1])

    # Then the files the planted links pointed at are as they were, and its own links replaced the planted ones
    for target, (content, status) in untouched.items():
        now = target.stat()
        assert target.read_bytes() == content, target
        assert (now.st_mode, now.st_uid, now.st_mtime_ns, now.st_ino) == (
            status.st_mode,
            status.st_uid,
            status.st_mtime_ns,
            status.st_ino,
        )
    assert result.code == 0, result.stderr
    assert_installed(node, pairs[1])


@pytest.mark.parametrize("planted", [DIRECTORY, STORE])
def test_a_link_planted_as_the_directory_or_the_store_is_refused(
    node: NodeDocument, pairs: list[Pair], planted: str
) -> None:
    # Given the directory (or the store of versions in it) is a link to a directory elsewhere on the node
    elsewhere = node.path("/var/lib/elsewhere")
    elsewhere.mkdir(parents=True, mode=0o755)
    node.path(planted).parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    node.path(planted).symlink_to(elsewhere)

    # When the document runs
    result = node.run(pairs[0])

    # Then it refuses that directory, and nothing was written through the link
    assert result.code == 1
    assert f"{REFUSED} {node.path(planted)}: it is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user (uid 65534) needs root")
@pytest.mark.parametrize("owned_by_nobody", [DIRECTORY, STORE])
def test_a_directory_owned_by_another_user_is_refused(
    node: NodeDocument, pairs: list[Pair], owned_by_nobody: str
) -> None:
    # Given the directory (or its store of versions) owned by another user, though writable by that user only
    directory = node.path(owned_by_nobody)
    directory.mkdir(parents=True, mode=0o755)
    directory.chmod(0o755)
    os.chown(directory, NOBODY, NOBODY)
    before = tree(node.path(DIRECTORY))

    # When the document runs (as root)
    result = node.run(pairs[0])

    # Then it refuses, naming the owner, and nothing was installed
    assert result.code == 1
    assert f"{REFUSED} {directory}: it is owned by uid {NOBODY}, not by root (the user installing)" in result.stderr
    assert tree(node.path(DIRECTORY)) == before


def test_a_failed_check_or_reload_puts_back_exactly_what_was_there(
    node: NodeDocument, pairs: list[Pair], tmp_path: Path
) -> None:
    first, second = pairs[0], pairs[1]
    log = tmp_path / "commands.log"
    check = f'echo check >> {log}; test ! -e "$(dirname "$CERTIFICATE_PATH")/broken"'
    reload = f'echo reload >> {log}; test ! -e "$(dirname "$KEY_PATH")/no-reload"'

    # Given a first install whose check fails: nothing is left, as if it never ran
    node.path(DIRECTORY).mkdir(parents=True, mode=0o755)
    node.path(f"{DIRECTORY}/broken").touch()
    refused = node.run(first, checkCommand=check, reloadCommand=reload)
    assert refused.code == 1
    assert f"the check ({check}) failed with serial {first.serial}" in refused.stderr
    assert sorted(path.name for path in node.path(DIRECTORY).iterdir()) == ["broken"]
    node.path(f"{DIRECTORY}/broken").unlink()
    assert node.run(first, checkCommand=check, reloadCommand=reload).code == 0
    before = tree(node.path(DIRECTORY))

    # When the next install's check fails, then its reload
    node.path(f"{DIRECTORY}/broken").touch()
    failed_check = node.run(second, checkCommand=check, reloadCommand=reload)
    node.path(f"{DIRECTORY}/broken").unlink()
    assert tree(node.path(DIRECTORY)) == before
    node.path(f"{DIRECTORY}/no-reload").touch()
    log.write_text("")
    failed_reload = node.run(second, checkCommand=check, reloadCommand=reload)
    node.path(f"{DIRECTORY}/no-reload").unlink()

    # Then each failed with its message, the previous certificate is back, links and versions exactly as they were
    assert failed_check.code == 1
    assert "the previous files are back in place" in failed_check.stderr
    assert failed_reload.code == 1
    assert f"the reload ({reload}) failed with serial {second.serial}" in failed_reload.stderr
    assert tree(node.path(DIRECTORY)) == before
    assert_installed(node, first)
    # after the failed reload, the previous files were checked and reloaded again
    assert log.read_text().split() == ["check", "reload", "check", "reload"]


def test_a_reader_never_sees_a_key_and_a_certificate_that_do_not_match(node: NodeDocument, pairs: list[Pair]) -> None:
    # Given a certificate installed, and the pair each certificate file belongs to
    first, second = pairs[0], pairs[1]
    assert node.run(first).code == 0
    key_of = {
        expected_files(pair)["cert.pem"].encode(): expected_files(pair)["privkey.pem"].encode()
        for pair in (first, second)
    }
    certificate_path = node.path(FILE_PATHS["certificatePath"])
    done = threading.Event()
    seen: list[bytes] = []
    mismatches: list[str] = []

    def read_in_a_loop() -> None:
        """What a service does: open the certificate, then the key next to the certificate it opened."""
        while not done.is_set():
            try:
                with certificate_path.open("rb") as certificate_file:
                    opened = Path(os.readlink(f"/proc/self/fd/{certificate_file.fileno()}"))
                    certificate = certificate_file.read()
                key = opened.with_name("privkey.pem").read_bytes()
                fullchain = opened.with_name("fullchain.pem").read_bytes()
            except FileNotFoundError:  # that version was removed two switches later: a service opens again
                continue
            if key_of.get(certificate) != key or not fullchain.startswith(certificate):
                mismatches.append(str(opened))
            if not seen or seen[-1] != certificate:
                seen.append(certificate)

    def install_in_a_loop(order: tuple[Pair, ...], outcomes: list[int]) -> None:
        for _ in range(40):  # bounded; ends once the reader saw enough switches
            if len(seen) > 8 or mismatches:
                return
            for pair in order:
                outcomes.append(node.run(pair).code)

    # When two runs of the document (as two commands sent at once would) install the two certificates in turn,
    # over and over, while the reader reads
    reader = threading.Thread(target=read_in_a_loop, daemon=True)
    outcomes: list[int] = []
    installers = [
        threading.Thread(target=install_in_a_loop, args=(order, outcomes), daemon=True)
        for order in ((second, first), (first, second))
    ]
    reader.start()
    for thread in installers:
        thread.start()
    for thread in installers:
        thread.join(timeout=300)
    done.set()
    reader.join(timeout=30)

    # Then every install succeeded, the reader saw the certificate change many times, and never a mismatched pair
    assert not reader.is_alive()
    assert set(outcomes) == {0}
    assert mismatches == []
    assert len(seen) > 8, f"the reader saw only {len(seen) - 1} switches"
    # and what is left is one consistent install with two versions (runs of one store are serialized by its lock)
    current = os.readlink(node.path(f"{STORE}/current"))
    installed = next(pair for pair in (first, second) if current.startswith(f"v{pair.serial}-"))
    assert_installed(node, installed)
    assert sorted(path.name for path in node.path(STORE).iterdir()) == sorted(
        ["current", "previous", current, os.readlink(node.path(f"{STORE}/previous"))]
    )


def test_through_run_command_a_world_writable_directory_fails_the_node(sandbox: dict[str, Any]) -> None:
    # Given a node whose certificate directory anyone may write
    tag, name = unique("open"), unique("open")
    [node] = start_nodes(sandbox, 1, role=tag)
    directory = f"/etc/ssl/{name}"
    node.path(directory).mkdir(parents=True)
    node.path(directory).chmod(0o777)

    # When a certificate is issued with distribution to it
    result = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=distribution_profile(sandbox, directory, "role", tag),
    )

    # Then the certificate is issued, the node failed with the refusal, and nothing landed there
    assert result["status"] == "issued", result
    assert result["distribution"]["status"] == "failed", result
    assert result["distribution"]["failed"] == [node.instance_id]
    [failed] = inventory_item(sandbox, name)["last_distribution"]["nodes"]
    refusal = f"refusing the directory {node.path(directory)}: it is writable by its group or by others"
    assert refusal in failed["detail"]
    assert list(node.path(directory).iterdir()) == []
