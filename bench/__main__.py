"""`python -m bench [part ...]`: run the benchmarks (all parts by default) and print one table at the end.

Parts: issuance (latency and work, ours vs certbot), coldstart (imports and package sizes), renewals (100 through
the sandbox, back to back and concurrently), sweep (the renewal sweep over large inventories). `latency` and
`work` are other names for issuance, `scale` for renewals + sweep. `soak` (renewals with faults beside a heavy load,
bench.soak) runs only when named. After the parts: the cost of 1,000 certificates a year (from the issuance and sweep
parts' counts), and issue 16's goals, each beside its figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from bench import coldstart, goals, issuance, machine, renewals, soak, sweep, yearly_cost
from bench.paths import BENCH_BUILD_DIR, RESULTS_JSON, RESULTS_MARKDOWN
from bench.results import PartResult
from bench.table import markdown_table, text_table

PARTS = ("issuance", "coldstart", "renewals", "sweep")
NAMED_ONLY = ("soak",)  # long: not part of "all"
ALIASES = {"latency": ("issuance",), "work": ("issuance",), "scale": ("renewals", "sweep"), "all": PARTS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    every = ", ".join((*PARTS, *NAMED_ONLY, *ALIASES))
    parser.add_argument("parts", nargs="*", help=f"what to run, of {every} (default: all but soak)")
    parser.add_argument("--runs", type=int, default=5, help="timed issuances each for ours and certbot")
    parser.add_argument("--names", type=int, default=2, help="names per certificate in the issuance part")
    parser.add_argument("--import-runs", type=int, default=5, help="fresh processes per handler import")
    parser.add_argument(
        "--renewals", type=int, help="renewals in each of the two renewal runs (default 100), in the soak (default 500)"
    )
    parser.add_argument("--concurrency", type=int, default=10, help="executions at once (concurrent renewals, soak)")
    parser.add_argument("--certificates", type=int, default=200, help="the soak's fleet")
    parser.add_argument("--seed", type=int, default=19, help="the soak's random faults and crashes")
    parser.add_argument("--load-args", default="", help=f"the soak's bench.load options ({soak.DEFAULT_LOAD_ARGS})")
    parser.add_argument(
        "--sweep-sizes", default="1000,10000,50000", help="inventory sizes for the sweep, comma-separated"
    )
    parser.add_argument("--due", type=int, default=100, help="certificates due at each sweep")
    parser.add_argument(
        "--budget-due", type=int, default=1000, help="certificates due at once in the order-budget sweep (0: none)"
    )
    return parser


def selected_parts(names: Sequence[str]) -> list[str]:
    wanted = {part for name in (names or PARTS) for part in ALIASES.get(name, (name,))}
    return [part for part in (*PARTS, *NAMED_ONLY) if part in wanted]


def runners(args: argparse.Namespace) -> dict[str, Callable[[], PartResult]]:
    sizes = [int(size) for size in args.sweep_sizes.split(",") if size.strip()]
    return {
        "issuance": lambda: issuance.run(runs=args.runs, names=args.names),
        "coldstart": lambda: coldstart.run(runs=args.import_runs),
        "renewals": lambda: renewals.run(renewals=args.renewals or 100, concurrency=args.concurrency),
        "sweep": lambda: sweep.run(sizes=sizes, due=args.due, budget_due=args.budget_due),
        "soak": lambda: soak.run(
            certificates=args.certificates,
            renewals=args.renewals or 500,
            concurrency=args.concurrency,
            seed=args.seed,
            load_args=args.load_args,
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    known = (*PARTS, *NAMED_ONLY, *ALIASES)
    unknown = [name for name in args.parts if name not in known]
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}: choose from {', '.join(known)}")
    results: list[PartResult] = []
    environment = machine.describe()  # the load average before the benchmarks add theirs
    started = time.monotonic()
    for part in selected_parts(args.parts):
        print(f"bench: {part} ...", file=sys.stderr, flush=True)
        part_started = time.monotonic()
        try:
            result = runners(args)[part]()
        except Exception as exc:  # one broken part must not hide the others' figures
            traceback.print_exc()
            result = PartResult(part, "did not run to the end", failures=[f"{type(exc).__name__}: {exc}"])
        result.figures["part_seconds"] = round(time.monotonic() - part_started, 1)
        print(f"bench: {part} done in {result.figures['part_seconds']:.0f} s", file=sys.stderr, flush=True)
        results.append(result)
    by_part = {result.part: result for result in results}
    if "issuance" in by_part:
        results.append(yearly_cost.run(by_part["issuance"], by_part.get("sweep")))
    results.append(goals.run(results))
    environment["load average at the end"] = machine.describe()["load average (1/5/15 min)"]
    total_seconds = time.monotonic() - started
    write_results(results, environment, total_seconds)
    print()
    print(text_table(results))
    print()
    print("machine: " + "; ".join(f"{key} {value}" for key, value in environment.items()))
    print(f"total {total_seconds:.0f} s; figures in {RESULTS_JSON.relative_to(BENCH_BUILD_DIR.parent.parent)}")
    return 1 if any(result.failures for result in results) else 0


def write_results(results: list[PartResult], environment: dict[str, str], total_seconds: float) -> None:
    BENCH_BUILD_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": environment,
        "total_seconds": round(total_seconds, 1),
        "parts": [
            {
                "part": r.part,
                "title": r.title,
                "rows": [vars(row) for row in r.rows],
                "failures": r.failures,
                "figures": r.figures,
            }
            for r in results
        ],
    }
    RESULTS_JSON.write_text(json.dumps(document, indent=2, default=str) + "\n")
    RESULTS_MARKDOWN.write_text(markdown_table(results) + "\n")


if __name__ == "__main__":
    sys.exit(main())
