"""The Secrets Manager adapter against moto: the first ACME account key of an alias is stored once."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from certlib.adapters.secrets import SecretStore


@pytest.fixture
def store() -> Iterator[SecretStore]:
    with mock_aws():
        key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
        yield SecretStore(boto3.client("secretsmanager", region_name="us-east-1"), "acme-certs/", key_id)


def test_the_first_account_key_stored_wins_and_later_ones_get_it(store: SecretStore) -> None:
    # Given two executions that found no account for the alias, each with a key of its own
    first = {"key": {"kty": "EC", "d": "first"}, "directory": "https://ca.example/dir"}
    second = {"key": {"kty": "EC", "d": "second"}, "directory": "https://ca.example/dir"}

    # When both store theirs, one after the other
    kept_by_first = store.add_account("sandbox", first)
    kept_by_second = store.add_account("sandbox", second)

    # Then both go on with the first key, and that is what the secret holds
    assert kept_by_first == kept_by_second == first
    stored = store.account("sandbox")
    assert stored is not None
    assert stored.value == first
