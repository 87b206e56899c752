"""The revocation check goes on past a certificate whose check fails, and says which one and why."""

from __future__ import annotations

from typing import Any

from certlib.resources import INVENTORY_PARTITION_KEY
from tests.lifecycle.helpers import inventory_item, issue, target_of
from tests.renewal.test_triggers import finish, invoke, revoke_at_the_ca

CLOSED_PORT_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused at once


def inventory_table(info: dict[str, Any]) -> Any:
    """The inventory as its operator sees it (the function roles may not write these attributes)."""
    target = target_of(info)
    return target.session.resource("dynamodb", endpoint_url=target.endpoint_url).Table(target.names.inventory_table)


def set_revocation_field(info: dict[str, Any], name: str, field: str, value: str) -> None:
    inventory_table(info).update_item(
        Key={INVENTORY_PARTITION_KEY: name},
        UpdateExpression="SET revocation.#field = :value",
        ExpressionAttributeNames={"#field": field},
        ExpressionAttributeValues={":value": value},
    )


def test_an_error_on_one_certificate_does_not_stop_the_check_of_the_others(renewal_sandbox: dict[str, Any]) -> None:
    # Given three issued certificates: one whose responder cannot be reached, one whose item is malformed, and one
    # the CA revokes
    issued = {
        name: issue(renewal_sandbox, name=name, domains=[f"{name}.example.test"])
        for name in ("responder-down", "malformed-item", "revoked-among-errors")
    }
    assert all(result["status"] == "issued" for result in issued.values()), issued
    set_revocation_field(renewal_sandbox, "responder-down", "ocsp_url", CLOSED_PORT_URL)
    set_revocation_field(renewal_sandbox, "malformed-item", "issuer_name_hash", "not hex")
    revoke_at_the_ca(renewal_sandbox, "revoked-among-errors")
    try:
        # When the scheduled check runs
        report = invoke(renewal_sandbox, "check_revocations", {})
        # Then the revoked one is found and replaced
        assert report["revoked"] == ["revoked-among-errors"]
        [renewal] = [r for r in report["renewals"] if r["name"] == "revoked-among-errors"]
        assert finish(renewal_sandbox, renewal["execution_arn"])["status"] == "renewed"
        # And each of the others is reported with its reason, counted as unknown
        problems = {problem["name"]: problem["reasons"] for problem in report["problems"]}
        [down] = problems["responder-down"]
        assert down.startswith(f"OCSP {CLOSED_PORT_URL}: no answer:")
        [malformed] = problems["malformed-item"]
        assert malformed.startswith("ValueError: ")
        assert report["unknown"] >= 2
        still = [inventory_item(renewal_sandbox, name)["status"] for name in ("responder-down", "malformed-item")]
        assert still == ["issued", "issued"]
    finally:  # the sweep's test counts the items due before 2090: leave none of ours
        for name in issued:
            inventory_table(renewal_sandbox).delete_item(Key={INVENTORY_PARTITION_KEY: name})
