"""The sandbox: Pebble, moto (with the real state machine and Lambda handlers) and a DNS server, on one machine.

`python -m sandbox serve --state-dir DIR` runs it in the foreground; `certctl sandbox up|down` runs it in the
background. When every part answers it writes `DIR/sandbox.json` (removed again when it stops):

    aws_endpoint_url, region, account_id, aws_access_key_id, aws_secret_access_key (moto's fake ones),
    acme_directory_url, pebble_management_url, ca_bundle (trusts Pebble's HTTPS), dns_server (host:port),
    acme_account_alias, hosted_zones (name -> id), state_machine_arn, resource_prefix,
    pid, pebble_pid, state_dir, log_file, pebble_log_file, started_at, startup_seconds
"""

INFO_FILE_NAME = "sandbox.json"
LOG_FILE_NAME = "sandbox.log"
PEBBLE_LOG_FILE_NAME = "pebble.log"
