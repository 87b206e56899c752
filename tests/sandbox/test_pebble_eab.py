"""The sandbox's Pebble requires External Account Binding, with the key the sandbox stored in Secrets Manager."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from acme import client, messages
from cryptography.hazmat.primitives.asymmetric import ec
from josepy.jwa import ES256
from josepy.jwk import JWKEC

from certlib.resources import ResourceNames, eab_hmac_secret_name
from tests.conftest import SandboxAws

T = TypeVar("T")
BAD_NONCE_ATTEMPTS = 10  # Pebble rejects 5% of good nonces by default; the acme library retries only once


def with_nonce_retries(call: Callable[[], T]) -> T:
    for _ in range(BAD_NONCE_ATTEMPTS - 1):
        try:
            return call()
        except messages.Error as error:
            if error.code != "badNonce":
                raise
    return call()


def acme_client(sandbox: dict[str, Any]) -> tuple[client.ClientV2, JWKEC]:
    key = JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
    network = client.ClientNetwork(key, alg=ES256, verify_ssl=sandbox["ca_bundle"], user_agent="sandbox-tests")
    directory = messages.Directory.from_json(network.get(sandbox["acme_directory_url"]).json())
    return client.ClientV2(directory, network), key


def sandbox_eab(sandbox: dict[str, Any], aws: SandboxAws) -> tuple[str, str]:
    names = ResourceNames(sandbox["resource_prefix"])
    config = json.loads(aws.client("ssm").get_parameter(Name=names.config_parameter)["Parameter"]["Value"])
    alias = config["default_account"]
    secret_name = eab_hmac_secret_name(names.secret_prefix, alias)
    secret = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"])
    return config["accounts"][alias]["eab_key_id"], secret["eab_hmac_key"]


def test_registration_without_eab_is_refused(sandbox: dict[str, Any]) -> None:
    # Given
    acme, _ = acme_client(sandbox)
    registration = messages.NewRegistration.from_data(email="admin@example.test", terms_of_service_agreed=True)

    # When
    with pytest.raises(messages.Error) as refused:
        with_nonce_retries(lambda: acme.new_account(registration))

    # Then
    assert refused.value.code == "externalAccountRequired"


def test_registration_with_the_sandbox_eab_key_is_valid(sandbox: dict[str, Any], aws: SandboxAws) -> None:
    # Given
    acme, key = acme_client(sandbox)
    key_id, hmac_key = sandbox_eab(sandbox, aws)
    binding = messages.ExternalAccountBinding.from_data(
        account_public_key=key.public_key(), kid=key_id, hmac_key=hmac_key, directory=acme.directory
    )
    registration = messages.NewRegistration.from_data(
        email="admin@example.test", terms_of_service_agreed=True, external_account_binding=binding
    )

    # When
    account = with_nonce_retries(lambda: acme.new_account(registration))

    # Then
    assert account.body.status == "valid"
