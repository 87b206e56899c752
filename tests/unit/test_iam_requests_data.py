"""sandbox.iam.requests for the data services: DynamoDB, Secrets Manager, KMS and ACM -- each operation's action,
resource and condition keys, and the KMS permissions the services use on the caller's behalf."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.iam.authz_dynamodb import expression_attributes
from sandbox.iam.wire import Unmapped
from tests.certificates import certificate_pem, key_pem, self_signed
from tests.unit.iam_request_capture import ACCOUNT, REGION, authorize, only

TABLE = "certificates-inventory"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
INDEX = "renewal-index"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def key_arn(moto: None) -> str:
    """A customer managed KMS key, with an alias."""
    kms = boto3.client("kms", region_name=REGION)
    arn = str(kms.create_key(Description="stack key")["KeyMetadata"]["Arn"])
    kms.create_alias(AliasName="alias/certificates", TargetKeyId=arn)
    return arn


@pytest.fixture
def table(key_arn: str) -> str:
    """The inventory table (partition key `name`, an index by `renewal_bucket`), encrypted with the stack key."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "name", "AttributeType": "S"},
            {"AttributeName": "renewal_bucket", "AttributeType": "S"},
            {"AttributeName": "not_after", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "renewal_bucket", "KeyType": "HASH"},
                    {"AttributeName": "not_after", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
    )
    return TABLE


def _table_decrypt(requests: list[Any], key_arn: str) -> Any:
    decrypts = [request for request in requests if request.action == "kms:Decrypt"]
    assert len(decrypts) == 1
    assert decrypts[0].resource == key_arn
    assert decrypts[0].context["kms:ViaService"] == f"dynamodb.{REGION}.amazonaws.com"
    assert decrypts[0].context["kms:CallerAccount"] == ACCOUNT
    assert decrypts[0].context["kms:EncryptionContext:aws:dynamodb:tableName"] == TABLE
    return decrypts[0]


# --- DynamoDB -------------------------------------------------------------------------------------------------------
def test_get_item_names_the_key_the_projection_and_the_table_key(table: str, key_arn: str) -> None:
    # Given a GetItem of one certificate's item, projecting two attributes (one through a placeholder)
    # When it is mapped
    requests = authorize(
        "dynamodb",
        "get_item",
        TableName=table,
        Key={"name": {"S": "www.example.com"}},
        ProjectionExpression="#s, not_after.#d[0]",
        ExpressionAttributeNames={"#s": "status", "#d": "days"},
    )
    # Then dynamodb:GetItem on the table, the key's partition value and the attributes read; and kms:Decrypt
    get = requests[0]
    assert (get.action, get.resource) == ("dynamodb:GetItem", TABLE_ARN)
    assert get.context["dynamodb:LeadingKeys"] == ["www.example.com"]
    assert get.context["dynamodb:Attributes"] == ["name", "not_after", "status"]
    assert get.context["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert _table_decrypt(requests, key_arn).context["aws:ViaAWSService"] is True
    assert len(requests) == 2


def test_update_item_names_every_attribute_it_writes_or_checks(table: str) -> None:
    # Given an UpdateItem with SET/REMOVE/ADD and a condition using functions
    # When it is mapped
    update = authorize(
        "dynamodb",
        "update_item",
        TableName=table,
        Key={"name": {"S": "www.example.com"}},
        UpdateExpression="SET #st = :s, history = list_append(if_not_exists(history, :empty), :h) REMOVE lock_owner "
        "ADD attempts :one",
        ConditionExpression="attribute_not_exists(lock_owner) OR (#st <> :s AND size(history) < :max)",
        ExpressionAttributeNames={"#st": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "RENEWING"},
            ":empty": {"L": []},
            ":h": {"L": []},
            ":one": {"N": "1"},
            ":max": {"N": "10"},
        },
        ReturnValues="UPDATED_NEW",
    )[0]
    # Then the attributes are the key, the updated ones and the checked ones; ReturnValues as asked
    assert update.action == "dynamodb:UpdateItem"
    assert update.context["dynamodb:Attributes"] == ["attempts", "history", "lock_owner", "name", "status"]
    assert update.context["dynamodb:LeadingKeys"] == ["www.example.com"]
    assert update.context["dynamodb:ReturnValues"] == "UPDATED_NEW"
    assert "dynamodb:Select" not in update.context


