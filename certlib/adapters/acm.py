"""ACM: import a certificate, or re-import it to the same ARN on renewal, after the checks ACM itself makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from cryptography import x509

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import ExportRefused, ImportRefused
from certlib.keys import check_bundle, key_type_of, load_private_key, names_of, split_pem_chain, to_pem
from certlib.resources import acm_ownership_tags

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient

# ACM's KeyAlgorithm names for our key types.
ACM_KEY_ALGORITHMS = {
    "rsa2048": "RSA_2048",
    "rsa3072": "RSA_3072",
    "rsa4096": "RSA_4096",
    "ec256": "EC_prime256v1",
    "ec384": "EC_secp384r1",
    "ec521": "EC_secp521r1",
}


class Acm:
    def __init__(self, client: ACMClient, deployment: str) -> None:
        """`deployment`: this deployment's resource prefix, the owner named in the tags of what it imports."""
        self._client = client
        self._deployment = deployment

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
        try:
            pages = self._client.get_paginator("list_certificates").paginate(
                Includes={"keyTypes": list(ACM_KEY_ALGORITHMS.values())}  # type: ignore[arg-type]
            )
            for page in pages:
                for summary in page["CertificateSummaryList"]:
                    if summary.get("DomainName", "") not in names:
                        continue
                    arn = summary["CertificateArn"]
                    if self._is_ours(arn, name):
                        return arn
        except ClientError as exc:
            raise_classified(exc, f"looking in ACM for an earlier import of certificate {name!r}")
        return None

    def _is_ours(self, arn: str, name: str) -> bool:
        """Whether the certificate carries this deployment's tags for `name` (acm_ownership_tags)."""
        tags = self._client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return acm_ownership_tags(self._deployment, name).items() <= {
            (tag["Key"], tag.get("Value", "")) for tag in tags
        }

    def _refuse_unless_ours(self, arn: str, name: str) -> None:
        """Raises ImportRefused unless this deployment imported the certificate at `arn` for `name`; TransientError or
        AwsError when its tags cannot be read."""
        try:
            ours = self._is_ours(arn, name)
        except ClientError as exc:
            raise_classified(exc, f"reading the tags of {arn}")
        if not ours:
            tags = ", ".join(f"{key}={value}" for key, value in acm_ownership_tags(self._deployment, name).items())
            raise ImportRefused(
                f"{arn} is not a certificate this deployment imported for {name!r}: it lacks the tags {tags}, so "
                f"nothing was re-imported into it. If the inventory names it by mistake, remove that region's ARN "
                f"from the certificate_arns of {name!r}: the next issuance imports a new certificate. If it is "
                f"{name!r}'s own certificate from before ACM tags named the deployment, `certctl migrate-acm-tags "
                f"--apply` retags it; then retry"
            )

    def tag_as_ours(self, certificate_arn: str, name: str) -> None:
        """Tag a certificate as this deployment's for `name` (acm_ownership_tags), so that the import step re-imports
        into it (`certctl adopt`, with the operator's credentials). Raises TransientError or AwsError."""
        tags = acm_ownership_tags(self._deployment, name)
        try:
            self._client.add_tags_to_certificate(
                CertificateArn=certificate_arn, Tags=[{"Key": key, "Value": value} for key, value in tags.items()]
            )
        except ClientError as exc:
            raise_classified(exc, f"tagging {certificate_arn} as certificate {name!r} of this deployment")

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
        into (`earlier_import`). Only a certificate that carries this deployment's tags for `name` is re-imported
        into: anything else at `existing_arn` (which comes from the inventory) is refused, and left as it is. A
        re-import that would change the key type is refused (ACM refuses it too). When the certificate behind
        `existing_arn` was deleted, a new one is imported. Raises CertificateCheckFailed, ImportRefused,
        TransientError or AwsError.
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
            else:
                self._refuse_unless_ours(arn, name)  # the inventory's ARN is only data: whoever may write it, chose it
                if current_algorithm != new_algorithm:
                    raise ImportRefused(
                        f"{arn} holds a {current_algorithm} key and the new certificate has {new_algorithm}: ACM "
                        f"cannot change the key type on re-import. Issue with the same key type, or issue under a new "
                        f"name and move your resources to its certificate"
                    )
        arguments: dict[str, object] = {
            "Certificate": to_pem([certificate]).encode(),
            "PrivateKey": private_key_pem.encode(),
            "CertificateChain": to_pem([*rest, *chain]).encode(),
        }
        if arn is not None:
            arguments["CertificateArn"] = arn  # tags cannot be given on re-import
        else:
            tags = acm_ownership_tags(self._deployment, name)
            arguments["Tags"] = [{"Key": tag_key, "Value": value} for tag_key, value in tags.items()]
        try:
            return self._client.import_certificate(**arguments)["CertificateArn"]  # type: ignore[arg-type]
        except ClientError as exc:
            raise_classified(exc, f"importing certificate {name!r} into ACM")
