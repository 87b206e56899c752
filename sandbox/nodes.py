"""Simulated nodes for Run Command, as a client of the sandbox starts them: an EC2 instance in the sandbox's moto
with the tags a distribution targets, whose root file system is `<ssm_nodes_dir>/<instance id>/` (see
sandbox.ssm_agent, which runs the commands there). Used by `make demo` and the distribution tests."""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def start_nodes(ec2: Any, nodes_dir: Path, count: int, tags: dict[str, str]) -> list[Node]:
    """`count` instances with these tags, through the sandbox's EC2 client `ec2`; `nodes_dir` is the sandbox's
    `ssm_nodes_dir`."""
    reservation = ec2.run_instances(
        ImageId=NODE_IMAGE_ID,
        MinCount=count,
        MaxCount=count,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )
    return [Node(instance["InstanceId"], nodes_dir / instance["InstanceId"]) for instance in reservation["Instances"]]


def distribution_input(directory: str, tag_key: str, tag_value: str, **extra: Any) -> dict[str, Any]:
    """The lifecycle input's `distribution`: the nodes tagged tag_key=tag_value, the four files in `directory`, owned
    by this process's user; `extra` adds check_command, reload_command, ..."""
    return {
        "tags": {tag_key: [tag_value]},
        "certificate_path": f"{directory}/cert.pem",
        "chain_path": f"{directory}/chain.pem",
        "fullchain_path": f"{directory}/fullchain.pem",
        "key_path": f"{directory}/privkey.pem",
        "owner": local_owner(),
        **extra,
    }
