"""A second AWS account in the sandbox that holds DNS: the central DNS account of a real estate.

moto keeps separate state per account: a session with credentials from assuming a role in account
DNS_ACCOUNT_ID sees that account's Route 53. The roles `acme-dns-01` (write) and `acme-dns-01-read` are made there
from the DNS account's stack as the app synthesizes it (sandbox.iam.stack_roles), so what the sandbox enforces is
what AWS would: exact role ARNs, and the external ID sandbox.iam.stack_roles.DNS_EXTERNAL_ID.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from certlib.dns_account_roles import DNS_ROLE_NAME, dns_read_role_arn

DNS_ACCOUNT_ID = "111111111111"
DNS_ACCOUNT_ZONE = "partner.test"
ROLE_ARN = f"arn:aws:iam::{DNS_ACCOUNT_ID}:role/{DNS_ROLE_NAME}"
READ_ROLE_ARN = dns_read_role_arn(ROLE_ARN)
SETUP_ROLE_ARN = f"arn:aws:iam::{DNS_ACCOUNT_ID}:role/sandbox-operator"


@dataclass(frozen=True)
class DnsAccount:
    role_arn: str  # the write role; the read role is READ_ROLE_ARN
    zone_id: str
    session: boto3.Session  # the operator in the DNS account (unrestricted)


def create_dns_account(session: boto3.Session, endpoint_url: str, prefix: str) -> DnsAccount:
    """The DNS account's zone, made by the sandbox's operator there (the role comes from the template)."""
    credentials = session.client("sts", endpoint_url=endpoint_url).assume_role(
        RoleArn=SETUP_ROLE_ARN, RoleSessionName="sandbox-setup"
    )["Credentials"]
    dns_session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=session.region_name,
    )
    route53 = dns_session.client("route53", endpoint_url=endpoint_url)
    zone = route53.create_hosted_zone(Name=DNS_ACCOUNT_ZONE, CallerReference=f"{prefix}-{DNS_ACCOUNT_ZONE}")
    zone_id = zone["HostedZone"]["Id"].removeprefix("/hostedzone/")
    return DnsAccount(role_arn=ROLE_ARN, zone_id=zone_id, session=dns_session)
