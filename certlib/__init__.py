"""The shared library of the certificate pipeline's functions (one adapter per external system, the steps' logic)."""

from certlib.sdk_imports import import_botocore_without_pyopenssl

# Before any module of ours imports botocore: see certlib.sdk_imports (cold start).
import_botocore_without_pyopenssl()
