"""Credentials of the sandbox's roles, from the sandbox's STS (moto), for whoever runs as a role in this process: each
Lambda invocation (its function's role) and the state machines' Lambda calls (the machine's role)."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

REFRESH_MARGIN_SECONDS = 300
SESSION_SECONDS = 3600


class RoleSessions:
    """boto3 sessions of assumed roles, kept until shortly before their credentials expire.

    `operator` is a boto3 STS client with the operator's credentials (unrestricted in the sandbox).
    """

    def __init__(self, operator_sts: Any, region: str) -> None:
        self._sts = operator_sts
        self._region = region
        self._sessions: dict[tuple[str, str], tuple[float, boto3.Session]] = {}
        self._lock = threading.Lock()

    def session(self, role_arn: str, session_name: str) -> boto3.Session:
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
            session = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=self._region,
            )
            self._sessions[key] = (credentials["Expiration"].timestamp(), session)
            return session
