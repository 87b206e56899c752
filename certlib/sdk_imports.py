"""botocore without pyOpenSSL: what every function's cold start would otherwise pay for nothing.

botocore.httpsession imports `urllib3.contrib.pyopenssl` whenever pyOpenSSL is installed (the layer ships it: the
`acme` package needs it), only to take the standard library's `ssl.SSLContext` from it (`orig_util_SSLContext`).
That import loads pyOpenSSL and cryptography's X.509 and key code into every function, the ones that never touch a
key included. With the shim hidden while botocore.httpsession loads, botocore takes the same class from
`urllib3.util.ssl_` (its own fallback): nothing else changes, and pyOpenSSL stays importable for the steps that
speak ACME.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

PYOPENSSL_SHIM = "urllib3.contrib.pyopenssl"


class _Hidden(MetaPathFinder):
    """Makes one module unimportable (ImportError) while it sits first on sys.meta_path."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == self.name:
            raise ImportError(f"{fullname} is hidden while botocore loads (certlib.sdk_imports)", name=fullname)
        return None


def import_botocore_without_pyopenssl() -> None:
    """Import botocore.httpsession with urllib3's pyOpenSSL shim hidden (once; a no-op when either is loaded)."""
    if "botocore.httpsession" in sys.modules or PYOPENSSL_SHIM in sys.modules:
        return
    hidden = _Hidden(PYOPENSSL_SHIM)
    sys.meta_path.insert(0, hidden)
    try:
        importlib.import_module("botocore.httpsession")
    finally:
        sys.meta_path.remove(hidden)
