"""The deployed account configuration (an SSM parameter) and one empty EAB HMAC secret per EAB account.

The HMAC keys themselves never pass through here: the stack only gets the secret-free `Config`. Each EAB secret is
created holding a random placeholder under a key the functions ignore, so they report "not stored yet" until an
operator runs `python -m certctl accounts push`, which writes `{"eab_hmac_key": ...}` (certlib.adapters.secrets).
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from certlib.config import Config
from certlib.resources import STANDARD_PARAMETER_MAX_BYTES, ResourceNames, eab_hmac_secret_name
from stacks.nag import acknowledge

EAB_PLACEHOLDER_FIELD = "placeholder"


class AccountConfiguration(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, names: ResourceNames, config: Config, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        value = config.to_json()
        too_big = len(value.encode()) > STANDARD_PARAMETER_MAX_BYTES
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=names.config_parameter,
            description="ACME accounts of the certificate pipeline (no secrets: EAB HMAC keys are in Secrets Manager)",
            string_value=value,
            tier=ssm.ParameterTier.ADVANCED if too_big else ssm.ParameterTier.STANDARD,
        )
        # Explicit: every deploy writes it again from the accounts file; it holds no secret and nothing else.
        self.parameter.apply_removal_policy(RemovalPolicy.DESTROY)
        self.eab_secrets: dict[str, secretsmanager.CfnSecret] = {}
        eab_aliases = sorted(alias for alias, account in config.accounts.items() if account.uses_eab)
        for alias in eab_aliases:
            # The L1 resource: the L2 Secret also adds key-policy grants to the account, which the key's default
            # policy (IAM decides) already covers.
            secret = secretsmanager.CfnSecret(
                self,
                f"EabHmacKey-{alias}",
                name=eab_hmac_secret_name(names.secret_prefix, alias),
                description=f"EAB HMAC key of ACME account {alias!r}: set it with `python -m certctl accounts push`",
                kms_key_id=key.key_arn,
                generate_secret_string=secretsmanager.CfnSecret.GenerateSecretStringProperty(
                    secret_string_template=json.dumps({}),
                    generate_string_key=EAB_PLACEHOLDER_FIELD,
                    exclude_punctuation=True,
                    password_length=32,
                ),
            )
            secret.apply_removal_policy(RemovalPolicy.RETAIN)
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "An EAB HMAC key is issued by the ACME CA and cannot be rotated by a Lambda: an operator gets a new "
                "one from the CA and stores it with `python -m certctl accounts push`.",
            )
            self.eab_secrets[alias] = secret
