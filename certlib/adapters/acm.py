"""ACM: import a certificate, or re-import it to the same ARN on renewal, after the checks ACM itself makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from cryptography import x509

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import ExportRefused, ImportRefused
from certlib.keys import check_bundle, key_type_of, load_private_key, names_of, split_pem_chain, to_pem
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

    def export_certificate(self, certificate_arn: str, passphrase: str) -> tuple[str, str, str]:
        """(certificate PEM, chain PEM, private key PEM encrypted with `passphrase`) of an exportable certificate.

        Raises ExportRefused when ACM will not export it (imported, or public without export enabled),
        TransientError or AwsError.
        """
        try:
            exported = self._client.export_certificate(CertificateArn=certificate_arn, Passphrase=passphrase.encode())
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ValidationException", "RequestInProgressException"):
                raise ExportRefused(
                    f"ACM will not export {certificate_arn}: {exc.response['Error'].get('Message', '')}; only private "
                    f"CA certificates and public ones requested with export enabled can be exported"
                ) from None
            raise_classified(exc, f"exporting {certificate_arn}")
        return exported["Certificate"], exported.get("CertificateChain", ""), exported["PrivateKey"]

    def earlier_import(self, name: str, certificate: x509.Certificate) -> str | None:
        """A certificate an earlier try imported for `name` (our tags) and never recorded, if there is one.

        ACM's ImportCertificate takes no idempotency token: a step retried after its import went through, or a new
        execution after a runtime died between the import and recording its ARN, finds that certificate here and
        re-imports into it instead of leaving an orphan and making a second one. Raises TransientError or AwsError.
        """
        names = set(names_of(certificate))
        ours = {MANAGED_BY_TAG, (CERTIFICATE_NAME_TAG, name)}
        try:
            pages = self._client.get_paginator("list_certificates").paginate(
                Includes={"keyTypes": list(ACM_KEY_ALGORITHMS.values())}  # type: ignore[arg-type]
            )
            for page in pages:
                for summary in page["CertificateSummaryList"]:
                    if summary.get("DomainName", "") not in names:
                        continue
                    arn = summary["CertificateArn"]
                    tags = self._client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
                    if ours <= {(tag["Key"], tag.get("Value", "")) for tag in tags}:
                        return arn
        except ClientError as exc:
            raise_classified(exc, f"looking in ACM for an earlier import of certificate {name!r}")
        return None

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

        Without `existing_arn`, a certificate an earlier try imported for `name` but never recorded is re-imported
        into (`earlier_import`). A re-import that would change the key type is refused (ACM refuses it too). When
        the certificate behind `existing_arn` was deleted, a new one is imported. Raises CertificateCheckFailed,
        ImportRefused, TransientError or AwsError.
        """
        certificate, *rest = split_pem_chain(certificate_pem)
        chain = split_pem_chain(chain_pem)
        key = load_private_key(private_key_pem)
        check_bundle(certificate, [*rest, *chain], key)
        new_algorithm = ACM_KEY_ALGORITHMS.get(key_type_of(key))
        # a first import, or a retry (or a new execution) after an import whose ARN was never recorded
        arn = existing_arn if existing_arn is not None else self.earlier_import(name, certificate)
        if arn is not None:
            current_algorithm = self.key_algorithm(arn)
            if current_algorithm is None or (existing_arn is None and current_algorithm != new_algorithm):
                arn = None  # deleted meanwhile, or an unrecorded import of another key type: import anew
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