def test_put_and_delete_item_default_return_values_to_none(table: str) -> None:
    # Given a PutItem of an `#arn/...` owner item and a DeleteItem
    # When they are mapped
    put = authorize(
        "dynamodb", "put_item", TableName=table, Item={"name": {"S": "#arn/abc"}, "owner": {"S": "www.example.com"}}
    )[0]
    delete = authorize("dynamodb", "delete_item", TableName=table, Key={"name": {"S": "#arn/abc"}})[0]
    # Then the leading key is the item's partition key, and ReturnValues NONE
    assert (put.action, put.context["dynamodb:LeadingKeys"]) == ("dynamodb:PutItem", ["#arn/abc"])
    assert put.context["dynamodb:Attributes"] == ["name", "owner"]
    assert put.context["dynamodb:ReturnValues"] == "NONE"
    assert (delete.action, delete.context["dynamodb:Attributes"]) == ("dynamodb:DeleteItem", ["name"])
    assert delete.context["dynamodb:ReturnValues"] == "NONE"


def test_query_of_an_index_is_authorized_on_the_index_with_its_partition_value(table: str) -> None:
    # Given a Query of the renewal index, the key condition naming its partition key through a placeholder
    # When it is mapped
    query = authorize(
        "dynamodb",
        "query",
        TableName=table,
        IndexName=INDEX,
        KeyConditionExpression=":b = #b AND not_after <= :t",
        ExpressionAttributeNames={"#b": "renewal_bucket"},
        ExpressionAttributeValues={":b": {"S": "2026-12"}, ":t": {"S": "2026-12-31"}},
    )[0]
    # Then dynamodb:Query on table/T/index/I, the index's partition value, DynamoDB's default Select for an index
    assert (query.action, query.resource) == ("dynamodb:Query", f"{TABLE_ARN}/index/{INDEX}")
    assert query.context["dynamodb:LeadingKeys"] == ["2026-12"]
    assert query.context["dynamodb:Attributes"] == ["not_after", "renewal_bucket"]
    assert query.context["dynamodb:Select"] == "ALL_PROJECTED_ATTRIBUTES"


def test_scan_has_no_leading_keys_and_names_its_filter(table: str) -> None:
    # Given a Scan with a filter
    # When it is mapped
    scan = authorize(
        "dynamodb",
        "scan",
        TableName=table,
        FilterExpression="begins_with(#n, :p)",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":p": {"S": "#"}},
    )[0]
    # Then dynamodb:Scan on the table, ALL_ATTRIBUTES, the filter's attribute, no LeadingKeys
    assert (scan.action, scan.resource) == ("dynamodb:Scan", TABLE_ARN)
    assert scan.context["dynamodb:Select"] == "ALL_ATTRIBUTES"
    assert scan.context["dynamodb:Attributes"] == ["name"]
    assert "dynamodb:LeadingKeys" not in scan.context


def test_describe_table_needs_no_key(table: str) -> None:
    # Given a DescribeTable
    # When it is mapped
    requests = authorize("dynamodb", "describe_table", TableName=table)
    # Then only dynamodb:DescribeTable on the table: no data is read, no KMS
    assert [(r.action, r.resource) for r in requests] == [("dynamodb:DescribeTable", TABLE_ARN)]


def test_batch_operations_are_authorized_per_table_and_item(table: str, key_arn: str) -> None:
    # Given a BatchGetItem of two keys and a BatchWriteItem of a put and a delete
    # When they are mapped
    gets = authorize(
        "dynamodb",
        "batch_get_item",
        RequestItems={table: {"Keys": [{"name": {"S": "a"}}, {"name": {"S": "b"}}], "ProjectionExpression": "owner"}},
    )
    writes = authorize(
        "dynamodb",
        "batch_write_item",
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"name": {"S": "c"}, "owner": {"S": "x"}}}},
                {"DeleteRequest": {"Key": {"name": {"S": "d"}}}},
            ]
        },
    )
    # Then one authorization per item, each with its own partition value; one kms:Decrypt per table
    batch_gets = [r for r in gets if r.action == "dynamodb:BatchGetItem"]
    assert [r.context["dynamodb:LeadingKeys"] for r in batch_gets] == [["a"], ["b"]]
    assert [r.context["dynamodb:Attributes"] for r in batch_gets] == [["name", "owner"]] * 2
    batch_writes = [r for r in writes if r.action == "dynamodb:BatchWriteItem"]
    assert [r.context["dynamodb:LeadingKeys"] for r in batch_writes] == [["c"], ["d"]]
    assert {r.resource for r in batch_gets + batch_writes} == {TABLE_ARN}
    _table_decrypt(gets, key_arn)
    _table_decrypt(writes, key_arn)


