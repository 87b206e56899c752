"""Run the sandbox in the foreground until SIGTERM or SIGINT; write `sandbox.json` once every part answers."""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from certlib.resources import ResourceNames
from sandbox import INFO_FILE_NAME
from sandbox.acm_renewal import install as install_acm_renewal
from sandbox.aws import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, REGION, MotoServer, aws_environment
from sandbox.dns_account import DNS_ACCOUNT_ID
from sandbox.dns_account import SETUP_ROLE_ARN as DNS_SETUP_ROLE_ARN
from sandbox.dns_overrides import OVERRIDES_FILE_NAME, DnsOverrides
from sandbox.dns_server import DnsServer, Route53Resolver
from sandbox.faults.call_log import FAULTS_LOG_FILE_NAME
from sandbox.faults.injector import install as install_faults
from sandbox.faults.plan import FAULTS_FILE_NAME
from sandbox.iam.enforcement import Usage
from sandbox.iam.sessions import RoleSessions
from sandbox.iam.state_machines import call_lambda_as_state_machine_role
from sandbox.iam.template import synthesize
from sandbox.lambda_routing import HandlerRegistry, route_lambda_invocations
from sandbox.moto_fixes import apply_moto_fixes
from sandbox.ocsp_responder import OcspResponder
from sandbox.pebble import ExternalAccountKey, find_pebble, start_pebble
from sandbox.provision import SANDBOX_ACCOUNT_ALIAS, AcmeAccount, provision, sandbox_synthesis_input
from sandbox.ssm_agent import install as install_ssm_agent
from sandbox.tls import write_tls_files
from sandbox.zone_records import InProcessRoute53Records

LOG = logging.getLogger("sandbox")
# What the roles were allowed and denied, written when the sandbox stops (sandbox.iam.report reads it); a copy goes to
# $SANDBOX_IAM_USAGE_DIR when set (`make test` collects every sandbox's there).
IAM_USAGE_FILE_NAME = "iam-usage.json"
IAM_USAGE_DIR_VARIABLE = "SANDBOX_IAM_USAGE_DIR"
# Variables of the caller's shell that would send the handlers' boto3 clients somewhere else than moto.
FOREIGN_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE", "AWS_ROLE_ARN")
HANDLER_RUNTIME_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}
# CPython's full garbage collections walk every object this process holds, moto's DynamoDB items among them: 0.45-0.5 s
# each with the bench's 50,000 inventory items (880,000 objects), one every 3-6 s while a sweep's renewals ran
# (issue 16 goal 6): a pause that grows with the inventory, which AWS does not have. Ten times fewer full collections
# (CPython's default third threshold is 10); the young generations are collected as before, and the process held
# about 3% more memory after 400 renewals.
FULL_COLLECTION_THRESHOLD = 100


class StopRequested(BaseException):
    """SIGTERM or SIGINT arrived: unwind and stop every part (BaseException so no `except Exception` eats it)."""


def serve(state_dir: Path, prefix: str, log_file: Path | None, iam: bool = True) -> int:
    """Start everything, write the info file, wait for a signal, stop everything. Returns the exit code."""
    started = time.monotonic()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state_dir / ".gitignore").write_text("# keys and logs of a local sandbox: never commit them\n*\n")
    info_path = state_dir / INFO_FILE_NAME
    info_path.unlink(missing_ok=True)
    if log_file is not None:
        log_file = log_file.resolve()
        _redirect_output(log_file)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for chatty in ("werkzeug", "botocore"):  # a line per moto request or per client drowns the handlers' lines
        logging.getLogger(chatty).setLevel(logging.WARNING)
    wake_up = _signal_wake_up_pipe()
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    for name in FOREIGN_AWS_VARIABLES:
        os.environ.pop(name, None)
    try:
        with contextlib.ExitStack() as running:
            info = _start(state_dir, ResourceNames(prefix), log_file, running, iam)
            info["startup_seconds"] = round(time.monotonic() - started, 2)
            _write_json(info_path, info)
            running.callback(info_path.unlink, missing_ok=True)
            LOG.info("sandbox ready in %.2f s: %s", info["startup_seconds"], info_path)
            while True:
                os.read(wake_up, 1)  # returns once a signal arrived; its handler then raises StopRequested
    except StopRequested:
        LOG.info("sandbox stopped")
        return 0
    except Exception as exc:
        LOG.error("the sandbox could not start", exc_info=True)
        LOG.error("the sandbox could not start: %s: %s", type(exc).__name__, exc)
        return 1


