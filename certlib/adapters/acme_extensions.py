"""What certbot's `acme` has no public form for, in one place: written against WRITTEN_FOR_ACME_VERSION.

Everything here reaches into ClientV2's private helpers (`_post`, `_post_as_get`, `_get_links`), which the library
may change in any release: tests/unit/test_acme_extensions.py fails when the lock moves to another version, so that
someone re-reads these few calls against the new library first. Everything else uses the public API
(certlib.adapters.acme_client).

- newOrder by identifiers, with RFC 9773's `replaces`: the public `new_order` takes a CSR (our key is made later, at
  finalization) and reads every authorization right away; it has no `replaces`.
- One read of an order (POST-as-GET): the public readers are the sleeping pollers (`poll_finalization`).
- The certificate and the URLs of its alternate chains (RFC 8555 7.4.2 `Link: rel="alternate"`): publicly only
  inside `poll_finalization`.
"""

from __future__ import annotations

import requests
from acme import client as acme_client_module
from acme import messages
from josepy.json_util import field as jose_field

WRITTEN_FOR_ACME_VERSION = "5.9.0"


class NewOrder(messages.NewOrder):
    """newOrder with RFC 9773's `replaces`: the ARI certificate ID of the certificate this order renews."""

    replaces: str | None = jose_field("replaces", omitempty=True)


class ExtendedClient(acme_client_module.ClientV2):
    """ClientV2 with the single-request calls the library keeps private. Each raises what the library's requests
    raise (messages.Error with the CA's problem, errors.ClientError, requests' network errors)."""

    def create_order(self, domains: list[str], replaces: str | None = None) -> messages.OrderResource:
        """One newOrder request for DNS names; its authorizations are not read."""
        identifiers = [messages.Identifier(typ=messages.IDENTIFIER_FQDN, value=domain) for domain in domains]
        response = self._post(self.directory["newOrder"], NewOrder(identifiers=identifiers, replaces=replaces))
        return messages.OrderResource(
            body=messages.Order.from_json(response.json()), uri=response.headers.get("Location")
        )

    def query_order(self, order_url: str) -> messages.OrderResource:
        """The order as the CA has it now: one POST-as-GET."""
        response = self._post_as_get(order_url)
        return messages.OrderResource(body=messages.Order.from_json(response.json()), uri=order_url)

    def fetch_certificate(self, certificate_url: str) -> tuple[str, list[str]]:
        """The PEM chain at `certificate_url` and the URLs of the alternate chains the CA offers with it."""
        response: requests.Response = self._post_as_get(certificate_url)
        return str(response.text), self._get_links(response, "alternate")
