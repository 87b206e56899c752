"""The PKCS#12 fields of a certificate's bundle secret, in a module that imports nothing: `certctl pkcs12-password`
names the password's field without loading the PKCS#12 code (cryptography, Powertools, X-Ray) at every start."""

PKCS12_FIELD = "pkcs12"
PASSWORD_FIELD = "pkcs12_password"  # noqa: S105 - a field name
ALGORITHM_FIELD = "pkcs12_algorithm"
