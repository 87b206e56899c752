"""The distribution spec (checked before anything is written) and how node results become an outcome."""

from __future__ import annotations

import pytest

from certlib.adapters.ssm import CommandState, NodeResult
from certlib.distribution.spec import DistributionSpec, parse_distribution
from certlib.distribution.steps import distribution_record, outcome_of
from certlib.exceptions import InvalidRequest


def test_defaults_put_the_files_under_etc_ssl_acme_and_the_access_group_is_the_name() -> None:
    spec = parse_distribution({"tags": {"role": "web"}}, "shop")
    assert spec == DistributionSpec(
        certificate_path="/etc/ssl/acme/shop/cert.pem",
        chain_path="/etc/ssl/acme/shop/chain.pem",
        fullchain_path="/etc/ssl/acme/shop/fullchain.pem",
        key_path="/etc/ssl/acme/shop/privkey.pem",
        access_group="shop",
        tags={"role": ["web"]},
    )
    assert spec.targets() == [{"Key": "tag:role", "Values": ["web"]}]
    assert DistributionSpec.from_dict(spec.to_dict()) == spec
    assert parse_distribution({}, "shop") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"tags": {"a": ["b"]}, "instance_ids": ["i-0123456789abcdef0"]}, "either 'tags'"),
        ({"owner": "root"}, "either 'tags'"),
        ({"tags": {"a": ["b"]}, "key_path": "relative/key.pem"}, "'key_path' must be an absolute path"),
        ({"tags": {"a": ["b"]}, "key_path": "/etc/../shadow"}, "'key_path' must be an absolute path"),
        (
            {
                "tags": {"a": ["b"]},
                "key_path": "/etc/ssl/acme/x/cert.pem",
                "certificate_path": "/etc/ssl/acme/x/cert.pem",
            },
            "must all differ",
        ),
        ({"tags": {"a": ["b"]}, "check_command": "nginx -t; echo '$(cat key)'"}, "without single quotes"),
        ({"tags": {"a": ["b"]}, "reload_command": "systemctl reload nginx\nrm -rf /"}, "one line"),
        ({"tags": {"a": ["b"]}, "owner": "root; rm"}, "'owner' must be user or user:group"),
        ({"instance_ids": ["web-1"]}, "is not an EC2 or managed instance ID"),
        ({"tags": {"a": ["b"]}, "color": "blue"}, "unknown field"),
        ("web", "must be an object"),
    ],
)
def test_what_could_break_the_script_or_reach_nothing_is_refused(raw: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_distribution(raw, "shop")


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
    spec = parse_distribution({"tags": {"role": "web"}}, "shop")
    assert spec is not None
    outcome = {"status": "partial", "command_id": "c", "succeeded": ["i-1"], "failed": ["i-2"], "nodes": []}
    result, values, _ = distribution_record(spec.to_dict(), outcome, "exec")
    assert result == {"distribution": {"status": "partial", "command_id": "c", "succeeded": ["i-1"], "failed": ["i-2"]}}
    assert values["distribution_status"] == "distribution_failed"
    assert "status" not in values
    assert values["last_distribution"]["execution"] == "exec"
    assert distribution_record(None, None, "exec")[1] == {}
    assert "distribution" in distribution_record(None, None, "exec")[2]