def _start(
    state_dir: Path, names: ResourceNames, log_file: Path | None, running: contextlib.ExitStack, iam: bool
) -> dict[str, Any]:
    """Start moto, the DNS server and Pebble (each stopped by `running`), and provision the resources.

    With `iam`, every request signed by a role is authorized as AWS would (sandbox.iam): the functions, the state
    machines and the nodes each act as their own role.
    """
    pebble_executable = find_pebble()
    # the template's roles and policies: synthesis (when not cached) runs while the rest starts
    threading.Thread(target=_synthesize_quietly, args=(names,), name="synthesis", daemon=True).start()
    tls = write_tls_files(state_dir)
    moto = MotoServer(iam=iam, operator_roles=frozenset({DNS_SETUP_ROLE_ARN}))
    running.callback(moto.stop)
    moto.start()
    running.callback(_keep_usage, moto.enforcement.usage, state_dir)
    os.environ.update(aws_environment(moto.endpoint_url))
    session = moto.session()
    roles = RoleSessions(session.client("sts", endpoint_url=moto.endpoint_url), REGION) if iam else None
    faults = install_faults(state_dir)
    route_lambda_invocations(
        HandlerRegistry(names), around=faults.invoking, roles=roles, acme_transport=faults.acme_transport
    )
    if roles is not None:
        call_lambda_as_state_machine_role(roles)
    apply_moto_fixes()
    # Run Command runs the distribution document (only) on simulated nodes
    ssm_nodes = install_ssm_agent(state_dir, moto.endpoint_url, frozenset({names.distribution_document}), roles)
    install_acm_renewal()  # RenewCertificate of exportable certificates
    route53_records = InProcessRoute53Records(
        session.client("sts", endpoint_url=moto.endpoint_url).get_caller_identity()["Account"]
    )
    overrides = DnsOverrides(state_dir / OVERRIDES_FILE_NAME)
    dns = DnsServer(Route53Resolver(route53_records, overrides))
    running.callback(dns.stop)
    dns.start()
    account_key, backup_key = ExternalAccountKey.generate(), ExternalAccountKey.generate()
    ocsp = OcspResponder()
    pebble = start_pebble(
        pebble_executable, state_dir, tls, dns.port, account_key, os.environ, ocsp.url, more_account_keys=[backup_key]
    )
    running.callback(pebble.stop)
    pebble.restart_when_it_exits()  # a test kills it to restart the CA (tests/faults/test_ca_restart.py)
    ocsp.attach(pebble.management_url, str(tls.ca_bundle))
    ocsp.start()
    running.callback(ocsp.stop)
    account = AcmeAccount(pebble.directory_url, account_key, tls.ca_bundle.read_text(), backup_key)
    provisioned = provision(session, moto.endpoint_url, names, account, dns.address)
    route53_records.add_account_id(DNS_ACCOUNT_ID)
    # The handlers run in this process: give it the environment each Lambda gets (read when they are imported).
    os.environ.update({**provisioned.function_environment, **HANDLER_RUNTIME_ENVIRONMENT})
    return {
        "aws_endpoint_url": moto.endpoint_url,
        "region": REGION,
        "account_id": provisioned.account_id,
        "aws_access_key_id": FAKE_ACCESS_KEY_ID,
        "aws_secret_access_key": FAKE_SECRET_ACCESS_KEY,
        "acme_directory_url": pebble.directory_url,
        "pebble_management_url": pebble.management_url,
        "dns_server": dns.address,
        "ocsp_responder_url": ocsp.url,
        "dns_overrides_file": str(overrides.path),
        "faults_file": str(state_dir / FAULTS_FILE_NAME),
        "faults_log_file": str(state_dir / FAULTS_LOG_FILE_NAME),
        "ssm_nodes_dir": str(ssm_nodes.nodes_dir),
        "ca_bundle": str(tls.ca_bundle),
        "acme_account_alias": SANDBOX_ACCOUNT_ALIAS,
        # every alias the sandbox configures (its default first), read back from the deployed configuration
        "acme_account_aliases": provisioned.account_aliases,
        "private_ca_arn": provisioned.private_ca_arn,  # the CA of the account alias sandbox-pca
        "iam_enforced": iam,
        "iam_usage_file": str(state_dir / IAM_USAGE_FILE_NAME),
        "hosted_zones": provisioned.hosted_zone_ids,
        "dns_account": {
            "role_arn": provisioned.dns_account.role_arn,
            "zone_id": provisioned.dns_account.zone_id,
            # the sandbox's own administrator there (unrestricted, as the operator is here): to inspect that account
            "operator_role_arn": DNS_SETUP_ROLE_ARN,
        },
        "state_machine_arn": provisioned.state_machine_arn,
        "sweep_state_machine_arn": provisioned.sweep_state_machine_arn,
        "resource_prefix": names.prefix,
        "pid": os.getpid(),
        "pebble_pid": pebble.process.pid,
        "state_dir": str(state_dir),
        "log_file": str(log_file) if log_file is not None else None,
        "pebble_log_file": str(pebble.log_path),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _synthesize_quietly(names: ResourceNames) -> None:
    """Synthesize ahead of provisioning; a failure here is raised again, with its message, by provisioning."""
    try:
        synthesize(sandbox_synthesis_input(names))
    except Exception:
        LOG.debug("early synthesis failed; provisioning will say why", exc_info=True)


def _keep_usage(usage: Usage, state_dir: Path) -> None:
    document = usage.to_json()
    _write_json(state_dir / IAM_USAGE_FILE_NAME, document)
    collected = os.environ.get(IAM_USAGE_DIR_VARIABLE)
    if collected:
        Path(collected).mkdir(parents=True, exist_ok=True)
        _write_json(Path(collected) / f"{state_dir.name}-{os.getpid()}.json", document)


def _signal_wake_up_pipe() -> int:
    """A pipe the C-level signal handler writes to, whichever thread the signal lands on; returns its read end.

    `signal.pause()` in the main thread misses a signal the kernel hands to one of moto's threads: reading this
    pipe instead wakes the main thread, which then runs the Python handler.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end)
    return read_end


def _request_stop(signal_number: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not interrupt the cleanup
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    LOG.info("sandbox stopping (%s)", signal.Signals(signal_number).name)
    raise StopRequested


def _redirect_output(log_file: Path) -> None:
    """Send this process's stdout and stderr (handlers' prints, logging, Powertools) to the log file, line by line."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a reader sees no file or the whole file."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    partial.replace(path)
