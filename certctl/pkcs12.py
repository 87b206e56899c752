"""`certctl pkcs12-password --name N [--json]`: where the password of a certificate's PKCS#12 file is kept, for
whoever configures the Java or Windows service that opens it. It prints the secret's ARN, the JSON field and the
command that reads it (with the reader's own credentials): never the password, and it reads no secret value itself.

The password is made once per certificate and kept across renewals (certlib/distribution/pkcs12.py): configure the
service once. Exit 1 with one line on stderr when the certificate has no PKCS#12 file.
"""

from __future__ import annotations

import argparse
from typing import Any

from certctl.aws import CliError, Target
from certctl.output import print_json
from certlib.distribution.bundle_fields import PASSWORD_FIELD
from certlib.distribution.spec import profile_of
from certlib.exceptions import InvalidRequest


def add_pkcs12_parser(commands: Any) -> None:
    command = commands.add_parser(
        "pkcs12-password",
        help="where the password of a certificate's PKCS#12 file is kept (its secret and field; never the password)",
    )
    command.add_argument("--name", required=True, help="the certificate's name in the inventory")
    command.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run_pkcs12_password(target: Target, args: argparse.Namespace) -> int:
    """Raises CliError when the certificate is unknown, has no secret yet, or its profile asks for no PKCS#12 file."""
    item = target.inventory.get(args.name)
    if item is None:
        raise CliError(f"no certificate named {args.name!r} in the inventory (certctl status lists them)")
    secret_arn = item.get("secret_arn")
    if not secret_arn:
        raise CliError(f"{args.name!r} has no stored bundle yet: issue it first (certctl issue --name {args.name} ...)")
    try:
        profile = profile_of(item.get("distribution"), target.config().distribution_profiles, args.name)
    except InvalidRequest as exc:
        raise CliError(f"{args.name!r} has no PKCS#12 file: {exc}") from None
    profile = profile.for_certificate(args.name)
    if not profile.pkcs12_path:
        raise CliError(
            f"{args.name!r} has no PKCS#12 file: its distribution profile {profile.name!r} has no 'pkcs12-path' "
            f"(docs/distribution.md, PKCS#12 files)"
        )
    read_with = (
        f"aws secretsmanager get-secret-value --secret-id {secret_arn} --query SecretString --output text "
        f"| python3 -c 'import json, sys; print(json.load(sys.stdin)[\"{PASSWORD_FIELD}\"])'"
    )
    answer = {
        "name": args.name,
        "secret_arn": str(secret_arn),
        "field": PASSWORD_FIELD,
        "pkcs12_path": profile.pkcs12_path,
        "legacy_algorithm": profile.pkcs12_legacy,
        "read_with": read_with,
    }
    if args.json:
        print_json(answer)
        return 0
    print(f"{args.name}: the password of {profile.pkcs12_path} is the field {PASSWORD_FIELD!r} of {secret_arn}")
    print("It stays the same across renewals. Read it (with credentials allowed to read that secret) with:")
    print(f"  {read_with}")
    return 0
