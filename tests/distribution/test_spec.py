"""Distribution profiles (deploy-time configuration, checked when the accounts file loads), the only thing an
execution may say about distribution (a profile's name), and how node results become an outcome."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.adapters.ssm import CommandState, NodeResult
from certlib.config import Config, parse_accounts
from certlib.distribution.spec import DistributionProfile, parse_distribution, profile_of
from certlib.distribution.steps import distribution_record, outcome_of
from certlib.exceptions import ConfigError, InvalidRequest

ACCOUNTS = {"letsencrypt": {"acme-endpoint": "https://acme.example/directory"}}
OPT_IN = ("acme-certificates-distribution", "acme-certs")


def profiles(**entries: Any) -> dict[str, DistributionProfile]:
    loaded = parse_accounts({"accounts": ACCOUNTS, "distribution-profiles": entries})
    return loaded.config.distribution_profiles


def test_defaults_put_the_files_under_etc_ssl_acme_and_the_access_group_is_the_profile() -> None:
    # Given a profile with tags only
    (web,) = profiles(web={"tags": {"role": "web"}}).values()

    # When it is resolved for a certificate
    shop = web.for_certificate("shop")

    # Then the files are in /etc/ssl/acme/<certificate>/, root's, readable by the profile's access group
    assert shop == DistributionProfile(
        name="web",
        certificate_path="/etc/ssl/acme/shop/cert.pem",
        chain_path="/etc/ssl/acme/shop/chain.pem",
        fullchain_path="/etc/ssl/acme/shop/fullchain.pem",
        key_path="/etc/ssl/acme/shop/privkey.pem",
        access_group="web",
        tags={"role": ["web"]},
    )
    # and the targets always add the opt-in tag, so only nodes that opted in are reached
    assert shop.targets(OPT_IN) == [
        {"Key": "tag:acme-certificates-distribution", "Values": ["acme-certs"]},
        {"Key": "tag:role", "Values": ["web"]},
    ]
    assert DistributionProfile.from_dict(web.to_dict()) == web


def test_profiles_survive_the_deployed_json() -> None:
    loaded = parse_accounts(
        {
            "accounts": ACCOUNTS,
            "distribution-profiles": {
                "api": {
                    "instance-ids": ["i-0123456789abcdef0", "mi-0123456789abcdef0"],
                    "directory": "/srv/tls",
                    "key-path": "/srv/keys/{name}.key",
                    "owner": "www-data:www-data",
                    "check-command": "nginx -t",
                    "reload-command": "systemctl reload nginx",
                    "access-group": "api-servers",
                }
            },
        }
    )
    deployed = Config.from_json(loaded.config.to_json())
    api = deployed.distribution_profiles["api"].for_certificate("shop")
    assert (api.certificate_path, api.key_path) == ("/srv/tls/cert.pem", "/srv/keys/shop.key")
    assert api.targets(OPT_IN) == []
    assert api.instance_ids == ["i-0123456789abcdef0", "mi-0123456789abcdef0"]
    assert deployed == loaded.config


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"tags": {"a": ["b"]}, "instance-ids": ["i-0123456789abcdef0"]}, "either 'tags'"),
        ({"owner": "root"}, "either 'tags'"),
        ({"tags": {"a": ["b"]}, "key-path": "relative/key.pem"}, "'key-path' must be a path"),
        ({"tags": {"a": ["b"]}, "key-path": "/etc/../shadow"}, "'key-path' must be a path"),
        ({"tags": {"a": ["b"]}, "directory": "/etc/ssl/{name}/../.."}, "'directory' must be"),
        (
            {
                "tags": {"a": ["b"]},
                "key-path": "/etc/ssl/acme/x/cert.pem",
                "certificate-path": "/etc/ssl/acme/x/cert.pem",
            },
            "must all differ",
        ),
        ({"tags": {"a": ["b"]}, "check-command": "nginx -t; echo '$(cat key)'"}, "without single quotes"),
        ({"tags": {"a": ["b"]}, "reload-command": "systemctl reload nginx\nrm -rf /"}, "one line"),
        ({"tags": {"a": ["b"]}, "owner": "root; rm"}, "'owner' must be user or user:group"),
        ({"instance-ids": ["web-1"]}, "is not an EC2 or managed instance ID"),
        ({"tags": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}}, "1-4 tag keys"),
        ({"tags": {"a": ["b"]}, "color": "blue"}, "unknown key"),
        ("web", "expected its settings"),
    ],
)
def test_what_could_break_the_script_or_reach_nothing_is_refused_at_load(entry: object, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"distribution profile 'web': .*{message}"):
        profiles(web=entry)


def test_an_execution_names_a_deployed_profile_and_nothing_else() -> None:
    deployed = profiles(web={"tags": {"role": "web"}})
    assert parse_distribution({"profile": "web"}, deployed) == {"profile": "web"}
    assert parse_distribution({}, deployed) is None
    with pytest.raises(InvalidRequest, match=r"not in the deployed configuration .*deployed profiles: web"):
        parse_distribution({"profile": "db"}, deployed)
    for inline in (
        {"tags": {"role": ["web"]}, "reload_command": "id > /tmp/pwned"},
        {"profile": "web", "check_command": "id"},
        {"profile": "web", "key_path": "/root/.ssh/authorized_keys"},
    ):
        with pytest.raises(InvalidRequest, match=r"takes only 'profile'.*deploy-time configuration"):
            parse_distribution(inline, deployed)
    with pytest.raises(InvalidRequest, match="must be"):
        parse_distribution("web", deployed)


def test_a_recorded_inline_distribution_is_never_resolved() -> None:
    deployed = profiles(web={"tags": {"role": "web"}})
    legacy = {"tags": {"role": ["web"]}, "reload_command": "systemctl reload nginx", "certificate_path": "/x/c.pem"}
    with pytest.raises(InvalidRequest, match=r"inline distribution from before profiles.*migrate-distribution"):
        profile_of(legacy, deployed, "shop")


def test_a_failed_node_makes_the_outcome_partial_and_none_at_all_failed() -> None:
    # Given command states with two, one and no successful nodes
    ok, bad = NodeResult("i-1", "Success", "installed"), NodeResult("i-2", "Failed", "the check failed")
    # When / Then
    assert outcome_of(CommandState("Success", 2, [ok, ok]), "c", "ab", "t")["status"] == "succeeded"
    partial = outcome_of(CommandState("Failed", 2, [bad, ok]), "c", "ab", "t")
    assert (partial["status"], partial["succeeded"], partial["failed"]) == ("partial", ["i-1"], ["i-2"])
    assert outcome_of(CommandState("Failed", 1, [bad]), "c", "ab", "t")["status"] == "failed"
    nobody = outcome_of(CommandState("Success", 0, []), "c", "ab", "tag role in ['web']")
    assert nobody["status"] == "failed"
    assert "no node matched" in nobody["detail"]
    assert CommandState("InProgress", 2, [ok]).running
    assert CommandState("Success", 2, [ok, NodeResult("i-3", "InProgress", "")]).running


def test_the_record_keeps_the_certificate_status_and_marks_only_the_distribution() -> None:
    outcome = {"status": "partial", "command_id": "c", "succeeded": ["i-1"], "failed": ["i-2"], "nodes": []}
    result, values, _ = distribution_record({"profile": "web"}, outcome, "exec")
    assert result == {"distribution": {"status": "partial", "command_id": "c", "succeeded": ["i-1"], "failed": ["i-2"]}}
    assert values["distribution"] == {"profile": "web"}
    assert values["distribution_status"] == "distribution_failed"
    assert "status" not in values
    assert values["last_distribution"]["execution"] == "exec"
    assert distribution_record(None, None, "exec")[1] == {}
    assert "distribution" in distribution_record(None, None, "exec")[2]
