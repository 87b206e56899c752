"""ACM: import a certificate, or re-import it to the same ARN on renewal, after the checks ACM itself makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import ImportRefused
from certlib.keys import check_bundle, key_type_of, load_private_key, split_pem_chain, to_pem
from certlib.resources import CERTIFICATE_NAME_TAG, MANAGED_BY_TAG

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient

# ACM's KeyAlgorithm names for our key types.
ACM_KEY_ALGORITHMS = {
    "rsa2048": "RSA_2048",
    "rsa3072": "RSA_3072",
    "rsa4096": "RSA_4096",
    "ec256": "EC_prime256v1",
    "ec384": "EC_secp384r1",
}


class Acm:
    def __init__(self, client: ACMClient) -> None:
        self._client = client

    def key_algorithm(self, certificate_arn: str) -> str | None:
        """The KeyAlgorithm of an ACM certificate; None when it no longer exists."""
        try:
            return self._client.describe_certificate(CertificateArn=certificate_arn)["Certificate"]["KeyAlgorithm"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise_classified(exc, f"describing {certificate_arn}")

    def import_certificate(
        self, name: str, certificate_pem: str, chain_pem: str, private_key_pem: str, existing_arn: str | None
    ) -> str:
        """Import (or re-import to `existing_arn`) after checking key, certificate and chain; returns the ARN.

        A re-import that would change the key type is refused (ACM refuses it too). When the certificate behind
        `existing_arn` was deleted, a new one is imported. Raises CertificateCheckFailed, ImportRefused,
        TransientError or AwsError.
        """
        certificate, *rest = split_pem_chain(certificate_pem)
        chain = split_pem_chain(chain_pem)
        key = load_private_key(private_key_pem)
        check_bundle(certificate, [*rest, *chain], key)
        new_algorithm = ACM_KEY_ALGORITHMS.get(key_type_of(key))
        arn = existing_arn
        if arn is not None:
            current_algorithm = self.key_algorithm(arn)
            if current_algorithm is None:
                arn = None
            elif current_algorithm != new_algorithm:
                raise ImportRefused(
                    f"{arn} holds a {current_algorithm} key and the new certificate has {new_algorithm}: ACM cannot "
                    f"change the key type on re-import. Issue with the same key type, or issue under a new name "
                    f"and move your resources to its certificate"
                )
        arguments: dict[str, object] = {
            "Certificate": to_pem([certificate]).encode(),
            "PrivateKey": private_key_pem.encode(),
            "CertificateChain": to_pem([*rest, *chain]).encode(),
        }
        if arn is not None:
            arguments["CertificateArn"] = arn  # tags cannot be given on re-import
        else:
            arguments["Tags"] = [
                {"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]},
                {"Key": CERTIFICATE_NAME_TAG, "Value": name},
            ]
        try:
            return self._client.import_certificate(**arguments)["CertificateArn"]  # type: ignore[arg-type]
        except ClientError as exc:
            raise_classified(exc, f"importing certificate {name!r} into ACM")
