"""Certificates onto servers: the SSM document, the managed policy nodes need, and ACM's exportable certificates (the
distribution state machine, its two functions of its own, and the rule for ACM's "Certificate Available" event).

The lifecycle's send_distribution and check_distribution functions are the stack's lifecycle functions; the
distribution machine invokes the same two. docs/distribution.md says how nodes are given access.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from certlib.resources import ACCESS_GROUP_TAG, DISTRIBUTION_STEPS, Env, ResourceNames
from deploy.paths import DISTRIBUTION_ASL, DISTRIBUTION_DOCUMENT
from deploy.state_machines import Timings, distribution_substitutions
from stacks.constructs.lifecycle_state_machine import FunctionsStateMachine
from stacks.constructs.pipeline_function import FunctionParts, build_functions
from stacks.constructs.renewal_triggers import event_rule_to_function
from stacks.nag import acknowledge_wildcard_resources, flatten_cfn_reference
from stacks.permissions.common import CERTIFICATE_SECRETS, AccessTargets

DESCRIPTIONS = {
    "export_certificate": "Distribution: register an ACM exportable certificate, export it and store its bundle",
    "record_distribution": "Distribution: record an export's outcome on each node in the inventory",
    "handle_certificate_available": "ACM Certificate Available (RENEWAL): export and distribute it again",
}
# ACM's event when it has renewed a certificate; our own imports send it too, with Action IMPORT or REIMPORT.
CERTIFICATE_AVAILABLE_SOURCE = ["aws.acm"]
CERTIFICATE_AVAILABLE_DETAIL_TYPE = ["ACM Certificate Available"]
CERTIFICATE_AVAILABLE_DETAIL = {"Action": ["RENEWAL"]}


class Distribution(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        parts: FunctionParts,
        lifecycle_functions: Mapping[str, lambda_.IFunction],
        timings: Timings,
        name_suffix: str = "",
    ) -> None:
        """`lifecycle_functions` holds at least send_distribution and check_distribution; `name_suffix` goes after the
        node policy's name, which IAM holds once per account (see CertificateStack)."""
        super().__init__(scope, construct_id)
        names, key, targets = parts.names, parts.key, parts.targets
        self.document = distribution_document(self, names.distribution_document)
        self.node_policy = CertificateNodesPolicy(
            self, "NodePolicy", names=names, key=key, targets=targets, name_suffix=name_suffix
        )

        self.functions = build_functions(
            self, ("export_certificate", "record_distribution"), parts, descriptions=DESCRIPTIONS
        )
        arns = {step: part.function.function_arn for step, part in self.functions.items()}
        arns.update(
            {step: lifecycle_functions[step].function_arn for step in ("send_distribution", "check_distribution")}
        )
        self.state_machine = FunctionsStateMachine(
            self,
            "StateMachine",
            state_machine_name=names.distribution_state_machine,
            asl=DISTRIBUTION_ASL,
            substitutions=distribution_substitutions(arns, timings),
            function_arns=[arns[step] for step in DISTRIBUTION_STEPS],
            invoke_sid="InvokeDistributionFunctions",
            key=key,
        ).state_machine
        machine_arn = self.state_machine.state_machine_arn
        self.functions |= build_functions(
            self,
            ("handle_certificate_available",),
            parts.extended({Env.DISTRIBUTION_STATE_MACHINE_ARN: machine_arn}, distribution_state_machine=machine_arn),
            descriptions=DESCRIPTIONS,
        )
        # Lost, this event would leave the nodes with the certificate ACM replaced: nothing else sends it again.
        self.rule, self.dead_letters = event_rule_to_function(
            self,
            "CertificateAvailable",
            rule_name=f"{names.prefix}-acm-certificate-available",
            description="ACM renewed a certificate: export and distribute it again when it is registered for that",
            event_pattern=events.EventPattern(
                source=CERTIFICATE_AVAILABLE_SOURCE,
                detail_type=CERTIFICATE_AVAILABLE_DETAIL_TYPE,
                detail=CERTIFICATE_AVAILABLE_DETAIL,
            ),
            function=self.functions["handle_certificate_available"].function,
            key=key,
            dead_letters_id="CertificateAvailableDeadLetters",
            key_policy_sid="AllowEventBridgeDeadLettersOfTheCertificateAvailableRule",
        )


class CertificateNodesPolicy(Construct):
    """The managed policy to attach to the roles of nodes that receive certificates (next to
    AmazonSSMManagedInstanceCore): read a certificate bundle only when the secret's access-group tag equals the
    role's own principal tag of the same key (attribute-based, as AWS's certificate export sample does it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        key: kms.IKey,
        targets: AccessTargets,
        name_suffix: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region
        principal_tag = f"${{aws:PrincipalTag/{ACCESS_GROUP_TAG}}}"  # an IAM policy variable, not a Python one
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=names.certificate_nodes_policy + name_suffix,
            description=(
                f"Nodes receiving certificates from {names.prefix}: read the bundles whose {ACCESS_GROUP_TAG} tag "
                f"equals the role's principal tag {ACCESS_GROUP_TAG}"
            ),
            statements=[
                iam.PolicyStatement(
                    sid="ReadCertificatesOfMyAccessGroup",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[targets.certificate_secrets],
                    conditions={
                        "StringEquals": {f"secretsmanager:ResourceTag/{ACCESS_GROUP_TAG}": principal_tag},
                        "Null": {f"aws:PrincipalTag/{ACCESS_GROUP_TAG}": "false"},
                    },
                ),
                iam.PolicyStatement(
                    sid="DecryptCertificatesThroughSecretsManager",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:SecretARN": targets.certificate_secrets},
                    },
                ),
            ],
        )
        acknowledge_wildcard_resources(
            self.policy,
            [
                (
                    _flat(self, targets.certificate_secrets),
                    CERTIFICATE_SECRETS + f" The condition limits it to the bundles tagged with the node's own "
                    f"{ACCESS_GROUP_TAG}.",
                )
            ],
        )


def _flat(scope: Construct, value: str) -> str:
    return flatten_cfn_reference(Stack.of(scope).resolve(value))


def distribution_document(scope: Construct, name: str) -> ssm.CfnDocument:
    """The Run Command document that installs a certificate on a node (ssm/distribute-certificate.yaml), as `name`."""
    return ssm.CfnDocument(
        scope,
        "Document",
        name=name,
        document_type="Command",
        document_format="YAML",
        content=yaml.safe_load(DISTRIBUTION_DOCUMENT.read_text()),
        update_method="NewVersion",
    )
