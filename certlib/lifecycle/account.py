"""Step: make sure the request's ACME account is registered (with EAB when configured), once per alias."""

from __future__ import annotations

from certlib.adapters.acme_client import account_key_from_json, account_key_to_json, generate_account_key
from certlib.config import AccountConfig
from certlib.lifecycle.state import AccountStepInput, EnsuredAccount
from certlib.services import Services


def ensure_account(step: AccountStepInput, services: Services) -> EnsuredAccount:
    """Reuse the registered account; else register it, keeping the key in Secrets Manager before the CA sees it.
    With `account_gone` in the state (a later step heard `accountDoesNotExist`: the CA lost its accounts, as a
    restarted test CA does), the same key is registered again instead of trusting the stored URL. No request to the
    CA otherwise: the stored account is checked by the first request that uses it.

    Safe to repeat: a crash after registration leaves the key stored, and registering the same key again only
    returns the existing account. Executions that find no account at once all use the key stored first.
    The result carries the account's Retry-After pause as read here (`paused_until`, epoch seconds, 0: none): the
    ACME steps after it check that instead of reading the inventory each (certlib.lifecycle.ordering.session_for).
    Raises AccountSecretMissing, AcmeProblem, AcmeRateLimited, TransientError.
    """
    return ensure_registered(services.account(step.request.account), services, register_again=step.account_gone)


def ensure_registered(account: AccountConfig, services: Services, register_again: bool = False) -> EnsuredAccount:
    """ensure_account for one configured account (`certctl sandbox prevalidate` registers the same way)."""
    stored = services.secrets.account(account.alias)
    value = stored.value if stored is not None else {}
    record = services.inventory.acme_account(account.alias)  # one read: the pause and the registration
    if value.get("url") and value.get("directory") == account.directory_url and not register_again:
        if record.registered_directory != account.directory_url:  # registered before the inventory recorded it
            services.inventory.record_acme_registration(account.alias, account.directory_url)
        return EnsuredAccount(account.alias, str(value["url"]), registered=False, paused_until=record.paused_until)
    if stored is None:  # the first key: another execution may be storing its own right now, and only one may win
        value = services.secrets.add_account(
            account.alias, {"key": account_key_to_json(generate_account_key()), "directory": account.directory_url}
        )
    if value.get("key") and value.get("directory") == account.directory_url:
        key = account_key_from_json(value["key"])
    else:  # the alias moved to another CA: a new key replaces the old account's
        key = generate_account_key()
        services.secrets.put_account(
            account.alias, {"key": account_key_to_json(key), "directory": account.directory_url}
        )
    hmac_key = services.secrets.eab_hmac_key(account.alias) if account.uses_eab else None
    services.check_acme_pause(account.alias, record.paused_until)
    session = services.new_acme_session(account, key, None)
    url = session.register(account.email, account.eab_key_id, hmac_key)
    services.secrets.put_account(
        account.alias, {"key": account_key_to_json(key), "directory": account.directory_url, "url": url}
    )
    services.inventory.record_acme_registration(account.alias, account.directory_url)
    services.forget_acme(account.alias)
    return EnsuredAccount(account.alias, url, registered=True, paused_until=record.paused_until)
