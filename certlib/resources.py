"""The names the Lambda code and the deploy-time code share: functions, environment variables, resources, tags,
metrics and events, in one place.

The CDK stack and the sandbox build what they deploy from these names (with the deploy-time code in deploy/), and
the Lambda code reads them here, so it sees the same names and environment on AWS and on the sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PREFIX = "acme-certs"
SERVICE_NAME = "acme-certificates"
METRICS_NAMESPACE = "AcmeCertificates"

# The inventory table: one item per certificate, keyed by its name.
INVENTORY_PARTITION_KEY = "name"
# The sparse index the renewal sweep queries: every managed certificate has renewal_bucket = RENEWAL_BUCKET and
# its renew_after (ISO 8601, UTC) as the sort key, so "due now" is one Query, never a Scan.
RENEWAL_INDEX = "renewal-due"
RENEWAL_BUCKET_ATTRIBUTE = "renewal_bucket"
RENEWAL_BUCKET = "managed"
RENEW_AFTER_ATTRIBUTE = "renew_after"
# On the secrets we create, so an operator can tell them apart. On ACM, its key carries the deployment instead (below).
MANAGED_BY_TAG = ("managed-by", "acme-certificates")
CERTIFICATE_NAME_TAG = "certificate-name"
# On a certificate bundle's secret when it is distributed: a node may read it only when its role has the same value in
# this principal tag (the stack's certificate-nodes managed policy; docs/distribution.md).
ACCESS_GROUP_TAG = "certificate-access-group"
# On an ACM certificate, set by its owner: this deployment (its resource prefix as the value) may export it. The
# export function's acm:ExportCertificate is conditioned on it, so starting the distribution machine cannot export
# another team's private certificate.
EXPORT_ALLOWED_TAG = "acme-certificates-export"
# On an EC2 instance or managed instance, set by whoever runs it: this deployment (its resource prefix as the value)
# may send it certificates. Distribution targets always include it, and the send_distribution role's
# ssm:SendCommand is conditioned on it (ssm:resourceTag), so no profile can reach a node that did not opt in.
DISTRIBUTION_OPT_IN_TAG = "acme-certificates-distribution"

# SSM's Standard tier holds values up to this size; a larger configuration needs the Advanced tier.
STANDARD_PARAMETER_MAX_BYTES = 4096

# One Lambda per step of the certificate lifecycle; each lives in functions/<step>/handler.py.
LIFECYCLE_STEPS: tuple[str, ...] = (
    "validate_request",
    "ensure_account",
    "create_order",
    "publish_challenges",
    "check_dns_change",
    "answer_challenges",
    "check_order",
    "remove_challenges",
    "finalize_order",
    "store_certificate",
    "issue_from_private_ca",
    "check_private_ca_certificate",
    "import_certificate",
    "send_distribution",
    "check_distribution",
    "record_result",
    "clean_up_failure",
    "switch_to_fallback_account",
)

# Lambdas outside the lifecycle: the renewal sweep's steps, the ACM expiry event, the revocation check and
# `certctl revoke`. They start lifecycle executions, so they get its ARN (RENEWAL_ENVIRONMENT) on top.
RENEWAL_FUNCTIONS: tuple[str, ...] = (
    "find_due_certificates",
    "start_renewal",
    "handle_expiry_event",
    "check_revocations",
    "revoke_certificate",
)
# Lambdas that watch the fleet: report_expiry publishes every certificate's days to expiry (hourly, on a schedule)
# for the expiry alarm and the dashboard; clean_up_stopped_execution cleans up after a lifecycle execution that timed
# out or was aborted (an EventBridge rule on its status), which its own CleanUpFailure never saw.
MONITORING_FUNCTIONS: tuple[str, ...] = ("report_expiry", "clean_up_stopped_execution")
# Lambdas of ACM's exportable certificates: the distribution machine's first and last steps (its middle steps are the
# lifecycle's send_distribution and check_distribution), and the handler of ACM's "Certificate Available" event.
DISTRIBUTION_FUNCTIONS: tuple[str, ...] = ("export_certificate", "record_distribution", "handle_certificate_available")
DISTRIBUTION_STEPS: tuple[str, ...] = (
    "export_certificate",
    "send_distribution",
    "check_distribution",
    "record_distribution",
)
# The renewal sweep machine's steps.
SWEEP_STEPS: tuple[str, ...] = ("find_due_certificates", "start_renewal")
ALL_FUNCTIONS: tuple[str, ...] = LIFECYCLE_STEPS + RENEWAL_FUNCTIONS + MONITORING_FUNCTIONS + DISTRIBUTION_FUNCTIONS

# What we put on EventBridge: our own events, with this source, on this bus ("default": the account's default bus,
# where rules for AWS's own events live too). certlib.notifications builds them; docs/events.md documents them.
EVENT_SOURCE = "acme.certificates"
DEFAULT_EVENT_BUS = "default"
# A certificate under this many days to expiry counts in the CertificatesExpiringSoon metric the expiry alarm watches
# (acme-accounts.yaml `notifications: {expiry-alarm-days: N}` changes it).
DEFAULT_EXPIRY_ALARM_DAYS = 14


class Metric:
    """Our CloudWatch metrics (namespace METRICS_NAMESPACE, written as EMF logs by certlib.observability).

    Every one has the dimensions `service` (SERVICE_NAME) and `Deployment` (the resource prefix), plus its own.
    """

    DAYS_TO_EXPIRY = "DaysToExpiry"  # + CertificateName; by report_expiry (hourly) and record_result
    MIN_DAYS_TO_EXPIRY = "MinDaysToExpiry"  # the fleet's lowest, by report_expiry
    CERTIFICATES_EXPIRING_SOON = "CertificatesExpiringSoon"  # under EXPIRY_ALARM_DAYS, by report_expiry (0 too)
    CERTIFICATES = "Certificates"  # how many report_expiry saw
    ISSUANCE_DURATION = "IssuanceDuration"  # seconds from request to result; + Operation (issue | renew)
    LIFECYCLE_FAILURES = "LifecycleFailures"  # + Step, Error, ProblemType (the CA's, or "none")
    DEPLOYMENT_DIMENSION = "Deployment"
    SERVICE_DIMENSION = "service"


class Env:
    """Environment variables the functions read (validated at cold start by certlib.settings)."""

    INVENTORY_TABLE = "INVENTORY_TABLE"
    CONFIG_PARAMETER = "CONFIG_PARAMETER"
    SECRET_PREFIX = "SECRET_PREFIX"  # noqa: S105 - the variable's name, not a secret
    KMS_KEY_ID = "KMS_KEY_ID"
    LOCK_TTL_SECONDS = "LOCK_TTL_SECONDS"
    LIFECYCLE_STATE_MACHINE_ARN = "LIFECYCLE_STATE_MACHINE_ARN"
    DISTRIBUTION_STATE_MACHINE_ARN = "DISTRIBUTION_STATE_MACHINE_ARN"  # handle_certificate_available starts it
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    NOTIFICATION_TOPIC_ARN = "NOTIFICATION_TOPIC_ARN"
    EXPIRY_ALARM_DAYS = "EXPIRY_ALARM_DAYS"
    RESOURCE_PREFIX = "RESOURCE_PREFIX"  # names the deployment in our events and metrics
    DNS_RESOLVER = "DNS_RESOLVER"  # host[:port] for DNS lookups (the sandbox's DNS server); unset: the system's
    # the zones of our account the functions may write (hostedZoneIds + validationZoneIds), comma-separated; unset: any
    HOSTED_ZONE_IDS = "HOSTED_ZONE_IDS"


@dataclass(frozen=True)
class ResourceNames:
    """Physical names derived from one prefix; the prefix lets several deployments share an account."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", self.prefix):
            raise ValueError(
                f"resource prefix {self.prefix!r} must be 2-31 lowercase letters, digits or '-', starting with a letter"
            )

    @property
    def inventory_table(self) -> str:
        return f"{self.prefix}-inventory"

    @property
    def lifecycle_state_machine(self) -> str:
        return f"{self.prefix}-certificate-lifecycle"

    @property
    def renewal_sweep_state_machine(self) -> str:
        return f"{self.prefix}-renewal-sweep"

    @property
    def config_parameter(self) -> str:
        return f"/{self.prefix}/config"

    @property
    def accounts_parameter(self) -> str:
        """ACME accounts pushed at run time (certlib.pushed_accounts); not in the template."""
        return f"/{self.prefix}/accounts"

    @property
    def secret_prefix(self) -> str:
        return f"{self.prefix}/"

    @property
    def kms_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def event_bus(self) -> str:
        return DEFAULT_EVENT_BUS

    @property
    def notification_topic(self) -> str:
        return f"{self.prefix}-notifications"

    @property
    def notification_kms_alias(self) -> str:
        return f"alias/{self.prefix}-notifications"

    @property
    def dashboard(self) -> str:
        return f"{self.prefix}-certificates"

    @property
    def distribution_state_machine(self) -> str:
        return f"{self.prefix}-certificate-distribution"

    @property
    def distribution_document(self) -> str:
        return f"{self.prefix}-distribute-certificate"

    @property
    def certificate_nodes_policy(self) -> str:
        return f"{self.prefix}-certificate-nodes"

    def function(self, step: str) -> str:
        return f"{self.prefix}-{step.replace('_', '-')}"

    def step_of_function(self, function_name: str) -> str:
        """The step (lifecycle or renewal) a function name (or ARN) belongs to; raises KeyError for a foreign name."""
        short = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        for step in ALL_FUNCTIONS:
            if self.function(step) == short:
                return step
        raise KeyError(function_name)


