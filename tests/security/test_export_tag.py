"""Issue 13, item 4: starting the distribution machine cannot export another team's private certificate: ACM's
ExportCertificate is allowed only on certificates their owner tagged for this deployment."""

from __future__ import annotations

import json
from typing import Any

from certctl.executions import result_of, wait
from certlib.resources import EXPORT_ALLOWED_TAG
from tests.distribution.helpers import unique
from tests.distribution.test_acm_export import private_ca_certificate
from tests.lifecycle.helpers import certctl, target_of


def test_a_certificate_its_owner_did_not_tag_for_export_is_not_exported(sandbox: dict[str, Any]) -> None:
    # Given another team's exportable certificate, not tagged for export by this deployment
    name = unique("not-ours")
    arn = private_ca_certificate(sandbox, "payroll.corp.test", tagged_for_export=False)
    target = target_of(sandbox)
    # When certctl export is asked for it, Then it refuses with the owner's command to allow it, and starts nothing
    refused = certctl(sandbox, "export", "--certificate-arn", arn, "--name", name, "--json")
    assert refused.returncode != 0
    assert f"Key={EXPORT_ALLOWED_TAG},Value={sandbox['resource_prefix']}" in refused.stderr
    # When the distribution machine is started for it directly (whoever may StartExecution on it)
    machine = target.state_machine_arn(target.names.distribution_state_machine)
    execution = target.stepfunctions.start_execution(
        stateMachineArn=machine, input=json.dumps({"name": name, "certificate_arn": arn})
    )["executionArn"]
    result = result_of(wait(target, execution, 120, None))
    # Then the export function's own role may not export it: AccessDenied, and no bundle was kept
    assert result["status"] == "failed", result
    assert "AccessDenied" in result["message"], result
    assert "acm:ExportCertificate" in result["message"], result
    secrets = target.client("secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": [f"acme-certs/certificate/{name}"]}]
    )
    assert not secrets["SecretList"]
