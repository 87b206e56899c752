"""certlib.adapters.acme_extensions reaches into `acme`'s private helpers: it is pinned to the version it was written
for, and what it adds (alternate chains) works over the library's real client."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from certlib.adapters.acme_client import AcmeSession, generate_account_key
from certlib.adapters.acme_extensions import WRITTEN_FOR_ACME_VERSION
from tests.certificates import certificate_pem, self_signed
from tests.unit.acme_ca import CA, Answer, ScriptedCA

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements-lambda.lock", "requirements.lock", "requirements-dev.lock")


def test_the_extensions_were_written_for_the_locked_acme() -> None:
    # Given the version of `acme` each lock file pins, and the one installed
    locked = {}
    for lock in LOCKS:
        found = re.search(r"^acme==(\S+)", (REPO_ROOT / lock).read_text(), re.MULTILINE)
        assert found, f"{lock} pins no acme version"
        locked[lock] = found.group(1)
    installed = importlib.metadata.version("acme")
    # Then each is the one certlib/adapters/acme_extensions.py was written for
    assert set(locked.values()) | {installed} == {WRITTEN_FOR_ACME_VERSION}, (
        f"acme is {installed} here and {locked} in the locks, but certlib/adapters/acme_extensions.py was written for "
        f"{WRITTEN_FOR_ACME_VERSION}: it calls ClientV2's private _post, _post_as_get and _get_links. Read them in the "
        f"new acme (and whether a public form now exists), run tests/unit/test_acme_*.py and the ACME fault suites, "
        f"then set WRITTEN_FOR_ACME_VERSION"
    )


def test_the_preferred_chain_is_the_alternate_whose_top_issuer_it_names() -> None:
    # Given a certificate offered with two alternate chains, one of them topped by "Other Root"
    default_root, _ = self_signed("Default Root")
    other_root, _ = self_signed("Other Root")
    links = f'<{CA}/cert/1/1>;rel="alternate", <{CA}/cert/1/2>;rel="alternate"'
    ca = ScriptedCA(
        {
            f"{CA}/cert/1": [Answer(body=certificate_pem(default_root), headers={"Link": links})],
            f"{CA}/cert/1/1": [Answer(body=certificate_pem(self_signed("Third Root")[0]))],
            f"{CA}/cert/1/2": [Answer(body=certificate_pem(other_root))],
        }
    )
    session = AcmeSession(f"{CA}/directory", generate_account_key(), account_url=f"{CA}/account/1", transport=ca)
    # When it is downloaded with and without a preference
    preferred = session.download(f"{CA}/cert/1", "Other Root")
    default = session.download(f"{CA}/cert/1", None)
    # Then the preference picks the alternate, and no preference the default (without reading the alternates)
    assert preferred == certificate_pem(other_root)
    assert default == certificate_pem(default_root)
    assert [url for method, url, _ in ca.sent if method == "POST"] == [
        f"{CA}/cert/1",
        f"{CA}/cert/1/1",
        f"{CA}/cert/1/2",
        f"{CA}/cert/1",
    ]
