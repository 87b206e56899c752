"""The Private CA steps may use only the CAs of the accounts file: the sandbox enforces the template's policies, so a
second CA in the same account (made here with the operator's credentials) is AccessDenied to every role of ours."""

from __future__ import annotations

from typing import Any

import pytest

from certlib.keys import csr_pem, generate_private_key
from sandbox.moto_pca import create_private_ca
from tests.lifecycle.helpers import target_of
from tests.security.test_iam_enforcement import as_role, client, error_code, role_of

TEMPLATE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"


@pytest.fixture(scope="module")
def other_ca(sandbox: dict[str, Any]) -> str:
    """A Private CA no account of the deployment names."""
    target = target_of(sandbox)
    return create_private_ca(target.session, sandbox["aws_endpoint_url"], common_name="Another team's CA")


def issue_as(info: dict[str, Any], step: str, ca_arn: str) -> Any:
    pca = client(info, as_role(info, role_of(info, step)), "acm-pca")
    return lambda: pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=csr_pem(generate_private_key("ec256"), ["scope.internal.test"]),
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn=TEMPLATE,
        Validity={"Value": 1, "Type": "DAYS"},
    )


def test_the_issue_step_issues_from_the_configured_ca_only(sandbox: dict[str, Any], other_ca: str) -> None:
    # Given the issue step's role
    # When it asks the configured CA, then another CA of the same account
    issued = issue_as(sandbox, "issue_from_private_ca", sandbox["private_ca_arn"])()
    # Then the first issues, and the other is AccessDenied
    assert issued["CertificateArn"].startswith(sandbox["private_ca_arn"])
    assert error_code(issue_as(sandbox, "issue_from_private_ca", other_ca)) == "AccessDeniedException"


def test_the_check_step_reads_only_from_the_configured_ca(sandbox: dict[str, Any], other_ca: str) -> None:
    # Given a certificate of the other CA (issued by its owner)
    pca = target_of(sandbox).client("acm-pca")
    arn = pca.issue_certificate(
        CertificateAuthorityArn=other_ca,
        Csr=csr_pem(generate_private_key("ec256"), ["scope.internal.test"]),
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn=TEMPLATE,
        Validity={"Value": 1, "Type": "DAYS"},
    )["CertificateArn"]
    # When the check step's role reads it
    reader = client(sandbox, as_role(sandbox, role_of(sandbox, "check_private_ca_certificate")), "acm-pca")
    # Then it is AccessDenied; and that role cannot issue at all, not even from the configured CA
    assert error_code(lambda: reader.get_certificate(CertificateAuthorityArn=other_ca, CertificateArn=arn)) == (
        "AccessDeniedException"
    )
    assert error_code(issue_as(sandbox, "check_private_ca_certificate", sandbox["private_ca_arn"])) == (
        "AccessDeniedException"
    )


@pytest.mark.parametrize("step", ["finalize_order", "store_certificate", "import_certificate", "validate_request"])
def test_acme_steps_cannot_use_the_private_ca(sandbox: dict[str, Any], step: str) -> None:
    # Given a step of the ACME path, or one around it
    # When its role asks the configured CA for a certificate
    # Then it is AccessDenied: only the Private CA steps have acm-pca rights
    assert error_code(issue_as(sandbox, step, sandbox["private_ca_arn"])) == "AccessDeniedException"


def test_the_revoke_function_revokes_only_at_the_configured_ca(sandbox: dict[str, Any], other_ca: str) -> None:
    # Given the role of `certctl revoke`'s function
    pca = client(sandbox, as_role(sandbox, role_of(sandbox, "revoke_certificate")), "acm-pca")
    # When it revokes a serial at the other CA
    # Then it is AccessDenied
    revoke = lambda: pca.revoke_certificate(  # noqa: E731
        CertificateAuthorityArn=other_ca, CertificateSerial="01:02:03", RevocationReason="SUPERSEDED"
    )
    assert error_code(revoke) == "AccessDeniedException"
