"""Simulated nodes for Run Command, as a client of the sandbox starts them: an EC2 instance in the sandbox's moto
with the tags a distribution targets, whose root file system is `<ssm_nodes_dir>/<instance id>/` (see
sandbox.ssm_agent, which runs the commands there). Used by `make demo` and the distribution tests."""

from __future__ import annotations

import dataclasses
import grp
import hashlib
import json
import os
import pwd
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certlib.config import Config
from certlib.distribution.spec import ProfileError, parse_profiles
from certlib.exceptions import ConfigError
from certlib.resources import ACCESS_GROUP_TAG, DEFAULT_PREFIX, DISTRIBUTION_OPT_IN_TAG, ResourceNames

# A moto AMI: any image moto knows will do, nothing boots.
NODE_IMAGE_ID = "ami-12c6146b"
# The files the distribution document installs in a directory, and their modes (the key readable by its owner only).
INSTALLED_FILES = {"cert.pem": 0o644, "chain.pem": 0o644, "fullchain.pem": 0o644, "privkey.pem": 0o600}


@dataclass(frozen=True)
class Node:
    instance_id: str
    root: Path

    def path(self, absolute: str) -> Path:
        """Where a path on the node (/etc/ssl/x.pem) is on this machine."""
        return self.root / absolute.lstrip("/")


def local_owner() -> str:
    """user:group of this process: what the nodes' files can be given to without being root."""
    return f"{pwd.getpwuid(os.getuid()).pw_name}:{grp.getgrgid(os.getgid()).gr_name}"


def start_nodes(
    ec2: Any,
    iam: Any,
    nodes_dir: Path,
    count: int,
    tags: dict[str, str],
    access_group: str,
    prefix: str = DEFAULT_PREFIX,
    opt_in: bool = True,
) -> list[Node]:
    """`count` instances with these tags, through the sandbox's EC2 and IAM clients; `nodes_dir` is the sandbox's
    `ssm_nodes_dir`. Each runs as the node role of `access_group` (node_instance_profile): it may read the bundles
    whose secret carries that access group, and (unless `opt_in` is false) carries the opt-in tag that lets the
    deployment send it commands, as docs/distribution.md tells users to set their nodes up."""
    if opt_in:
        tags = {**tags, DISTRIBUTION_OPT_IN_TAG: prefix}
    return launch_nodes(ec2, nodes_dir, count, tags, node_instance_profile(iam, access_group, prefix))


def launch_nodes(ec2: Any, nodes_dir: Path, count: int, tags: dict[str, str], profile: str) -> list[Node]:
    """`count` instances with exactly these tags, each with the instance profile `profile`."""
    reservation = ec2.run_instances(
        ImageId=NODE_IMAGE_ID,
        MinCount=count,
        MaxCount=count,
        InstanceType="t3.micro",
        IamInstanceProfile={"Name": profile},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )
    instance_ids = [instance["InstanceId"] for instance in reservation["Instances"]]
    associate_profile(ec2, instance_ids, profile)
    return [Node(instance_id, nodes_dir / instance_id) for instance_id in instance_ids]


def associate_profile(ec2: Any, instance_ids: list[str], profile: str) -> None:
    """moto 5.2.5 associates the profile of a RunInstances with its first instance only (AWS: with each)."""
    associated = {
        association["InstanceId"]
        for association in ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": instance_ids}]
        )["IamInstanceProfileAssociations"]
    }
    for instance_id in instance_ids:
        if instance_id not in associated:
            ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": profile}, InstanceId=instance_id)


def node_instance_profile(iam: Any, access_group: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The instance profile (and role, same name) of the nodes of an access group, made once: trusted by EC2, its
    principal tag certificate-access-group = the group, with the stack's node policy attached. Returns its name."""
    name = node_role_name(prefix, access_group)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    try:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Tags=[{"Key": ACCESS_GROUP_TAG, "Value": access_group}],
        )
    except iam.exceptions.EntityAlreadyExistsException:
        return name
    iam.attach_role_policy(RoleName=name, PolicyArn=_node_policy_arn(iam, prefix))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _node_policy_arn(iam: Any, prefix: str) -> str:
    """The stack's node policy (its name is the stack's; the sandbox made it from the template)."""
    wanted = ResourceNames(prefix).certificate_nodes_policy
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] == wanted:
                return str(policy["Arn"])
    raise LookupError(f"the sandbox has no managed policy {wanted}: is it a sandbox of prefix {prefix!r}?")


def node_role_name(prefix: str, access_group: str) -> str:
    """`<prefix>-node-<group>` within IAM's 64 characters and role-name alphabet (a hash keeps long groups apart)."""
    readable = re.sub(r"[^\w+=,.@-]", "-", access_group)
    name = f"{prefix}-node-{readable}"
    if len(name) <= 64 and readable == access_group:
        return name
    digest = hashlib.sha256(access_group.encode()).hexdigest()[:8]
    return f"{prefix}-node-{readable}"[:55] + f"-{digest}"


def profile_entry(
    directory: str, tag_key: str, tag_value: str, access_group: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An accounts file's distribution profile (its `distribution-profiles` entry): the nodes tagged
    tag_key=tag_value, the four files in `directory` (it may hold {name}), owned by this process's user, readable by
    the nodes of `access_group` (default: the tag value, as the tests' and the demo's nodes are started); `extra`
    adds check_command, reload_command, ... (Python names, written with hyphens)."""
    return {
        "tags": {tag_key: [tag_value]},
        "directory": directory,
        "owner": local_owner(),
        "access-group": access_group or tag_value,
        **{key.replace("_", "-"): value for key, value in extra.items()},
    }


def deploy_distribution_profiles(
    ssm: Any, profiles: Mapping[str, Mapping[str, Any]], prefix: str = DEFAULT_PREFIX
) -> None:
    """What deploying an accounts file with these `distribution-profiles` entries does to the sandbox: they join (or
    replace those of the same name in) the deployed configuration parameter, through the parser `cdk deploy` uses.
    The functions see a new profile name at once; a changed one within CONFIG_CACHE_SECONDS, as on AWS.
    Raises ConfigError for a profile the accounts file would refuse."""
    parameter = ResourceNames(prefix).config_parameter
    config = Config.from_json(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    try:
        added = parse_profiles(dict(profiles))
    except ProfileError as exc:
        raise ConfigError(f"distribution profiles for the sandbox: {exc}") from None
    deployed = dataclasses.replace(config, distribution_profiles={**config.distribution_profiles, **added})
    ssm.put_parameter(Name=parameter, Value=deployed.to_json(), Type="String", Overwrite=True)
