"""A heavy mixed job to run beside a test suite (issue 19): what a CI runner or a deploy does to a small machine.

Stdlib only. Each kind of load runs in its own worker processes until the generator is stopped (SIGTERM or SIGINT,
or `--seconds`):

- `cpu`: busy loops;
- `memory`: a block of memory written page by page, again and again (page faults and memory bandwidth);
- `spawn`: many short-lived Python processes, one after another (fork, exec, interpreter start, imports);
- `heavy-start`: a heavy start, as a CDK synth makes: `python -c "import aws_cdk"` (jsii starts Node) or `node`;
- `io`: files written, fsynced and deleted.

    python -m bench.load --cpu 2 --memory-mb 512 --spawn 2 --heavy-start 1 --io 1 [--seconds N]
    python -m bench.load -- COMMAND ...    # run COMMAND beside the load; exit with its status
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from types import FrameType

PAGE_BYTES = 4096
IO_CHUNK_BYTES = 1 << 20
IO_FILE_CHUNKS = 16


def cpu_worker() -> None:
    value = 0
    while True:
        value = (value * 31 + 7) % 1_000_003


def memory_worker(megabytes: int) -> None:
    block = bytearray(megabytes << 20)
    stamp = 0
    while True:
        stamp = (stamp + 1) % 256
        for offset in range(0, len(block), PAGE_BYTES):
            block[offset] = stamp


def spawn_worker() -> None:
    while True:
        subprocess.run([sys.executable, "-c", "import json, ssl, email.parser"], check=False)


def heavy_start_commands() -> list[list[str]]:
    """A JVM-like heavy start: the CDK library (Python + jsii's Node process) when importable, else Node."""
    commands = []
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(bool(u.find_spec('aws_cdk')))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() == "True":
        commands.append([sys.executable, "-c", "import aws_cdk; aws_cdk.App()"])
    node = shutil.which("node")
    if node:
        commands.append([node, "-e", "require('crypto').randomBytes(1 << 20)"])
    return commands or [[sys.executable, "-c", "import asyncio, decimal, unittest"]]


def heavy_start_worker() -> None:
    commands = heavy_start_commands()
    environment = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    index = 0
    while True:
        subprocess.run(
            commands[index % len(commands)],
            check=False,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        index += 1


def io_worker() -> None:
    chunk = os.urandom(IO_CHUNK_BYTES)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as directory:
        path = os.path.join(directory, "data")
        while True:
            with open(path, "wb") as file:
                for _ in range(IO_FILE_CHUNKS):
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.remove(path)


def _workers(arguments: argparse.Namespace) -> list[tuple[str, Callable[..., None], tuple[int, ...]]]:
    workers: list[tuple[str, Callable[..., None], tuple[int, ...]]] = []
    workers += [("cpu", cpu_worker, ())] * arguments.cpu
    workers += [("memory", memory_worker, (arguments.memory_mb,))] if arguments.memory_mb > 0 else []
    workers += [("spawn", spawn_worker, ())] * arguments.spawn
    workers += [("heavy-start", heavy_start_worker, ())] * arguments.heavy_start
    workers += [("io", io_worker, ())] * arguments.io
    return workers


def _run_worker(target: Callable[..., None], args: tuple[int, ...]) -> None:
    os.setpgrp()  # its own process group: stopping the generator stops what each worker started
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    target(*args)


class Load:
    """The workers, started together and stopped together (with the processes they started)."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        self._specs = _workers(arguments)
        self._processes: list[multiprocessing.Process] = []

    def start(self) -> None:
        for name, target, args in self._specs:
            process = multiprocessing.Process(target=_run_worker, args=(target, args), name=f"load-{name}", daemon=True)
            process.start()
            self._processes.append(process)
        kinds = ", ".join(sorted({name for name, _, _ in self._specs}))
        print(f"bench.load: {len(self._processes)} workers ({kinds})", file=sys.stderr, flush=True)

    def stop(self) -> None:
        for process in self._processes:
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    argv = list(argv)
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    options = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, default=2, help="busy-loop processes (default 2)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory written over and over, MiB (default 1024)")
    parser.add_argument("--spawn", type=int, default=2, help="loops starting short Python processes (default 2)")
    parser.add_argument("--heavy-start", type=int, default=1, help="loops starting aws_cdk / node (default 1)")
    parser.add_argument("--io", type=int, default=1, help="loops writing and fsyncing 16 MiB files (default 1)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (default: until stopped)")
    arguments = parser.parse_args(options)
    for name in ("cpu", "memory_mb", "spawn", "heavy_start", "io"):
        if getattr(arguments, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more, not {getattr(arguments, name)}")
    return arguments, command


def main(argv: Sequence[str] | None = None) -> int:
    arguments, command = parse(sys.argv[1:] if argv is None else argv)
    load = Load(arguments)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    load.start()
    try:
        if command:
            return subprocess.run(command, check=False).returncode
        deadline = time.monotonic() + arguments.seconds if arguments.seconds else None
        while not stopping and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.5)  # the generator itself only waits to be stopped
        return 0
    finally:
        load.stop()


if __name__ == "__main__":
    sys.exit(main())
