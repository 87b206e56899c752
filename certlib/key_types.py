"""The private key types a certificate may have, without the cryptography package: the configuration and the
request checks name them, and only the steps that make or read keys import certlib.keys (cold start, issue 16)."""

KEY_TYPES: tuple[str, ...] = ("rsa2048", "rsa3072", "rsa4096", "ec256", "ec384", "ec521")
