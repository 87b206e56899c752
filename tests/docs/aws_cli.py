"""AWS CLI command lines from the docs, read with botocore's service models (the ones the AWS CLI is built from): the
service and operation exist, every option is a parameter of the operation or a global option, the required ones are
given, and a --query is valid JMESPath. Offline: nothing is sent."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import botocore.exceptions
import botocore.session
import jmespath
from botocore import xform_name
from botocore.model import ServiceModel

# Global options of the AWS CLI that take a value, and those that do not.
GLOBAL_OPTIONS = ("--query", "--output", "--region", "--profile", "--endpoint-url", "--color", "--cli-read-timeout")
GLOBAL_FLAGS = ("--no-cli-pager", "--debug", "--no-paginate", "--no-verify-ssl", "--no-sign-request")
# The CLI's service command where it is not botocore's service name.
SERVICE_NAMES = {"s3api": "s3"}


@dataclass(frozen=True)
class AwsCall:
    service: str  # botocore's name
    operation: str  # the API's name (StartExecution)
    parameters: dict[str, str]  # API member name -> the value as written
    global_options: dict[str, str]


@cache
def _service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def parse_aws_command(argv: list[str]) -> AwsCall:
    """The call an `aws SERVICE OPERATION --option value ...` line makes. Raises ValueError saying what is wrong."""
    if len(argv) < 3 or argv[0] != "aws":
        raise ValueError(f"not an `aws SERVICE OPERATION ...` command: {argv}")
    service = SERVICE_NAMES.get(argv[1], argv[1])
    try:
        model = _service_model(service)
    except botocore.exceptions.UnknownServiceError:
        raise ValueError(f"unknown AWS CLI service {argv[1]!r}") from None
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if argv[2] not in operations:
        raise ValueError(f"aws {argv[1]}: no operation {argv[2]!r}")
    operation = model.operation_model(operations[argv[2]])
    shape = operation.input_shape
    members = {xform_name(name, "-"): name for name in (shape.members if shape else {})}
    parameters: dict[str, str] = {}
    global_options: dict[str, str] = {}
    words = iter(argv[3:])
    for word in words:
        if word in GLOBAL_FLAGS:
            global_options[word] = ""
            continue
        if not word.startswith("--"):
            raise ValueError(f"aws {argv[1]} {argv[2]}: {word!r} is not an option")
        value = next(words, None)
        if value is None or value.startswith("--"):
            raise ValueError(f"aws {argv[1]} {argv[2]}: {word} needs a value")
        if word in GLOBAL_OPTIONS:
            global_options[word] = value
        elif word[2:] in members:
            parameters[members[word[2:]]] = value
        else:
            raise ValueError(f"aws {argv[1]} {argv[2]}: unknown option {word} (known: {', '.join(sorted(members))})")
    missing = sorted(
        xform_name(name, "-") for name in (shape.required_members if shape else []) if name not in parameters
    )
    if missing:
        raise ValueError(f"aws {argv[1]} {argv[2]}: missing --{', --'.join(missing)}")
    if "--query" in global_options:
        jmespath.compile(global_options["--query"])  # raises jmespath's ParseError
    return AwsCall(service, operation.name, parameters, global_options)
