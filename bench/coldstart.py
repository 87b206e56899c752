"""Part 3: cold start. Import time of every handler in a fresh process (`python -X importtime`), and the zipped
size of the layer and of each function's code."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import stats
from bench.imports import as_deployed_tree, import_seconds
from bench.packages import ensure_layer, zipped_size
from bench.paths import FUNCTIONS_DIR, LAYER_DIR
from bench.results import PartResult
from certlib.resources import ALL_FUNCTIONS

IMPORT_GOAL_SECONDS = 0.300
SIZE_GOAL_BYTES = 12_000_000


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def run(runs: int = 5) -> PartResult:
    result = PartResult("coldstart", f"Cold start: handler imports (median of {runs} fresh processes), sizes")
    ensure_layer()
    imports: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        deployed_root = as_deployed_tree(Path(directory))
        for step in ALL_FUNCTIONS:
            cached = stats.median([import_seconds(step) for _ in range(runs)])
            deployed = stats.median([import_seconds(step, deployed_root) for _ in range(runs)])
            imports[step] = {"bytecode_cached": cached, "as_deployed": deployed}
    result.figures["import_seconds"] = imports
    _import_rows(result, imports)
    _size_rows(result)
    return result


def _import_rows(result: PartResult, imports: dict[str, dict[str, float]]) -> None:
    cached = {step: figures["bytecode_cached"] for step, figures in imports.items()}
    deployed = {step: figures["as_deployed"] for step, figures in imports.items()}
    slowest = max(cached, key=lambda step: cached[step])
    passed = sum(1 for seconds in cached.values() if seconds < IMPORT_GOAL_SECONDS)
    result.add(
        f"handler import, median over {len(cached)} handlers",
        stats.milliseconds(stats.median(list(cached.values()))),
        "",
        f"{passed}/{len(cached)} PASS < 300 ms",
        f"slowest {slowest} {stats.milliseconds(cached[slowest])}",
    )
    deployed_slowest = max(deployed, key=lambda step: deployed[step])
    deployed_passed = sum(1 for seconds in deployed.values() if seconds < IMPORT_GOAL_SECONDS)
    result.add(
        "  the same as deployed (no .pyc shipped)",
        stats.milliseconds(stats.median(list(deployed.values()))),
        "",
        f"{deployed_passed}/{len(deployed)} PASS < 300 ms",
        f"slowest {deployed_slowest} {stats.milliseconds(deployed[deployed_slowest])}; see bench/imports.py",
    )
    for step in imports:
        result.add(
            f"  import functions.{step}.handler",
            stats.milliseconds(cached[step]),
            "",
            verdict(cached[step] < IMPORT_GOAL_SECONDS),
            f"as deployed {stats.milliseconds(deployed[step])} {verdict(deployed[step] < IMPORT_GOAL_SECONDS)}",
        )


def _size_rows(result: PartResult) -> None:
    layer = zipped_size(LAYER_DIR, LAYER_DIR)
    functions = {step: zipped_size(FUNCTIONS_DIR / step, FUNCTIONS_DIR / step) for step in ALL_FUNCTIONS}
    largest_step = max(functions, key=lambda step: functions[step].zipped)
    largest = functions[largest_step]
    total = layer.zipped + largest.zipped
    result.add("layer (build/layer), zipped", stats.megabytes(layer.zipped), "", "", f"{layer.unzipped_mb} unzipped")
    result.add(
        "function code, zipped (largest)",
        f"{largest.zipped / 1000:.1f} kB",
        "",
        "",
        f"{largest_step}; all {len(functions)}: {sum(f.zipped for f in functions.values()) / 1000:.1f} kB",
    )
    result.add(
        "layer + function code, zipped",
        stats.megabytes(total),
        "",
        f"{verdict(total < SIZE_GOAL_BYTES)} < 12 MB",
        "what one function's cold start loads (Lambda's limit: 250 MB unzipped)",
    )
    result.figures["sizes_bytes"] = {
        "layer_zipped": layer.zipped,
        "layer_unzipped": layer.unzipped,
        "functions_zipped": {step: size.zipped for step, size in functions.items()},
    }
