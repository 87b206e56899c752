"""certctl, the operator CLI (`python -m certctl`)."""

# certlib first, before anything of certctl imports boto3: it loads botocore without urllib3's pyOpenSSL shim
# (certlib.sdk_imports), which would otherwise bring pyOpenSSL and cryptography's X.509 code to every command.
import certlib  # noqa: F401
