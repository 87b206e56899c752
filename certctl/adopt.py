"""`certctl adopt`: take over certificates already imported into ACM, without touching what they are attached to.

    certctl adopt --certificate-arn ARN [--certificate-arn ARN ...] [--name N] [--account ALIAS] [--key-type T]
    certctl adopt --discover [--region R ...] [--account ALIAS] [--dry-run]

Each adopted certificate is tagged as this deployment's and recorded in the inventory as a certificate's first version
(certlib.adoption): from then on the sweep, `certctl status`, the revocation check and ACM's expiry events treat it as
one issued here, and its renewal issues through the account's CA and re-imports into the same ARN. `--discover` lists
every imported certificate of the regions that this deployment does not manage yet, each named after its first name
(the same names in several regions make one certificate), and adopts them unless `--dry-run`. Runs with the operator's
credentials. Exit 0 when everything listed was adopted (or could be, with --dry-run), 1 when something was refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from certctl import executions
from certctl.aws import CliError, Target
from certctl.output import print_json
from certlib.adapters.acm import ACM_KEY_ALGORITHMS
from certlib.adapters.stepfunctions import lifecycle_input
from certlib.adoption import AcmCertificate, adopt, default_name, plan_adoption, read_acm_certificate, region_of
from certlib.exceptions import InvalidRequest
from certlib.key_types import KEY_TYPES
from certlib.services import Services
from certlib.settings import Settings

EXIT_REFUSED = 1
UNUSED_LOCK_TTL_SECONDS = 900  # Services wants one; adoption takes its own lock (certlib.adoption)
# Every key type ACM lists (it lists RSA_2048 only, unless asked): those we cannot re-import are shown, and refused.
ACM_LISTED_KEY_TYPES = ["RSA_1024", *ACM_KEY_ALGORITHMS.values()]


def add_adopt_parser(commands: Any) -> None:
    adopt_parser = commands.add_parser(
        "adopt", help="take over certificates already imported into ACM: renewals re-import into the same ARN"
    )
    adopt_parser.add_argument(
        "--certificate-arn",
        dest="certificate_arns",
        action="append",
        help="an imported ACM certificate (repeatable: one per region, the same names)",
    )
    adopt_parser.add_argument("--discover", action="store_true", help="every imported certificate not managed yet")
    adopt_parser.add_argument("--region", dest="regions", action="append", help="--discover: a region (repeatable)")
    adopt_parser.add_argument("--name", help="its name in the inventory (default: its first DNS name)")
    adopt_parser.add_argument("--account", help="the ACME account that renews it (default: default-account)")
    adopt_parser.add_argument("--key-type", choices=KEY_TYPES, help="default and only choice: the certificate's own")
    adopt_parser.add_argument("--dry-run", action="store_true", help="only check and list; write nothing")
    adopt_parser.add_argument(
        "--dns-resolver", help="host:port of the DNS server that answers for _acme-challenge CNAMEs (default: system)"
    )
    adopt_parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run_adopt(target: Target, args: argparse.Namespace) -> int:
    if bool(args.certificate_arns) == bool(args.discover):
        raise CliError("give --certificate-arn ARN (repeatable, one per region) or --discover, not both")
    if args.discover and (args.name or args.key_type):
        raise CliError(
            "--discover names each certificate after its first name and keeps its key type: leave out "
            "--name and --key-type, or adopt that one with --certificate-arn"
        )
    if args.certificate_arns and args.regions:
        raise CliError("--region is for --discover; a certificate's region is in its ARN")
    services = operator_services(target, args.dns_resolver)
    if args.certificate_arns:
        certificates = [
            read_acm_certificate(target.client("acm", region_of(arn)), arn) for arn in args.certificate_arns
        ]
        groups = {args.name or default_name(certificates[0]): certificates}
    else:
        groups = _discover(target, services, args.regions or [target.session.region_name or ""])
    report = _adopt_groups(target, services, groups, args)
    if args.certificate_arns and report["refused"]:  # one certificate: one line on stderr
        raise CliError(report["refused"][0]["reason"])
    if args.json:
        print_json(report)
    else:
        _print(report)
    return EXIT_REFUSED if report["refused"] else 0


def operator_services(target: Target, dns_resolver: str | None) -> Services:
    """The pipeline's adapters with the operator's session (and the endpoint certctl was given)."""
    names = target.names
    settings = Settings(
        inventory_table=names.inventory_table,
        config_parameter=names.config_parameter,
        secret_prefix=names.secret_prefix,
        kms_key_id=names.kms_alias,
        lock_ttl_seconds=UNUSED_LOCK_TTL_SECONDS,
        resource_prefix=names.prefix,
        dns_resolver=dns_resolver,
    )
    # The operator's botocore session (the same credentials, refreshed alike); every client, those of a DNS account's
    # role included, goes to certctl's endpoint.
    return Services(settings, target.session._session, endpoint_url=target.endpoint_url)


def _discover(target: Target, services: Services, regions: list[str]) -> dict[str, list[AcmCertificate]]:
    """{name: [its certificate per region]} of the imported certificates not in this deployment's inventory."""
    groups: dict[str, list[AcmCertificate]] = {}
    for region in dict.fromkeys(regions):
        client = target.client("acm", region)
        pages = client.get_paginator("list_certificates").paginate(Includes={"keyTypes": ACM_LISTED_KEY_TYPES})
        for page in pages:
            for summary in page["CertificateSummaryList"]:
                arn = summary["CertificateArn"]
                if services.inventory.name_for_arn(arn) is not None:
                    continue  # managed already
                certificate = read_acm_certificate(client, arn)
                if certificate.kind == "IMPORTED":
                    groups.setdefault(default_name(certificate), []).append(certificate)
    return groups


