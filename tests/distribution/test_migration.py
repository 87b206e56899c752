"""`certctl migrate-distribution`: certificates recorded with an inline distribution (before profiles) move to the
deployed profile that does the same for them; for the others it writes the profile to add to the accounts file."""

from __future__ import annotations

import json
from typing import Any

import yaml

from certlib.config import parse_accounts
from sandbox.nodes import deploy_distribution_profiles, local_owner
from tests.distribution.helpers import distribution_profile, installed, serial_of, start_nodes, unique
from tests.lifecycle.helpers import certctl, inventory_item, issue, target_of


def inline(directory: str, tag: str, access_group: str) -> dict[str, Any]:
    """An inventory's `distribution` as the pipeline wrote it before profiles (DistributionSpec.to_dict)."""
    return {
        "certificate_path": f"{directory}/cert.pem",
        "chain_path": f"{directory}/chain.pem",
        "fullchain_path": f"{directory}/fullchain.pem",
        "key_path": f"{directory}/privkey.pem",
        "access_group": access_group,
        "tags": {"role": [tag]},
        "instance_ids": [],
        "owner": local_owner(),
        "check_command": "",
        "reload_command": "",
    }


def migrate(info: dict[str, Any], *flags: str) -> tuple[int, dict[str, Any]]:
    completed = certctl(info, "migrate-distribution", "--json", *flags)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def entries(report: dict[str, Any], key: str) -> dict[str, str]:
    return {entry["name"]: entry["profile"] for entry in report[key]}


def test_inline_distributions_move_to_matching_profiles_and_the_others_get_one_to_deploy(
    sandbox: dict[str, Any],
) -> None:
    # Given two certificates whose items still hold inline distributions (as written before profiles): one that a
    # deployed profile matches, one that none does
    tag = unique("legacy")
    [node] = start_nodes(sandbox, 1, role=tag)
    matched, unmatched = unique("legacy-a"), unique("legacy-b")
    profile = distribution_profile(sandbox, "/etc/ssl/{name}", "role", tag)["profile"]
    inventory = target_of(sandbox).inventory
    for name in (matched, unmatched):
        assert issue(sandbox, name=name, domains=[f"{name}.example.test"])["status"] == "issued"
    inventory.update(matched, None, {"distribution": inline(f"/etc/ssl/{matched}", tag, tag)})
    inventory.update(unmatched, None, {"distribution": inline(f"/srv/tls/{unmatched}", tag, tag)})

    # When the operator looks first
    code, report = migrate(sandbox)

    # Then it names the match, changes nothing, and proposes a profile for the other ({name} in its paths)
    assert code == 1
    assert entries(report, "matching")[matched] == profile
    assert unmatched in report["unmatched"]
    assert "distribution" in inventory_item(sandbox, matched)
    assert inventory_item(sandbox, matched)["distribution"]["tags"] == {"role": [tag]}
    proposed = yaml.safe_load(report["add_to_accounts_file"])["distribution-profiles"]
    [(proposed_name, proposed_entry)] = [(n, e) for n, e in proposed.items() if "/srv/tls/" in e["key-path"]]
    assert proposed_entry["key-path"] == "/srv/tls/{name}/privkey.pem"

    # When the proposal is deployed as it is (through the accounts file's parser) and the migration applied
    accounts = {"letsencrypt": {"acme-endpoint": "https://acme.example/directory"}}
    loaded = parse_accounts({"accounts": accounts, "distribution-profiles": {proposed_name: proposed_entry}})
    assert proposed_name in loaded.config.distribution_profiles
    deploy_distribution_profiles(
        target_of(sandbox).client("ssm"), {proposed_name: proposed_entry}, sandbox["resource_prefix"]
    )
    _, applied = migrate(sandbox, "--apply")

    # Then both items name their profile, and the next renewal distributes as before
    assert entries(applied, "migrated")[matched] == profile
    assert entries(applied, "migrated")[unmatched] == proposed_name
    assert inventory_item(sandbox, matched)["distribution"] == {"profile": profile}
    assert inventory_item(sandbox, unmatched)["distribution"] == {"profile": proposed_name}
    renewed = issue(sandbox, name=matched, domains=[f"{matched}.example.test"])
    assert renewed["distribution"]["status"] == "succeeded", renewed
    assert serial_of(installed(node, f"/etc/ssl/{matched}")["cert.pem"]["text"]) == renewed["serial"]
