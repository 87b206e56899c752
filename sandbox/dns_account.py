"""A second AWS account in the sandbox that holds DNS: the central DNS account of a real estate.

moto keeps separate state per account: a session with credentials from assuming a role in account
DNS_ACCOUNT_ID sees that account's Route 53. The role carries the same trust and policy the CDK's DNS-account
stack gives it (certlib.dns_access), so what the sandbox exercises is what AWS would enforce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3

from certlib.dns_access import DNS_ROLE_NAME, dns_function_role_pattern, dns_role_policy, dns_role_trust

DNS_ACCOUNT_ID = "111111111111"
DNS_ACCOUNT_ZONE = "partner.test"
ROLE_ARN = f"arn:aws:iam::{DNS_ACCOUNT_ID}:role/{DNS_ROLE_NAME}"


@dataclass(frozen=True)
class DnsAccount:
    role_arn: str
    zone_id: str
    session: boto3.Session


def create_dns_account(session: boto3.Session, endpoint_url: str, workload_account_id: str, prefix: str) -> DnsAccount:
    credentials = session.client("sts", endpoint_url=endpoint_url).assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="sandbox-setup"
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
    iam = dns_session.client("iam", endpoint_url=endpoint_url)
    iam.create_role(
        RoleName=DNS_ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(dns_role_trust([workload_account_id], dns_function_role_pattern(prefix))),
        Description="DNS-01 challenge records for the ACME certificates of the workload accounts",
    )
    iam.put_role_policy(
        RoleName=DNS_ROLE_NAME, PolicyName="acme-dns-01", PolicyDocument=json.dumps(dns_role_policy([zone_id]))
    )
    return DnsAccount(role_arn=ROLE_ARN, zone_id=zone_id, session=dns_session)
