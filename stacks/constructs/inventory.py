"""The inventory table: one item per certificate, keyed by its name, and the sparse index of renewal dates."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
    ResourceNames,
)


class InventoryTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: ResourceNames, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        # RETAIN: the table is the record of every certificate (ACM ARNs per region, renewal dates).
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=names.inventory_table,
            partition_key=dynamodb.Attribute(name=INVENTORY_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Sparse: only certificate items carry the bucket, so the sweep's Query reads due certificates and nothing
        # else; KEYS_ONLY because start_renewal reads each item itself (sandbox/provision.py builds the same).
        self.table.add_global_secondary_index(
            index_name=RENEWAL_INDEX,
            partition_key=dynamodb.Attribute(name=RENEWAL_BUCKET_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=RENEW_AFTER_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
