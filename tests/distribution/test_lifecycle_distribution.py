"""Issue and renew with distribution: the real document runs on two simulated nodes (the sandbox plays the SSM
agent), and each node's outcome reaches the execution's result and the inventory."""

from __future__ import annotations

from typing import Any

from sandbox.nodes import Node
from tests.distribution.helpers import (
    bundle,
    distribution_profile,
    installed,
    key_matches,
    serial_of,
    start_nodes,
    states_entered,
    unique,
    wait_for_command,
)
from tests.lifecycle.helpers import inventory_item, issue, target_of
from tests.operations.sandbox_capture import start_capture

RELOAD = 'echo reloaded >> "$(dirname "$CERTIFICATE_PATH")/reloads"'
# Fails on a node whose configuration is "broken" (as `nginx -t` would), passes elsewhere.
CHECK = 'test ! -e "$(dirname "$CERTIFICATE_PATH")/broken"'


def reloads(node: Node, directory: str) -> int:
    path = node.path(f"{directory}/reloads")
    return len(path.read_text().splitlines()) if path.exists() else 0


def assert_installed(node: Node, directory: str, name: str, info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The node holds exactly the stored bundle: modes 644 and 600 key, the key matching the certificate."""
    files = installed(node, directory)
    stored = bundle(info, name)
    assert {file: entry["mode"] for file, entry in files.items()} == {
        "cert.pem": 0o644,
        "chain.pem": 0o644,
        "fullchain.pem": 0o644,
        "privkey.pem": 0o600,
    }
    assert files["cert.pem"]["text"].strip() == stored["certificate"].strip()
    assert files["chain.pem"]["text"].strip() == stored["chain"].strip()
    assert files["fullchain.pem"]["text"] == files["cert.pem"]["text"] + files["chain.pem"]["text"]
    assert files["privkey.pem"]["text"].strip() == stored["private_key"].strip()
    assert key_matches(files["cert.pem"]["text"], files["privkey.pem"]["text"])
    return files


def test_issue_installs_on_both_nodes_and_a_rerun_changes_only_what_changed(sandbox: dict[str, Any]) -> None:
    # Given two nodes tagged for a certificate
    tag, name = unique("web"), unique("web")
    directory = f"/etc/ssl/{name}"
    nodes = start_nodes(sandbox, 2, role=tag)

    # When it is issued with distribution to that tag
    first = issue(
        sandbox,
        name=name,
        domains=[f"{name}.example.test"],
        distribution=distribution_profile(sandbox, directory, "role", tag, reload_command=RELOAD),
    )

    # Then the execution succeeded with both nodes done, and each holds the four files, right modes and contents
    assert first["status"] == "issued", first
    assert first["distribution"]["status"] == "succeeded", first
    assert first["distribution"]["succeeded"] == sorted(node.instance_id for node in nodes)
    before = {node.instance_id: assert_installed(node, directory, name, sandbox) for node in nodes}
    for node in nodes:
        assert serial_of(before[node.instance_id]["cert.pem"]["text"]) == first["serial"]
        assert reloads(node, directory) == 1
    item = inventory_item(sandbox, name)
    assert item["status"] == "issued"
    assert item["distribution_status"] == "distributed"
    assert item["distribution"] == {"profile": tag}
    assert {n["instance_id"]: n["status"] for n in item["last_distribution"]["nodes"]} == dict.fromkeys(
        before, "Success"
    )

    # When the same command runs again (same certificate): nothing changes on the nodes, and nothing reloads
    ssm = target_of(sandbox).client("ssm")
    sent = ssm.list_commands(CommandId=first["distribution"]["command_id"])["Commands"][0]
    again = ssm.send_command(DocumentName=sent["DocumentName"], Targets=sent["Targets"], Parameters=sent["Parameters"])
    assert wait_for_command(sandbox, again["Command"]["CommandId"])["Status"] == "Success"
    for node in nodes:
        assert installed(node, directory) == before[node.instance_id]
        assert reloads(node, directory) == 1
    outputs = ssm.list_command_invocations(CommandId=again["Command"]["CommandId"], Details=True)["CommandInvocations"]
    assert all("unchanged" in entry["CommandPlugins"][0]["Output"] for entry in outputs)

    # When it is renewed, without naming the targets again (the inventory keeps them)
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"])

    # Then both nodes hold the new certificate: new contents, same modes, the old files kept as .previous
    assert renewed["status"] == "renewed", renewed
    assert renewed["distribution"]["status"] == "succeeded", renewed
    for node in nodes:
        after = assert_installed(node, directory, name, sandbox)
        assert serial_of(after["cert.pem"]["text"]) == renewed["serial"] != first["serial"]
        for file, entry in after.items():
            changed = file != "chain.pem"  # the same intermediate signs both
            assert (entry["text"] != before[node.instance_id][file]["text"]) is changed, file
            assert entry["mode"] == before[node.instance_id][file]["mode"]
            assert node.path(f"{directory}/{file}.previous").read_text() == before[node.instance_id][file]["text"]
        assert reloads(node, directory) == 2


def test_failed_check_keeps_the_previous_files_and_names_the_node(sandbox: dict[str, Any]) -> None:
    # Given a certificate on two nodes, with a check before the reload
    tag, name = unique("api"), unique("api")
    directory = f"/etc/ssl/{name}"
    healthy, broken = start_nodes(sandbox, 2, service=tag)
    capture = start_capture(sandbox, f"{name}-announced")
    distribution = distribution_profile(sandbox, directory, "service", tag, check_command=CHECK, reload_command=RELOAD)
    first = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=distribution)
    assert first["distribution"]["status"] == "succeeded", first
    original = installed(broken, directory)

    # When one node's check fails at the next renewal
    broken.path(f"{directory}/broken").touch()
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"])

    # Then the execution still succeeds (ACM holds the new certificate) and names the failed node
    assert renewed["status"] == "renewed", renewed
    assert renewed["distribution"]["status"] == "partial"
    assert renewed["distribution"]["failed"] == [broken.instance_id]
    assert renewed["distribution"]["succeeded"] == [healthy.instance_id]
    acm = target_of(sandbox).client("acm")
    acm_pem = acm.get_certificate(CertificateArn=renewed["certificate_arn"])["Certificate"]
    assert serial_of(acm_pem) == renewed["serial"]
    # the healthy node has the new certificate and reloaded; the broken one kept its previous files, untouched
    assert serial_of(assert_installed(healthy, directory, name, sandbox)["cert.pem"]["text"]) == renewed["serial"]
    assert reloads(healthy, directory) == 2
    kept = installed(broken, directory)
    assert {file: entry["text"] for file, entry in kept.items()} == {f: e["text"] for f, e in original.items()}
    assert {file: entry["mode"] for file, entry in kept.items()} == {f: e["mode"] for f, e in original.items()}
    assert key_matches(kept["cert.pem"]["text"], kept["privkey.pem"]["text"])
    assert reloads(broken, directory) == 1
    # and the inventory says which node failed and why, while the certificate itself is issued
    item = inventory_item(sandbox, name)
    assert (item["status"], item["distribution_status"]) == ("issued", "distribution_failed")
    assert item["last_distribution"]["failed"] == [broken.instance_id]
    nodes = {node["instance_id"]: node for node in item["last_distribution"]["nodes"]}
    assert nodes[healthy.instance_id]["status"] == "Success"
    assert nodes[broken.instance_id]["status"] == "Failed"
    assert "the check" in nodes[broken.instance_id]["detail"]
    assert "previous files are back" in nodes[broken.instance_id]["detail"]
    # and people were told, naming the node
    [failed] = [e for e in capture.events(name) if e["detail-type"] == "Certificate Distribution Failed"]
    assert failed["detail"]["targets"] == [broken.instance_id]
    [message] = capture.notifications(name)
    assert message["Subject"] == f"Certificate {name}: distribution failed (DistributionFailed)"


def test_without_targets_distribution_is_skipped_by_a_choice(sandbox: dict[str, Any]) -> None:
    # Given / When a certificate issued without distribution
    name = unique("plain")
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"])

    # Then the state machine went from the import straight to the record: no distribution step ran
    assert result["status"] == "issued", result
    assert "distribution" not in result
    entered = states_entered(sandbox, result["execution_arn"])
    assert entered[entered.index("ShouldDistribute") + 1] == "RecordResult"
    assert "SendDistribution" not in entered
    assert "distribution_status" not in inventory_item(sandbox, name)


def test_unmatched_targets_are_a_failed_distribution_not_a_failed_issuance(sandbox: dict[str, Any]) -> None:
    # Given a tag no node carries
    name = unique("nobody")
    distribution = distribution_profile(sandbox, f"/etc/ssl/{name}", "role", unique("nobody-has-this"))

    # When the certificate is issued with it
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=distribution)

    # Then it is issued, and its distribution failed for want of nodes
    assert result["status"] == "issued", result
    assert result["distribution"]["status"] == "failed"
    assert "no node matched" in result["distribution"]["detail"]
    assert inventory_item(sandbox, name)["distribution_status"] == "distribution_failed"