def _adopt_groups(
    target: Target, services: Services, groups: dict[str, list[AcmCertificate]], args: argparse.Namespace
) -> dict[str, Any]:
    config = target.config()
    now = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {"dry_run": bool(args.dry_run), "adopted": [], "already_adopted": [], "refused": []}
    if args.dry_run:
        report["to_adopt"] = report.pop("adopted")
    for name, certificates in sorted(groups.items()):
        try:
            if args.discover and len({c.region for c in certificates}) != len(certificates):
                arns = ", ".join(c.arn for c in certificates)
                raise InvalidRequest(
                    f"several certificates would be named {name!r} in one region ({arns}): adopt each with "
                    f"`certctl adopt --certificate-arn ARN --name N`"
                )
            adoption = plan_adoption(certificates, name, args.account, args.key_type, config, services, now)
        except InvalidRequest as exc:
            for certificate in certificates:
                report["refused"].append({"name": name, "certificate_arn": certificate.arn, "reason": str(exc)})
            continue
        if adoption.done_already:
            report["already_adopted"].append(adoption.summary())
        elif args.dry_run:
            report["to_adopt"].append(adoption.summary())
        else:
            entry = adopt(adoption, services)
            if adoption.expired:  # renewed at once: its renew_after is now (the next sweep would take it too)
                item = services.inventory.get(name) or {}
                entry["renewal_execution_arn"] = executions.start(target, lifecycle_input(item))
            report["adopted"].append(entry)
    return report


def _print(report: dict[str, Any]) -> None:
    verb = "would adopt" if report["dry_run"] else "adopted"
    for entry in report.get("to_adopt") or report.get("adopted") or []:
        used = ", ".join(entry["in_use_by"]) or "nothing"
        arns = " ".join(entry["certificate_arns"].values())
        print(
            f"{verb} {entry['name']}: {', '.join(entry['domains'])} ({entry['key_type']}), expires "
            f"{entry['not_after']}, in use by {used}: {arns}"
        )
        if entry.get("renewal_execution_arn"):
            print(f"  renewal execution {entry['renewal_execution_arn']}")
        if entry["expired"]:
            print(f"  warning: {entry['name']} has expired; it is renewed at once (renew_after {entry['renew_after']})")
        else:
            print(f"  renewed from {entry['renew_after']} through account {entry['account']}, into the same ARN")
    for entry in report["already_adopted"]:
        print(f"{entry['name']}: adopted already; nothing changed")
    for entry in report["refused"]:
        print(f"refused {entry['certificate_arn']}: {entry['reason']}", file=sys.stderr)
    if not any(report.get(key) for key in ("to_adopt", "adopted", "already_adopted", "refused")):
        print("nothing to adopt: every imported certificate is managed by this deployment")
