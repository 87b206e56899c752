"""One account and region: the key, inventory, configuration, the lifecycle functions and their state machine."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from certlib.resources import LIFECYCLE_STEPS, MONITORING_FUNCTIONS, Env
from deploy.functions import function_environment
from deploy.state_machines import Timings
from stacks.constructs.account_configuration import AccountConfiguration
from stacks.constructs.dependencies_layer import DependenciesLayer
from stacks.constructs.distribution import Distribution
from stacks.constructs.encryption import EncryptionKey
from stacks.constructs.inventory import InventoryTable
from stacks.constructs.lifecycle_state_machine import LifecycleStateMachine
from stacks.constructs.monitoring import Monitoring, Notifications
from stacks.constructs.pipeline_function import FunctionParts, build_functions
from stacks.constructs.renewal import Renewal
from stacks.permissions.common import AccessTargets
from stacks.settings import StackSettings


class CertificateStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        region_in_global_names: bool = False,
        **kwargs: Any,
    ) -> None:
        """`region_in_global_names`: this stack's account has stacks in other regions too (context deployments), so
        the two names an account holds once, whatever the region (the nodes' IAM managed policy and the CloudWatch
        dashboard), end in -<region>; else the second region's deploy would fail on the first one's names."""
        super().__init__(
            scope,
            construct_id,
            description="ACME certificates: issue and renew with DNS-01 in Route 53, import into ACM",
            **kwargs,
        )
        names = settings.names
        global_name_suffix = f"-{self.region}" if region_in_global_names else ""
        timings = Timings()
        profiles = settings.config.distribution_profiles.values()
        node_accounts = sorted({account for profile in profiles for account in profile.accounts})
        key = EncryptionKey(self, "Encryption", names=names, node_accounts=node_accounts).key
        table = InventoryTable(self, "Inventory", names=names, key=key).table
        configuration = AccountConfiguration(self, "Configuration", names=names, config=settings.config, key=key)
        layer = DependenciesLayer(self, "Dependencies", directory=settings.layer_directory).layer
        targets = AccessTargets.build(
            self,
            names,
            table_arn=table.table_arn,
            config_parameter_arn=configuration.parameter.parameter_arn,
            key_arn=key.key_arn,
            hosted_zone_ids=settings.hosted_zone_ids,
            dns_role_arns=settings.dns_role_arns,
            validation_zone_ids=settings.validation_zone_ids,
            private_ca_arns=[a.private_ca_arn for a in settings.config.accounts.values() if a.private_ca_arn],
            node_accounts=node_accounts,
        )
        notifications = Notifications(self, "Notifications", names=names, key=key, settings=settings.notifications)
        environment = function_environment(
            names,
            key.key_arn,
            timings.lock_ttl_seconds,
            notification_topic_arn=notifications.topic.topic_arn,
            hosted_zone_ids=settings.writable_zone_ids,
        )
        parts = FunctionParts(names, layer, key, environment, targets)
        self.functions = build_functions(self, LIFECYCLE_STEPS, parts)
        lifecycle = LifecycleStateMachine(
            self,
            "Lifecycle",
            names=names,
            functions={step: part.function for step, part in self.functions.items()},
            key=key,
            timings=timings,
        )
        self.state_machine = lifecycle.state_machine
        self.distribution = Distribution(
            self,
            "Distribution",
            parts=parts,
            lifecycle_functions={step: part.function for step, part in self.functions.items()},
            timings=timings,
            name_suffix=global_name_suffix,
        )
        self.renewal = Renewal(
            self,
            "Renewal",
            parts=parts,
            lifecycle=lifecycle.state_machine,
            timings=timings,
            sweep_schedule=settings.renewal_sweep_schedule,
            revocation_check_schedule=settings.revocation_check_schedule,
        )
        alarm_days = settings.notifications.expiry_alarm_days
        self.monitoring_functions = build_functions(
            self, MONITORING_FUNCTIONS, parts.extended({Env.EXPIRY_ALARM_DAYS: str(alarm_days)})
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            names=names,
            topic=notifications.topic,
            lifecycle=lifecycle.state_machine,
            reporter=self.monitoring_functions["report_expiry"].function,
            stopped_execution_cleaner=self.monitoring_functions["clean_up_stopped_execution"].function,
            dead_letter_queues=[self.renewal.expiry_rule.dead_letters, self.distribution.dead_letters],
            expiry_alarm_days=alarm_days,
            name_suffix=global_name_suffix,
        )
        CfnOutput(
            self,
            "StateMachineArn",
            value=lifecycle.state_machine.state_machine_arn,
            description="Start a certificate lifecycle execution here",
        )
        CfnOutput(self, "InventoryTableName", value=table.table_name, description="One item per certificate")
        CfnOutput(
            self,
            "ConfigParameterName",
            value=configuration.parameter.parameter_name,
            description="The deployed ACME account configuration",
        )
        CfnOutput(self, "KmsKeyArn", value=key.key_arn, description="Encrypts the secrets, the inventory and the logs")
        if node_accounts:  # what each node account's stack trusts (stacks/node_account_stack.py)
            for step, output in (
                ("send_distribution", "SendDistributionRoleArn"),
                ("check_distribution", "CheckDistributionRoleArn"),
            ):
                role = self.functions[step].role
                CfnOutput(self, output, value=role.role_arn, description="Give it to the node accounts' stacks")
        CfnOutput(
            self,
            "RenewalSweepStateMachineArn",
            value=self.renewal.sweep.state_machine.state_machine_arn,
            description='Start a renewal sweep here ({"dry_run": true} only lists what is due)',
        )
        CfnOutput(
            self,
            "NotificationTopicArn",
            value=notifications.topic.topic_arn,
            description="Failures, revocations and alarms; subscribe here (e-mails: notifications.emails)",
        )
        CfnOutput(
            self,
            "DashboardName",
            value=self.monitoring.dashboard.dashboard_name,
            description="CloudWatch dashboard of the certificates",
        )
        CfnOutput(
            self,
            "DistributionStateMachineArn",
            value=self.distribution.state_machine.state_machine_arn,
            description="ACM exportable certificates: certctl export starts executions here",
        )
        CfnOutput(
            self,
            "CertificateNodesPolicyArn",
            value=self.distribution.node_policy.policy.managed_policy_arn,
            description="Attach to the roles of nodes that receive certificates (with their access-group tag)",
        )
