"""Sectigo's sample accounts file (docs/migrating-from-sectigo.md: two aliases, no default account) deploys: the
configuration parameter and one EAB secret per alias, with no secret in the template."""

from __future__ import annotations

import json

import yaml
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from certlib.config import Config, parse_accounts
from certlib.resources import ResourceNames, eab_hmac_secret_name
from stacks.constructs.account_configuration import AccountConfiguration
from tests.docs.test_sectigo_sample import sample_block

NAMES = ResourceNames()


def test_the_sample_deploys_its_configuration_and_one_eab_secret_per_alias() -> None:
    # Given the sample, as the CDK app reads it
    loaded = parse_accounts(yaml.safe_load(sample_block().body), source="sample")

    # When the account configuration is synthesized
    stack = Stack(App(), "Probe")
    AccountConfiguration(stack, "Configuration", names=NAMES, config=loaded.config, key=kms.Key(stack, "Key"))
    template = Template.from_stack(stack)

    # Then the parameter holds both aliases and no default, and each alias has its (empty) EAB secret
    [parameter] = template.find_resources("AWS::SSM::Parameter").values()
    deployed = Config.from_json(parameter["Properties"]["Value"])
    assert deployed == loaded.config
    assert deployed.default_account is None
    secrets = template.find_resources("AWS::SecretsManager::Secret").values()
    assert sorted(secret["Properties"]["Name"] for secret in secrets) == [
        eab_hmac_secret_name(NAMES.secret_prefix, alias) for alias in ("scm_demo", "scm_demo2")
    ]
    # And no EAB HMAC key is anywhere in the template
    text = json.dumps(template.to_json())
    assert not any(hmac_key in text for hmac_key in loaded.eab_hmac_keys.values())
