"""The state machines call Lambda as their own role, as on AWS.

moto's Step Functions interpreter (pinned; an internal name) makes its Lambda client with fixed made-up credentials
(`boto_client_for`), whatever role the state machine has; it is handed the role as `state_credentials.role_arn`.
`call_lambda_as_state_machine_role` gives that client the role's credentials from the sandbox's STS instead, so the
sandbox's endpoint authorizes `lambda:InvokeFunction` against the state machine's policies.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from sandbox.iam.sessions import RoleSessions


def call_lambda_as_state_machine_role(roles: RoleSessions) -> None:
    """Patch the interpreter for this whole process."""
    # One client per role session, region and service (botocore clients are thread-safe): moto asks for one per
    # task, and building it (loading the service model) was a fifth of the sandbox's time in a sweep (issue 16).
    clients: dict[tuple[str, str, str], tuple[botocore.session.Session, BaseClient]] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            raise RuntimeError(f"the state machine's {service} call carries no role: the sandbox cannot authorize it")
        session = roles.session(str(role_arn), "states")
        key = (str(role_arn), region, service)
        with lock:
            held = clients.get(key)
            if held is None or held[0] is not session:  # new credentials: a new client
                held = (session, new_client(session, region, service))
                clients[key] = held
            return held[1]

    def new_client(session: botocore.session.Session, region: str, service: str) -> BaseClient:
        return session.create_client(
            service,
            region_name=region,
            endpoint_url=f"http://localhost:{moto_server_port()}",
            config=Config(
                parameter_validation=False,
                max_pool_connections=50,  # one client for every execution's tasks at once
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            ),
        )

    lambda_eval_utils.boto_client_for = boto_client_for  # type: ignore[attr-defined]
