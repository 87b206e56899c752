"""botocore loads without pyOpenSSL (certlib.sdk_imports), with the same SSLContext, and pyOpenSSL stays usable."""

from __future__ import annotations

import json
import subprocess
import sys

from deploy.paths import REPO_ROOT

PROBE = """
import json, ssl, sys
import certlib
import botocore.httpsession, botocore.session
before = sorted(name for name in ("OpenSSL", "cryptography.x509", "urllib3.contrib.pyopenssl") if name in sys.modules)
same_context = botocore.httpsession.SSLContext is ssl.SSLContext
import urllib3.contrib.pyopenssl
print(json.dumps({"before": before, "same_context": same_context, "pyopenssl": "OpenSSL.SSL" in sys.modules}))
"""


def test_botocore_loads_without_pyopenssl_and_keeps_the_standard_ssl_context() -> None:
    # Given a fresh interpreter that imports certlib before botocore (as every handler does)
    # When botocore's HTTP session module is loaded, and then urllib3's pyOpenSSL shim on purpose
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout)

    # Then botocore brought no pyOpenSSL nor X.509 code, uses the standard library's SSLContext as before, and the
    # shim (and pyOpenSSL under it) still imports for whoever needs it
    assert report == {"before": [], "same_context": True, "pyopenssl": True}
