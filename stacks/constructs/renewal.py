"""Renewals: the five renewal functions, the sweep state machine, its schedule, the revocation check's schedule and
the rule for ACM's expiry event.

The renewal functions start lifecycle executions, so they get the lifecycle's ARN in their environment and
states:StartExecution on it; the lifecycle itself depends on none of this, so there is no dependency cycle.
"""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from certlib.resources import RENEWAL_FUNCTIONS, SWEEP_STEPS
from deploy.functions import renewal_environment
from deploy.paths import RENEWAL_SWEEP_ASL
from deploy.state_machines import Timings, sweep_substitutions
from stacks.constructs.lifecycle_state_machine import FunctionsStateMachine
from stacks.constructs.pipeline_function import FunctionParts, build_functions
from stacks.constructs.renewal_triggers import ExpiryEventRule, RecurringSchedule

DESCRIPTIONS = {
    "find_due_certificates": "Renewal sweep: the certificates whose renew_after has passed",
    "start_renewal": "Renewal sweep: start one certificate's renewal unless running, not due or over budget",
    "handle_expiry_event": "ACM Certificate Approaching Expiration: renew the certificate when it is ours",
    "check_revocations": "Scheduled: find revoked certificates (OCSP, CRL) and replace them at once",
    "revoke_certificate": "certctl revoke: revoke a certificate through ACME and start its replacement",
}


class Renewal(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        parts: FunctionParts,
        lifecycle: sfn.IStateMachine,
        timings: Timings,
        sweep_schedule: str,
        revocation_check_schedule: str,
    ) -> None:
        """`parts` are the lifecycle functions': the renewal functions' add the lifecycle's ARN."""
        super().__init__(scope, construct_id)
        names, key = parts.names, parts.key
        lifecycle_arn = lifecycle.state_machine_arn
        renewal_parts = parts.extended(renewal_environment({}, lifecycle_arn), lifecycle_state_machine=lifecycle_arn)
        self.functions = build_functions(self, RENEWAL_FUNCTIONS, renewal_parts, descriptions=DESCRIPTIONS)
        arns = {step: self.functions[step].function.function_arn for step in SWEEP_STEPS}
        self.sweep = FunctionsStateMachine(
            self,
            "Sweep",
            state_machine_name=names.renewal_sweep_state_machine,
            asl=RENEWAL_SWEEP_ASL,
            substitutions=sweep_substitutions(arns, timings),
            function_arns=[arns[step] for step in SWEEP_STEPS],
            invoke_sid="InvokeSweepFunctions",
            key=key,
        )
        self.sweep_schedule = RecurringSchedule(
            self,
            "SweepSchedule",
            schedule_name=f"{names.prefix}-renewal-sweep",
            description="Start the renewal sweep: one lifecycle execution per certificate that is due",
            expression=sweep_schedule,
            target_arn=self.sweep.state_machine.state_machine_arn,
            action="states:StartExecution",
            target_input={},
        )
        check_revocations = self.functions["check_revocations"].function
        self.revocation_schedule = RecurringSchedule(
            self,
            "RevocationCheckSchedule",
            schedule_name=f"{names.prefix}-revocation-check",
            description="Ask OCSP (or the CRL) about every active certificate and replace the revoked ones",
            expression=revocation_check_schedule,
            target_arn=check_revocations.function_arn,
            action="lambda:InvokeFunction",
            target_input={},
        )
        self.expiry_rule = ExpiryEventRule(
            self,
            "AcmExpiry",
            rule_name=f"{names.prefix}-acm-expiry",
            function=self.functions["handle_expiry_event"].function,
            key=key,
        )
