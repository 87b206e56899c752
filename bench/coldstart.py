"""Part 3: cold start. Import time of every handler as Lambda runs it (`python3.13 -X importtime`, the layer's
bytecode, see bench/imports.py), side by side with the same layer without bytecode, and the zipped size of the
layer and of each function's code."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import stats
from bench.imports import ImportFailed, import_seconds, layer_without_bytecode, require_runtime_python
from bench.packages import ensure_layer, zipped_size
from bench.paths import FUNCTIONS_DIR, LAYER_DIR
from bench.results import PartResult
from certlib.resources import ALL_FUNCTIONS
from deploy.functions import LAMBDA_PYTHON_VERSION

IMPORT_GOAL_SECONDS = 0.200  # issue 16: none above 200 ms ...
IMPORT_MEDIAN_GOAL_SECONDS = 0.150  # ... and a median of at most 150 ms
SIZE_GOAL_BYTES = 12_000_000


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def run(runs: int = 5) -> PartResult:
    result = PartResult(
        "coldstart",
        f"Cold start: handler imports under Python {LAMBDA_PYTHON_VERSION} as on Lambda (median of {runs} fresh "
        "processes), sizes",
    )
    ensure_layer()
    try:
        imports = _measure_imports(runs)
    except ImportFailed as error:
        result.failures.append(str(error))
    else:
        result.figures["import_seconds"] = imports
        _import_rows(result, imports)
    _size_rows(result)
    return result


def _measure_imports(runs: int) -> dict[str, dict[str, float]]:
    """Per handler: median import seconds with the layer's bytecode and without, runs interleaved."""
    interpreter = require_runtime_python()
    imports: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        bare_layer = layer_without_bytecode(Path(directory))
        for step in ALL_FUNCTIONS:
            shipped, bare = [], []
            for _ in range(runs):
                shipped.append(import_seconds(step, interpreter=interpreter))
                bare.append(import_seconds(step, bare_layer, interpreter))
            imports[step] = {"with_bytecode": stats.median(shipped), "without_bytecode": stats.median(bare)}
    return imports


def _import_rows(result: PartResult, imports: dict[str, dict[str, float]]) -> None:
    shipped = {step: figures["with_bytecode"] for step, figures in imports.items()}
    bare = {step: figures["without_bytecode"] for step, figures in imports.items()}
    slowest = max(shipped, key=lambda step: shipped[step])
    passed = sum(1 for seconds in shipped.values() if seconds <= IMPORT_GOAL_SECONDS)
    median_shipped, median_bare = stats.median(list(shipped.values())), stats.median(list(bare.values()))
    result.add(
        f"handler import as deployed, median over {len(shipped)} handlers",
        stats.milliseconds(median_shipped),
        "",
        f"{verdict(median_shipped <= IMPORT_MEDIAN_GOAL_SECONDS)} <= 150 ms; {passed}/{len(shipped)} <= 200 ms",
        f"slowest {slowest} {stats.milliseconds(shipped[slowest])}; the layer ships bytecode (`make layer`)",
    )
    result.add(
        "  the same layer without bytecode",
        stats.milliseconds(median_bare),
        "",
        f"{stats.ratio(median_shipped, median_bare)} with bytecode",
        "what every cold start paid before the layer shipped bytecode: Lambda's /opt is read-only",
    )
    for step in imports:
        result.add(
            f"  import handler ({step})",
            stats.milliseconds(shipped[step]),
            "",
            verdict(shipped[step] <= IMPORT_GOAL_SECONDS),
            f"without bytecode {stats.milliseconds(bare[step])}",
        )


def _size_rows(result: PartResult) -> None:
    layer = zipped_size(LAYER_DIR, LAYER_DIR)
    functions = {
        step: zipped_size(FUNCTIONS_DIR / step, FUNCTIONS_DIR / step, without_bytecode=True) for step in ALL_FUNCTIONS
    }
    largest_step = max(functions, key=lambda step: functions[step].zipped)
    largest = functions[largest_step]
    total = layer.zipped + largest.zipped
    result.add(
        "layer (build/layer), zipped",
        stats.megabytes(layer.zipped),
        "",
        "",
        f"{layer.unzipped_mb} unzipped, bytecode included",
    )
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
