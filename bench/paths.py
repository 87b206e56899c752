"""Where the benchmarks keep what they produce (all under build/, which git ignores)."""

from __future__ import annotations

from deploy.paths import REPO_ROOT

BENCH_BUILD_DIR = REPO_ROOT / "build" / "bench"
CERTBOT_VENV = REPO_ROOT / "build" / "bench-venv"
LAYER_DIR = REPO_ROOT / "build" / "layer"
HOST_LAYER_DIR = REPO_ROOT / "build" / "layer-host"
FUNCTIONS_DIR = REPO_ROOT / "functions"
RESULTS_JSON = BENCH_BUILD_DIR / "results.json"
RESULTS_MARKDOWN = BENCH_BUILD_DIR / "results.md"