def test_transactions_are_authorized_as_their_item_actions(table: str) -> None:
    # Given a TransactWriteItems (put, update, condition check) and a TransactGetItems
    key = {"name": {"S": "www.example.com"}}
    # When they are mapped
    writes = authorize(
        "dynamodb",
        "transact_write_items",
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"name": {"S": "#arn/x"}, "owner": {"S": "www.example.com"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "SET lock_owner = :o",
                    "ExpressionAttributeValues": {":o": {"S": "me"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key,
                    "ConditionExpression": "attribute_exists(#n)",
                    "ExpressionAttributeNames": {"#n": "name"},
                }
            },
        ],
    )
    reads = authorize("dynamodb", "transact_get_items", TransactItems=[{"Get": {"TableName": table, "Key": key}}])
    # Then each item is its own action, enclosed in the transaction
    items = [(r.action, r.context.get("dynamodb:EnclosingOperation")) for r in writes if r.action.startswith("dyn")]
    assert items == [
        ("dynamodb:PutItem", "TransactWriteItems"),
        ("dynamodb:UpdateItem", "TransactWriteItems"),
        ("dynamodb:ConditionCheckItem", "TransactWriteItems"),
    ]
    assert writes[1].context["dynamodb:Attributes"] == ["lock_owner", "name"]
    assert (reads[0].action, reads[0].context["dynamodb:EnclosingOperation"]) == (
        "dynamodb:GetItem",
        "TransactGetItems",
    )


def test_a_table_moto_lacks_is_authorized_on_its_named_arn(moto: None) -> None:
    # Given no table at all
    # When a GetItem names one
    requests = authorize("dynamodb", "get_item", TableName="missing", Key={"name": {"S": "a"}})
    # Then the permission is checked on the ARN the name gives (moto answers ResourceNotFound afterwards)
    get = only(requests)
    assert get.resource == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/missing"
    assert "dynamodb:LeadingKeys" not in get.context  # the key schema is unknown
    assert get.context["dynamodb:Attributes"] == ["name"]


def test_a_table_with_the_aws_managed_key_needs_no_kms_permission(moto: None) -> None:
    # Given a table encrypted with DynamoDB's AWS managed key (SSE on, no key named)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="managed",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
    )
    # When a GetItem is mapped
    requests = authorize("dynamodb", "get_item", TableName="managed", Key={"id": {"S": "1"}})
    # Then only the DynamoDB action
    assert [r.action for r in requests] == ["dynamodb:GetItem"]


def test_expression_attributes_are_the_top_level_names() -> None:
    # Given expressions with keywords, functions, nested paths, list indexes and placeholders
    names = {"#a": "a.literal", "#k": "key"}
    # When their attributes are read
    # Then each path counts by its first element; functions and keywords are not attributes
    assert expression_attributes("SET x.y[2].z = :v, #a = :w REMOVE q[1] DELETE s :set", names) == {
        "x",
        "a.literal",
        "q",
        "s",
    }
    assert expression_attributes("contains(tags, :t) AND NOT #k BETWEEN :a AND :b OR c IN (:x, :y)", names) == {
        "tags",
        "key",
        "c",
    }


def test_an_undefined_placeholder_is_unmapped(table: str) -> None:
    # Given a condition naming a placeholder that ExpressionAttributeNames lacks
    # When it is mapped
    # Then Unmapped (never guessed)
    with pytest.raises(Unmapped, match="#nope"):
        authorize(
            "dynamodb",
            "delete_item",
            TableName=table,
            Key={"name": {"S": "a"}},
            ConditionExpression="attribute_exists(#nope)",
        )


