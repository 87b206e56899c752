"""Pebble, Let's Encrypt's ACME test server, as a child process that requires External Account Binding."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import PEBBLE_LOG_FILE_NAME
from sandbox.process import DeadlineExceeded, free_port, log_tail, wait_until
from sandbox.tls import TlsFiles

PEBBLE_EXECUTABLE = "pebble"
# Ports Pebble's VA would connect to for http-01 and tls-alpn-01; the sandbox only uses dns-01.
VA_HTTP_PORT = 5002
VA_TLS_PORT = 5001
READY_TIMEOUT_SECONDS = 30.0
PORT_ATTEMPTS = 3
STOP_TIMEOUT_SECONDS = 10.0
# No validation delay; an account's valid authorizations always reused, as a CA does for names it validated out of band
# (`certctl sandbox prevalidate`) and as Let's Encrypt does for a while. A caller's PEBBLE_AUTHZREUSE=0 turns it off.
DEFAULT_ENVIRONMENT = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_AUTHZREUSE": "100"}


@dataclass(frozen=True)
class ExternalAccountKey:
    """The EAB key id and HMAC key Pebble accepts (the HMAC key is secret: kept out of repr)."""

    key_id: str
    hmac_key: str = field(repr=False)

    @classmethod
    def generate(cls) -> ExternalAccountKey:
        hmac_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        return cls(key_id=f"sandbox-{secrets.token_hex(6)}", hmac_key=hmac_key)


class PebbleError(Exception):
    """Pebble could not be started or did not answer."""


class Pebble:
    """A running Pebble process."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        listen_port: int,
        management_port: int,
        log_path: Path,
        launch: Callable[[], subprocess.Popen[bytes]] | None = None,
    ):
        self.process = process
        self.listen_port = listen_port
        self.management_port = management_port
        self.log_path = log_path
        self._launch = launch
        self._stopping = False
        self._lock = threading.Lock()

    def restart_when_it_exits(self) -> None:
        """Start Pebble again, on the same ports and configuration, each time it exits: a test kills it to have a CA
        restarted in the middle of an order (Pebble keeps orders, authorizations and accounts in memory only)."""
        threading.Thread(target=self._supervise, name="pebble-restarter", daemon=True).start()

    def _supervise(self) -> None:
        while True:
            self.process.wait()
            with self._lock:
                if self._stopping or self._launch is None:
                    return
                self.process = self._launch()

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.listen_port}/dir"

    @property
    def management_url(self) -> str:
        return f"https://127.0.0.1:{self.management_port}"

    def wait_until_ready(self, ca_bundle: Path, timeout_seconds: float = READY_TIMEOUT_SECONDS) -> None:
        """Wait until the ACME directory answers; raises PebbleError (with Pebble's log tail) otherwise."""
        context = ssl.create_default_context(cafile=str(ca_bundle))

        def directory_answers() -> bool:
            if self.process.poll() is not None:
                raise PebbleError(
                    f"pebble exited with code {self.process.returncode}; last lines of {self.log_path}:\n"
                    f"{log_tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(self.directory_url, context=context, timeout=2) as response:  # noqa: S310
                    return bool(response.status == 200 and "newAccount" in json.load(response))
            except (urllib.error.URLError, OSError, ValueError):
                return False

        try:
            wait_until(directory_answers, timeout_seconds, f"pebble's directory answering at {self.directory_url}")
        except DeadlineExceeded as exc:
            raise PebbleError(f"{exc}; last lines of {self.log_path}:\n{log_tail(self.log_path)}") from None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if Pebble has not exited within STOP_TIMEOUT_SECONDS."""
        with self._lock:
            self._stopping = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_pebble() -> str:
    """The pebble executable on PATH; raises PebbleError saying how to install it."""
    executable = shutil.which(PEBBLE_EXECUTABLE)
    if executable is None:
        raise PebbleError("pebble is not installed: `apt-get install pebble` (or `make setup`) installs it")
    return executable


def start_pebble(
    executable: str,
    state_dir: Path,
    tls: TlsFiles,
    dns_server_port: int,
    account_key: ExternalAccountKey,
    environ: Mapping[str, str],
    ocsp_responder_url: str = "",
    more_account_keys: Sequence[ExternalAccountKey] = (),
) -> Pebble:
    """Start Pebble on free ports and wait until its directory answers; its output goes to state_dir/pebble.log.

    Pebble accepts EAB with `account_key` and each of `more_account_keys` (the sandbox's other ACME accounts).

    A port picked free can be taken before Pebble binds it (by any outgoing connection): then Pebble is started
    again on other ports. Raises PebbleError, with Pebble's log tail, when it does not come up.
    """
    attempt = 1
    while True:
        keys = (account_key, *more_account_keys)
        pebble = _spawn(executable, state_dir, tls, dns_server_port, keys, environ, ocsp_responder_url)
        try:
            pebble.wait_until_ready(tls.ca_bundle)
            return pebble
        except BaseException as exc:  # a stop request too: never leave a Pebble behind
            pebble.stop()
            port_taken = isinstance(exc, PebbleError) and "address already in use" in log_tail(pebble.log_path)
            if not port_taken or attempt == PORT_ATTEMPTS:
                raise
        attempt += 1


def _spawn(
    executable: str,
    state_dir: Path,
    tls: TlsFiles,
    dns_server_port: int,
    account_keys: Sequence[ExternalAccountKey],
    environ: Mapping[str, str],
    ocsp_responder_url: str,
) -> Pebble:
    listen_port, management_port = free_port(), free_port()
    config_path = state_dir / "pebble-config.json"
    _write_config(config_path, tls, listen_port, management_port, account_keys, ocsp_responder_url)
    log_path = state_dir / PEBBLE_LOG_FILE_NAME
    log_path.unlink(missing_ok=True)
    environment = pebble_environment(environ)

    def launch() -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            return subprocess.Popen(
                [executable, "-config", str(config_path), "-dnsserver", f"127.0.0.1:{dns_server_port}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=state_dir,
            )

    return Pebble(launch(), listen_port, management_port, log_path, launch)


def pebble_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """PATH, our defaults, then every PEBBLE_* variable of the caller's environment (which wins)."""
    environment = {"PATH": environ.get("PATH", os.defpath), **DEFAULT_ENVIRONMENT}
    environment.update({name: value for name, value in environ.items() if name.startswith("PEBBLE_")})
    return environment


def _write_config(
    path: Path,
    tls: TlsFiles,
    listen_port: int,
    management_port: int,
    account_keys: Sequence[ExternalAccountKey],
    ocsp_responder_url: str,
) -> None:
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{listen_port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(tls.certificate),
            "privateKey": str(tls.private_key),
            "httpPort": VA_HTTP_PORT,
            "tlsPort": VA_TLS_PORT,
            "ocspResponderURL": ocsp_responder_url,
            "externalAccountBindingRequired": True,
            "externalAccountMACKeys": {key.key_id: key.hmac_key for key in account_keys},
        }
    }
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(config, file, indent=2)
