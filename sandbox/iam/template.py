"""The IAM policies of the synthesized stacks (`cdk.out`), resolved to the sandbox's own names, for the sandbox to
enforce: the policies are never copied, they come from the same CDK app `cdk deploy` runs.

`synthesize` runs `app.py` with a context shaped like the sandbox (its accounts file with made-up secrets, its
DNS account, its validation zone, one deployment in the sandbox's account and region) and keeps the cloud assembly
under build/sandbox-stack/<hash of every input>/, so a sandbox start pays for synthesis only when the stack's code
changed. `StackRoles.load` reads the templates; `StackRoles.resolve` turns each role, with its inline and managed
policies, into plain JSON documents, with CloudFormation's intrinsics resolved against the sandbox's resources.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.paths import REPO_ROOT

SYNTH_ROOT = REPO_ROOT / "build" / "sandbox-stack"
# What the stack's policies are made of: a change to any of these synthesizes again.
SYNTH_INPUTS = ("app.py", "cdk.json", "stacks", "certlib", "statemachine", "ssm")
SYNTH_TIMEOUT_SECONDS = 300
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
IAM_ROLE_NAME_LIMIT = 64
_CDK_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")


class TemplateError(RuntimeError):
    """The stack could not be synthesized, or its template holds something the sandbox cannot resolve."""


@dataclass(frozen=True)
class SynthesisInput:
    """The context the sandbox synthesizes the app with; `accounts_yaml` is the accounts file's text."""

    context: dict[str, Any]
    accounts_yaml: str

    def digest(self) -> str:
        hasher = hashlib.sha256()
        hasher.update(json.dumps(self.context, sort_keys=True).encode())
        hasher.update(self.accounts_yaml.encode())
        hasher.update(sys.version.encode())
        for name in SYNTH_INPUTS:
            for path in _files(REPO_ROOT / name):
                hasher.update(str(path.relative_to(REPO_ROOT)).encode())
                hasher.update(path.read_bytes())
        return hasher.hexdigest()[:20]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def synthesize(spec: SynthesisInput, root: Path = SYNTH_ROOT) -> Path:
    """The cloud assembly of the app for `spec` (cached by digest; one synthesis at a time per machine).

    Raises TemplateError with the app's own message when synthesis fails.
    """
    target = root / spec.digest()
    if (target / "manifest.json").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        if (target / "manifest.json").exists():
            return target
        work = Path(tempfile.mkdtemp(prefix="synth-", dir=root))
        try:
            _run_app(spec, work)
            for old in root.iterdir():  # keep one assembly: they hold copies of every function's code
                if old.is_dir() and old != work:
                    shutil.rmtree(old, ignore_errors=True)
            (work / "cdk.out").rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _run_app(spec: SynthesisInput, work: Path) -> None:
    accounts_file = work / "acme-accounts.yaml"
    accounts_file.write_text(spec.accounts_yaml)
    layer = work / "layer" / "python"  # the policies do not depend on the layer's content: an empty one is enough
    layer.mkdir(parents=True)
    context = {**spec.context, "accountsFile": str(accounts_file), "layerDirectory": str(layer.parent)}
    arguments = [sys.executable, str(REPO_ROOT / "app.py")]
    for key, value in context.items():
        arguments += ["-c", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(work / "cdk.out"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    completed = subprocess.run(
        arguments,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0 or not (work / "cdk.out" / "manifest.json").exists():
        raise TemplateError(
            f"synthesizing the stack for the sandbox's IAM policies failed (exit {completed.returncode}): "
            f"{(completed.stderr or completed.stdout)[-3000:]}"
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- reading the templates ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Role:
    """One IAM role of a template, resolved: what the sandbox creates in moto's IAM."""

    logical_id: str
    name: str
    account: str
    trust_policy: dict[str, Any]
    inline_policies: dict[str, dict[str, Any]]
    managed_policy_names: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:iam::{self.account}:role/{self.name}"


@dataclass(frozen=True)
class ManagedPolicy:
    logical_id: str
    name: str
    account: str
    document: dict[str, Any]

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:iam::{self.account}:policy/{self.name}"


@dataclass(frozen=True)
class ResolvedStack:
    """A template's roles and managed policies, and which function and state machine runs as which role."""

    account: str
    roles: dict[str, Role]  # by logical ID
    managed_policies: dict[str, ManagedPolicy]  # by logical ID
    function_roles: dict[str, str]  # function name -> role logical ID
    state_machine_roles: dict[str, str]  # state machine name -> role logical ID

    def role_of_function(self, function_name: str) -> Role:
        """Raises TemplateError when the template has no such function."""
        try:
            return self.roles[self.function_roles[function_name]]
        except KeyError:
            raise TemplateError(f"the synthesized stack has no function named {function_name!r}") from None

    def role_of_state_machine(self, name: str) -> Role:
        try:
            return self.roles[self.state_machine_roles[name]]
        except KeyError:
            raise TemplateError(f"the synthesized stack has no state machine named {name!r}") from None

    def managed_policy_named(self, name: str) -> ManagedPolicy:
        for policy in self.managed_policies.values():
            if policy.name == name:
                return policy
        raise TemplateError(f"the synthesized stack has no managed policy named {name!r}")


def load_templates(assembly: Path) -> dict[str, dict[str, Any]]:
    """{stack name: template} of every stack in the cloud assembly."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    templates = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        name = properties.get("stackName") or artifact.get("displayName")
        templates[str(name)] = json.loads((assembly / properties["templateFile"]).read_text())
    return templates


# Values a template refers to that only the running sandbox knows: {logical ID: {"Ref": ..., "Arn": ...}}.
Physical = Mapping[str, Mapping[str, str]]


class Resolver:
    """CloudFormation's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) against the sandbox.

    `physical` names what the sandbox made for resources whose value is not a pure function of their properties
    (the KMS key, secrets); everything else is computed from the template's own properties, as CloudFormation names
    it. `replacements` swaps made-up values the sandbox synthesized with (zone IDs) for the real ones.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        account: str,
        region: str,
        physical: Physical,
        replacements: Mapping[str, str],
        role_name: Callable[[str], str],
        unnamed: Callable[[str], str],
    ) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.account = account
        self.region = region
        self.physical = physical
        self.replacements = replacements
        self.role_name = role_name
        self.unnamed = unnamed  # the sandbox's name for a resource the template leaves to CloudFormation to name

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, str):
            return self._replace(value)
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(str(argument))
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = argument
                return self._replace(separator.join(str(part) for part in self.resolve(parts)))
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key.startswith("Fn::") or key == "Condition":
                raise TemplateError(f"the sandbox cannot resolve {key} in an IAM policy: {json.dumps(value)[:200]}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _replace(self, text: str) -> str:
        for made_up, real in self.replacements.items():
            text = text.replace(made_up, real)
        return text

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def value_of(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(name)

        return self._replace(re.sub(r"\$\{([^}!]+)\}", value_of, text))

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
        }
        if name in pseudo:
            return pseudo[name]
        return self._attribute(name, "Ref")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        return self._attribute(logical_id, attribute)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        known = self.physical.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        resource = self.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"the template refers to {logical_id}, which it does not define")
        computed = self._computed(logical_id, resource["Type"], resource.get("Properties", {}))
        if attribute not in computed:
            raise TemplateError(
                f"the sandbox does not know the {attribute} of {logical_id} ({resource['Type']}): give it to the "
                f"resolver as a physical value"
            )
        return computed[attribute]

    def _computed(self, logical_id: str, resource_type: str, properties: Mapping[str, Any]) -> dict[str, str]:
        """Ref and attributes as CloudFormation derives them from a resource's properties."""
        prefix = f"arn:{PARTITION}:"
        where = f"{self.region}:{self.account}"

        def name(key: str) -> str:
            return str(self.resolve(properties[key])) if key in properties else self.unnamed(logical_id)

        if resource_type == "AWS::IAM::Role":
            role = self.role_name(logical_id)
            return {"Ref": role, "Arn": f"{prefix}iam::{self.account}:role/{role}"}
        if resource_type == "AWS::IAM::ManagedPolicy":
            policy_arn = f"{prefix}iam::{self.account}:policy/{name('ManagedPolicyName')}"
            return {"Ref": policy_arn, "PolicyArn": policy_arn}
        if resource_type == "AWS::DynamoDB::Table":
            table = name("TableName")
            return {"Ref": table, "Arn": f"{prefix}dynamodb:{where}:table/{table}"}
        if resource_type == "AWS::Lambda::Function":
            function = name("FunctionName")
            return {"Ref": function, "Arn": f"{prefix}lambda:{where}:function:{function}"}
        if resource_type == "AWS::StepFunctions::StateMachine":
            arn = f"{prefix}states:{where}:stateMachine:{name('StateMachineName')}"
            return {"Ref": arn, "Arn": arn, "Name": name("StateMachineName")}
        if resource_type == "AWS::Logs::LogGroup":
            group = name("LogGroupName")
            return {"Ref": group, "Arn": f"{prefix}logs:{where}:log-group:{group}:*"}
        if resource_type == "AWS::SSM::Parameter":
            return {"Ref": name("Name")}
        if resource_type == "AWS::SSM::Document":
            return {"Ref": name("Name")}
        if resource_type == "AWS::SNS::Topic":
            arn = f"{prefix}sns:{where}:{name('TopicName')}"
            return {"Ref": arn, "TopicArn": arn, "TopicName": name("TopicName")}
        if resource_type == "AWS::SQS::Queue":
            queue = name("QueueName")
            return {"Arn": f"{prefix}sqs:{where}:{queue}", "QueueName": queue}
        return {}


def default_name(prefix: str) -> Callable[[str], str]:
    """What the sandbox names a resource the template leaves unnamed (CloudFormation would add the stack name and a
    random suffix): `<prefix>-<logical ID without CDK's hash>`, at most 64 characters (IAM's limit for roles)."""

    def role_name(logical_id: str) -> str:
        return f"{prefix}-{_CDK_HASH_SUFFIX.sub('', logical_id)}"[:IAM_ROLE_NAME_LIMIT]

    return role_name


def resolve_stack(
    template: Mapping[str, Any],
    account: str,
    region: str,
    physical: Physical,
    replacements: Mapping[str, str],
    prefix: str,
) -> ResolvedStack:
    """Every role of the template with its policies, resolved; raises TemplateError for what cannot be resolved."""
    unnamed = default_name(prefix)
    resources: Mapping[str, Any] = template.get("Resources", {})

    def role_name(logical_id: str) -> str:
        given = resources[logical_id].get("Properties", {}).get("RoleName")
        return str(resolver.resolve(given)) if given is not None else unnamed(logical_id)

    resolver = Resolver(template, account, region, physical, replacements, role_name, unnamed)
    inline: dict[str, dict[str, dict[str, Any]]] = {}
    attached: dict[str, list[str]] = {}
    managed: dict[str, ManagedPolicy] = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            for role in properties.get("Roles", []):
                role_id = _referenced_role(role)
                inline.setdefault(role_id, {})[str(properties["PolicyName"])] = resolver.resolve(
                    properties["PolicyDocument"]
                )
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            policy_name = str(resolver.resolve(properties["ManagedPolicyName"]))
            managed[logical_id] = ManagedPolicy(
                logical_id, policy_name, account, resolver.resolve(properties["PolicyDocument"])
            )
            for role in properties.get("Roles", []):
                attached.setdefault(_referenced_role(role), []).append(policy_name)
    roles: dict[str, Role] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource.get("Properties", {})
        policies = dict(inline.get(logical_id, {}))
        for embedded in properties.get("Policies", []):
            policies[str(embedded["PolicyName"])] = resolver.resolve(embedded["PolicyDocument"])
        for arn in resolver.resolve(properties.get("ManagedPolicyArns", [])):
            if ":aws:policy/" in arn:  # AWS managed (e.g. logs for Lambda): nothing the sandbox's APIs check
                continue
            attached.setdefault(logical_id, []).append(arn.rsplit("/", 1)[-1])
        roles[logical_id] = Role(
            logical_id=logical_id,
            name=role_name(logical_id),
            account=account,
            trust_policy=resolver.resolve(properties["AssumeRolePolicyDocument"]),
            inline_policies=policies,
            managed_policy_names=tuple(attached.get(logical_id, [])),
            tags={str(tag["Key"]): str(resolver.resolve(tag["Value"])) for tag in properties.get("Tags", [])},
        )
    return ResolvedStack(
        account=account,
        roles=roles,
        managed_policies=managed,
        function_roles=_runs_as(resources, resolver, "AWS::Lambda::Function", "FunctionName", "Role"),
        state_machine_roles=_runs_as(
            resources, resolver, "AWS::StepFunctions::StateMachine", "StateMachineName", "RoleArn"
        ),
    )


def _referenced_role(reference: Any) -> str:
    if isinstance(reference, dict) and "Ref" in reference:
        return str(reference["Ref"])
    raise TemplateError(f"a policy names its role as {reference!r}; the sandbox expects a Ref to a role of the stack")


def _runs_as(
    resources: Mapping[str, Any], resolver: Resolver, resource_type: str, name_key: str, role_key: str
) -> dict[str, str]:
    found = {}
    for resource in resources.values():
        if resource["Type"] != resource_type:
            continue
        properties = resource.get("Properties", {})
        role = properties.get(role_key)
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise TemplateError(f"a {resource_type} names its role as {role!r}; expected Fn::GetAtt of a role")
        found[str(resolver.resolve(properties[name_key]))] = str(role["Fn::GetAtt"][0])
    return found
