"""`certctl adopt` usage mistakes: one line on stderr, exit 1, before anything is asked of AWS."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from certctl.cli import main
from certlib.adoption import AcmCertificate, default_name, region_of
from certlib.exceptions import InvalidRequest
from tests.certificates import issued

ARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give --certificate-arn ARN (repeatable, one per region) or --discover, not both"),
        (["--discover", "--certificate-arn", ARN], "or --discover, not both"),
        (["--discover", "--name", "web"], "--discover names each certificate after its first name"),
        (["--certificate-arn", ARN, "--region", "eu-west-1"], "--region is for --discover"),
        (["--certificate-arn", "arn:aws:iam::111122223333:role/x"], "is not an ACM certificate ARN"),
    ],
)
def test_usage_mistakes_are_one_clear_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When certctl adopt is called wrongly (the endpoint is unreachable: nothing may be asked of it)
    code = main(["--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "adopt", *arguments])

    # Then it exits 1 with one line saying what is wrong
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_region_and_default_name() -> None:
    assert region_of(ARN) == "eu-west-1"
    key = ec.generate_private_key(ec.SECP256R1())
    wildcard = issued("*.example.com", key, "CA", key, ca=False)
    certificate = AcmCertificate(ARN, "eu-west-1", "IMPORTED", "EC_prime256v1", [], {}, wildcard)
    assert (default_name(certificate), certificate.key_type) == ("wildcard.example.com", "ec256")
    with pytest.raises(InvalidRequest, match="not an ACM certificate ARN"):
        region_of("arn:aws:acm:eu-west-1:111122223333:key/0f1e2d3c")