# --- Secrets Manager ------------------------------------------------------------------------------------------------
@pytest.fixture
def secret(key_arn: str) -> dict[str, Any]:
    """A certificate bundle secret, tagged with its access group and encrypted with the stack key (by alias)."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    created = sm.create_secret(
        Name="certificates/www.example.com",
        SecretString="{}",
        KmsKeyId="alias/certificates",
        Tags=[{"Key": "AccessGroup", "Value": "web"}],
    )
    return dict(created)


def test_get_secret_value_needs_decrypt_through_secrets_manager(secret: dict[str, Any], key_arn: str) -> None:
    # Given a tagged secret encrypted with a customer managed key, read by name
    # When GetSecretValue is mapped
    get, decrypt = authorize("secretsmanager", "get_secret_value", SecretId="certificates/www.example.com")
    # Then the secret's full ARN (with its suffix) and its tags, then kms:Decrypt via Secrets Manager for that secret
    assert (get.action, get.resource) == ("secretsmanager:GetSecretValue", secret["ARN"])
    assert get.context["secretsmanager:ResourceTag/AccessGroup"] == "web"
    assert get.context["aws:ResourceTag/AccessGroup"] == "web"
    assert (decrypt.action, decrypt.resource) == ("kms:Decrypt", key_arn)
    assert decrypt.context["kms:ViaService"] == f"secretsmanager.{REGION}.amazonaws.com"
    assert decrypt.context["kms:EncryptionContext:SecretARN"] == secret["ARN"]
    assert decrypt.context["kms:EncryptionContext:SecretVersionId"] == secret["VersionId"]
    assert decrypt.context["kms:CallerAccount"] == ACCOUNT


def test_put_secret_value_needs_a_data_key_for_the_new_version(secret: dict[str, Any], key_arn: str) -> None:
    # Given a new value for the secret, named by its ARN
    # When PutSecretValue is mapped
    put, generate = authorize(
        "secretsmanager", "put_secret_value", SecretId=secret["ARN"], SecretString="{}", ClientRequestToken="v" * 32
    )
    # Then kms:GenerateDataKey for the version being written
    assert (put.action, put.resource) == ("secretsmanager:PutSecretValue", secret["ARN"])
    assert (generate.action, generate.resource) == ("kms:GenerateDataKey", key_arn)
    assert generate.context["kms:EncryptionContext:SecretVersionId"] == "v" * 32


def test_create_secret_is_authorized_on_a_fresh_arn(key_arn: str) -> None:
    # Given a secret that does not exist yet, with tags and a value
    # When CreateSecret is mapped
    create, tag, generate = authorize(
        "secretsmanager",
        "create_secret",
        Name="certificates/new.example.com",
        SecretString="{}",
        KmsKeyId=key_arn,
        Tags=[{"Key": "AccessGroup", "Value": "web"}],
    )
    # Then an ARN with a 6-letter suffix (so `-??????` patterns match), the name and the request's tags
    pattern = rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:certificates/new\.example\.com-[A-Za-z]{{6}}"
    assert re.fullmatch(pattern, create.resource)
    assert create.context["secretsmanager:Name"] == "certificates/new.example.com"
    assert create.context["aws:RequestTag/AccessGroup"] == "web"
    # And the tags need secretsmanager:TagResource too (CreateSecret's API reference), on the same ARN
    assert (tag.action, tag.resource, tag.context["aws:TagKeys"]) == (
        "secretsmanager:TagResource",
        create.resource,
        ["AccessGroup"],
    )
    assert create.context["aws:TagKeys"] == ["AccessGroup"]
    assert (generate.action, generate.context["kms:EncryptionContext:SecretARN"]) == (
        "kms:GenerateDataKey",
        create.resource,
    )


def test_secrets_with_the_default_key_need_no_kms_permission(moto: None) -> None:
    # Given a secret with Secrets Manager's default key (aws/secretsmanager)
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name="plain", SecretString="x")
    # When it is read and written
    # Then only the Secrets Manager actions
    assert [r.action for r in authorize("secretsmanager", "get_secret_value", SecretId="plain")] == [
        "secretsmanager:GetSecretValue"
    ]
    assert len(authorize("secretsmanager", "put_secret_value", SecretId="plain", SecretString="y")) == 1
    assert len(authorize("secretsmanager", "create_secret", Name="other", SecretString="y")) == 1


def test_secret_tagging_describe_and_delete(secret: dict[str, Any]) -> None:
    # Given the tagged secret
    arn = secret["ARN"]
    # When its tagging, description and deletion are mapped
    tag = only(authorize("secretsmanager", "tag_resource", SecretId=arn, Tags=[{"Key": "Owner", "Value": "ops"}]))
    untag = only(authorize("secretsmanager", "untag_resource", SecretId=arn, TagKeys=["AccessGroup"]))
    describe = only(authorize("secretsmanager", "describe_secret", SecretId=arn))
    delete = only(authorize("secretsmanager", "delete_secret", SecretId=arn, ForceDeleteWithoutRecovery=True))
    listing = only(authorize("secretsmanager", "list_secrets"))
    # Then each on the secret, with the request's tags or tag keys and the secret's own tags
    assert (tag.context["aws:RequestTag/Owner"], tag.context["aws:TagKeys"]) == ("ops", ["Owner"])
    assert tag.context["secretsmanager:ResourceTag/AccessGroup"] == "web"
    assert untag.context["aws:TagKeys"] == ["AccessGroup"]
    assert {tag.resource, untag.resource, describe.resource, delete.resource} == {arn}
    assert delete.context["secretsmanager:ForceDeleteWithoutRecovery"] is True
    assert (listing.action, listing.resource) == ("secretsmanager:ListSecrets", "*")


def test_a_secret_moto_lacks_is_authorized_on_the_arn_its_name_gives(moto: None) -> None:
    # Given no secret
    # When one is read by name
    get = only(authorize("secretsmanager", "get_secret_value", SecretId="certificates/none"))
    # Then the ARN without suffix: `-??????` patterns do not match it, as AWS denies unseen secrets
    assert get.resource == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:certificates/none"


# --- KMS ------------------------------------------------------------------------------------------------------------
def test_kms_calls_are_authorized_on_the_key_arn(key_arn: str) -> None:
    # Given the stack key, named by alias, by ARN, and not at all (a ciphertext it made)
    context = {"purpose": "test"}
    # When Encrypt, GenerateDataKey, DescribeKey and Decrypt are mapped
    encrypt = only(authorize("kms", "encrypt", KeyId="alias/certificates", Plaintext=b"x", EncryptionContext=context))
    generate = only(authorize("kms", "generate_data_key", KeyId=key_arn, KeySpec="AES_256"))
    describe = only(authorize("kms", "describe_key", KeyId=key_arn.rsplit("/", 1)[1]))
    blob = boto3.client("kms", region_name=REGION).encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    decrypt = only(authorize("kms", "decrypt", CiphertextBlob=blob, EncryptionContext=context))
    # Then each on the key's ARN, with the encryption context, the caller's account and the alias asked for
    assert [r.resource for r in (encrypt, generate, describe, decrypt)] == [key_arn] * 4
    assert [r.action for r in (encrypt, generate, describe, decrypt)] == [
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "kms:Decrypt",
    ]
    assert encrypt.context["kms:EncryptionContext:purpose"] == "test"
    assert encrypt.context["kms:RequestAlias"] == "alias/certificates"
    assert decrypt.context["kms:EncryptionContext:purpose"] == "test"
    assert decrypt.context["kms:CallerAccount"] == ACCOUNT
    assert decrypt.context["aws:ViaAWSService"] is False
    assert "kms:ViaService" not in decrypt.context


def test_an_alias_that_names_no_key_is_unmapped(moto: None) -> None:
    # Given no such alias
    # When Encrypt names it
    # Then Unmapped: there is no key ARN to authorize on
    with pytest.raises(Unmapped, match="alias/none"):
        authorize("kms", "encrypt", KeyId="alias/none", Plaintext=b"x")


# --- ACM ------------------------------------------------------------------------------------------------------------
def _self_signed() -> tuple[bytes, bytes]:
    certificate, key = self_signed("www.example.com", backdated_days=1)
    return certificate_pem(certificate).encode(), key_pem(key).encode()


@pytest.fixture
def certificate(moto: None) -> tuple[str, bytes, bytes]:
    """An imported certificate tagged with its name: (ARN, certificate PEM, key PEM)."""
    pem, key = _self_signed()
    acm = boto3.client("acm", region_name=REGION)
    arn = acm.import_certificate(Certificate=pem, PrivateKey=key, Tags=[{"Key": "Name", "Value": "www"}])
    return str(arn["CertificateArn"]), pem, key


def test_import_of_a_new_certificate_is_authorized_on_every_certificate(moto: None) -> None:
    # Given a certificate imported for the first time, with tags
    pem, key = _self_signed()
    # When ImportCertificate is mapped
    imported, tagged = authorize(
        "acm", "import_certificate", Certificate=pem, PrivateKey=key, Tags=[{"Key": "Name", "Value": "www"}]
    )
    # Then on certificate/* of the request's region (what AWS's AccessDenied names), with the request's tags and no
    # resource tag; tagging on import is acm:AddTagsToCertificate too (the SAR's operations table), with the same keys
    for request, action in ((imported, "acm:ImportCertificate"), (tagged, "acm:AddTagsToCertificate")):
        assert (request.action, request.resource) == (action, f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/*")
        assert (request.context["aws:RequestTag/Name"], request.context["aws:TagKeys"]) == ("www", ["Name"])
        assert not [key for key in request.context if key.startswith("aws:ResourceTag/")]


def test_import_of_a_new_certificate_without_tags_needs_no_tagging(moto: None) -> None:
    # Given a certificate imported for the first time, without tags
    pem, key = _self_signed()
    # When ImportCertificate is mapped
    imported = only(authorize("acm", "import_certificate", Certificate=pem, PrivateKey=key))
    # Then acm:ImportCertificate only, with no tag keys
    assert (imported.action, "aws:TagKeys" in imported.context) == ("acm:ImportCertificate", False)


def test_reimport_is_authorized_on_the_certificate(certificate: tuple[str, bytes, bytes]) -> None:
    # Given an imported, tagged certificate
    arn, pem, key = certificate
    # When it is imported again over its ARN
    imported = only(authorize("acm", "import_certificate", CertificateArn=arn, Certificate=pem, PrivateKey=key))
    # Then on that certificate, with its tags
    assert (imported.resource, imported.context["aws:ResourceTag/Name"]) == (arn, "www")


@pytest.mark.parametrize(
    ("operation", "extra"),
    [
        ("describe_certificate", {}),
        ("list_tags_for_certificate", {}),
        ("get_certificate", {}),
        ("renew_certificate", {}),
        ("delete_certificate", {}),
        ("export_certificate", {"Passphrase": b"secret-passphrase"}),
    ],
)
def test_certificate_operations_are_authorized_on_the_certificate(
    certificate: tuple[str, bytes, bytes], operation: str, extra: dict[str, Any]
) -> None:
    # Given an imported, tagged certificate
    arn = certificate[0]
    # When an operation on it is mapped
    request = only(authorize("acm", operation, CertificateArn=arn, **extra))
    # Then the action of the operation on the certificate, with its tags
    assert request.action == "acm:" + "".join(part.title() for part in operation.split("_"))
    assert (request.resource, request.context["aws:ResourceTag/Name"]) == (arn, "www")


def test_certificate_tagging_and_listing(certificate: tuple[str, bytes, bytes]) -> None:
    # Given an imported, tagged certificate
    arn = certificate[0]
    # When tags are added and removed, and certificates listed
    add = only(authorize("acm", "add_tags_to_certificate", CertificateArn=arn, Tags=[{"Key": "Env", "Value": "prod"}]))
    remove = only(authorize("acm", "remove_tags_from_certificate", CertificateArn=arn, Tags=[{"Key": "Name"}]))
    listing = only(authorize("acm", "list_certificates"))
    # Then the request's tags or tag keys; ListCertificates on "*"
    assert (add.context["aws:RequestTag/Env"], add.context["aws:TagKeys"]) == ("prod", ["Env"])
    assert remove.context["aws:TagKeys"] == ["Name"]
    assert (listing.action, listing.resource) == ("acm:ListCertificates", "*")
