"""The one place that says which AWS errors are transient (retried by the state machine) and which are not."""

from __future__ import annotations

from typing import NoReturn

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from certlib.exceptions import AwsError as AwsError  # raised here, defined with every other error
from certlib.exceptions import TransientError

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "PriorRequestNotComplete",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServiceError",
        "InternalServerError",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        # a service's KMS key throttled (SNS, DynamoDB and others name it so): it passes with time, as throttling does
        "KMSThrottlingException",
    }
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code", "") in TRANSIENT_CODES or status >= 500
    return False


def raise_classified(exc: BaseException, doing: str) -> NoReturn:
    """Re-raise an AWS SDK error as TransientError or AwsError, saying what we were doing."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        message = f"{doing}: {error.get('Code', 'Error')}: {error.get('Message', '')}"
    else:
        message = f"{doing}: {exc}"
    if is_transient(exc):
        raise TransientError(message) from exc
    raise AwsError(message) from exc
