"""Where the repository keeps what is deployed: the state machine definitions and the SSM document."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATEMACHINE_DIR = REPO_ROOT / "statemachine"
LIFECYCLE_ASL = STATEMACHINE_DIR / "certificate_lifecycle.asl.json"
RENEWAL_SWEEP_ASL = STATEMACHINE_DIR / "renewal_sweep.asl.json"
DISTRIBUTION_ASL = STATEMACHINE_DIR / "certificate_distribution.asl.json"
# The SSM Command document that installs a certificate on a node (deployed as ResourceNames.distribution_document).
DISTRIBUTION_DOCUMENT = REPO_ROOT / "ssm" / "distribute-certificate.yaml"
