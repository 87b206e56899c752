"""The machine the figures come from."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata


def describe() -> dict[str, str]:
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "memory": _memory(),
        "cpu model": _cpu_model(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "pebble": _package_version("pebble"),
        "moto": metadata.version("moto"),
        "load average (1/5/15 min)": " ".join(f"{load:.1f}" for load in os.getloadavg()),
    }


def _memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kilobytes = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        return "unknown"
    return f"{kilobytes / 1024 / 1024:.1f} GiB"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            line = next(line for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"
    return line.split(":", 1)[1].strip()


def _package_version(package: str) -> str:
    completed = subprocess.run(
        ["/usr/bin/dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, check=False
    )
    return completed.stdout.strip() or "unknown"
