"""Credentials of the sandbox's roles, from the sandbox's STS (moto), for whoever runs as a role in this process: each
Lambda invocation (its function's role) and the state machines' Lambda calls (the machine's role)."""

from __future__ import annotations

import threading
import time
from typing import Any

import botocore.session

from certlib.services import aws_session

REFRESH_MARGIN_SECONDS = 300
SESSION_SECONDS = 3600


class RoleSessions:
    """botocore sessions of assumed roles (what certlib.services.Services takes), kept until shortly before their
    credentials expire.

    `operator` is a boto3 STS client with the operator's credentials (unrestricted in the sandbox).
    """

    def __init__(self, operator_sts: Any, region: str) -> None:
        self._sts = operator_sts
        self._region = region
        self._sessions: dict[tuple[str, str], tuple[float, botocore.session.Session]] = {}
        self._lock = threading.Lock()

    def session(self, role_arn: str, session_name: str) -> botocore.session.Session:
        """A session with the role's credentials (raises botocore's ClientError when STS refuses)."""
        key = (role_arn, session_name)
        # Held across AssumeRole: the invocations that start at once (a sweep's renewals) get one session, so they
        # share one function's Services (sandbox.lambda_routing builds a new one for a new session: a cold start).
        with self._lock:
            cached = self._sessions.get(key)
            if cached is not None and cached[0] > time.time() + REFRESH_MARGIN_SECONDS:
                return cached[1]
            credentials = self._sts.assume_role(
                RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=SESSION_SECONDS
            )["Credentials"]
            session = aws_session(
                self._region, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
            )
            self._sessions[key] = (credentials["Expiration"].timestamp(), session)
            return session