def account_key_secret_name(secret_prefix: str, alias: str) -> str:
    return f"{secret_prefix}acme-account/{alias}"


def eab_hmac_secret_name(secret_prefix: str, alias: str) -> str:
    return f"{secret_prefix}acme-eab/{alias}"


def certificate_secret_name(secret_prefix: str, name: str) -> str:
    return f"{secret_prefix}certificate/{name}"


def export_passphrase_secret_name(secret_prefix: str, name: str) -> str:
    """The passphrase ACM encrypts an exported key with, kept apart from the bundle."""
    return f"{secret_prefix}export-passphrase/{name}"


def acm_ownership_tags(deployment: str, name: str) -> dict[str, str]:
    """The tags of a certificate that deployment `deployment` (its resource prefix) imported into ACM for `name`.

    MANAGED_BY_TAG's key with the deployment as its value, not MANAGED_BY_TAG's value: two deployments in one account
    must not re-import into each other's certificates. import_certificate re-imports only into a certificate carrying
    both tags (certlib.adapters.acm), and its role may re-import only into one carrying the first
    (stacks/permissions/lifecycle.py).
    """
    return {MANAGED_BY_TAG[0]: deployment, CERTIFICATE_NAME_TAG: name}


def camel_case(step: str) -> str:
    """check_order -> CheckOrder: the name of a step's state, construct and substitution."""
    return "".join(part.capitalize() for part in step.split("_"))
