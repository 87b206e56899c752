"""The fault plan: the faults file (its format: sandbox.faults), re-read when it changes, and the invocation a fault
matches."""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.watched_json import WatchedJson

FAULTS_FILE_NAME = "faults.json"


@dataclass(frozen=True)
class Invocation:
    """What a function invocation works on, read from its event."""

    step: str
    certificate: str | None
    execution: str | None
    event_text: str = ""

    @classmethod
    def of(cls, step: str, event: Any) -> Invocation:
        event = event if isinstance(event, dict) else {}
        state = event.get("state") if isinstance(event.get("state"), dict) else {}
        holders = [event.get("request"), event.get("input"), state.get("request"), state, event]
        certificate = next((h["name"] for h in holders if isinstance(h, dict) and isinstance(h.get("name"), str)), None)
        executions = [event.get("execution_id"), *(h.get("execution_id") for h in holders if isinstance(h, dict))]
        execution = next((e for e in executions if isinstance(e, str) and e), None)
        return cls(step=step, certificate=certificate, execution=execution, event_text=json.dumps(event))


class FaultPlan:
    """The faults file, re-read when it changes, and how often each fault was used since it appeared."""

    def __init__(self, path: Path, on_cold_start: Callable[[], None]) -> None:
        self.path = path
        self._on_cold_start = on_cold_start
        self._lock = threading.Lock()
        self._file = WatchedJson(path, _plan, "faults: the plan")
        self._faults: list[dict[str, Any]] = []
        self._used: dict[str, int] = {}
        self._cold_start: Any = None
        self._seed: Any = 0
        self._random = random.Random(self._seed)  # noqa: S311  (reproducible draws, not secrets)

    def take(
        self, at: str, invocation: Invocation, kinds: frozenset[str] | None = None, **call: Any
    ) -> dict[str, Any] | None:
        """The first fault at this place (of one of `kinds`) that matches the invocation and the call and is not
        used up; counts it."""
        with self._lock:
            self._reload()
            for index, fault in enumerate(self._faults):
                if fault.get("at") != at or (kinds is not None and fault.get("fault") not in kinds):
                    continue
                if not _matches(fault, invocation, call):
                    continue
                key = str(fault.get("id", index))
                times = int(fault.get("times", 1))
                if times and self._used.get(key, 0) >= times:
                    continue
                if "probability" in fault and self._random.random() >= float(fault["probability"]):
                    continue
                self._used[key] = self._used.get(key, 0) + 1
                return {**fault, "id": key}
        return None

    def holds(self, fault_id: str) -> bool:
        """Whether the plan still has this fault (a `hold` lasts while it does)."""
        with self._lock:
            self._reload()
            return any(str(fault.get("id", index)) == fault_id for index, fault in enumerate(self._faults))

    def _reload(self) -> None:
        changed, plan = self._file.reload()
        if not changed:
            return
        if plan is None:  # gone, or not a plan: no faults, and what the last plan set (seed, cold start) stays
            self._faults = []
            return
        document, faults = plan
        known = {str(fault.get("id", index)) for index, fault in enumerate(faults)}
        self._used = {key: used for key, used in self._used.items() if key in known}
        self._faults = faults
        if document.get("seed", 0) != self._seed:
            self._seed = document.get("seed", 0)
            self._random = random.Random(self._seed)  # noqa: S311  (reproducible draws, not secrets)
        if document.get("cold_start") != self._cold_start:
            self._cold_start = document.get("cold_start")
            self._on_cold_start()


def _plan(document: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The plan's document and its faults, each a dict."""
    return document, [dict(fault) for fault in document.get("faults", [])]


def _matches(fault: Mapping[str, Any], invocation: Invocation, call: Mapping[str, Any]) -> bool:
    wanted = {"certificate": invocation.certificate, "step": invocation.step, "execution": invocation.execution}
    wanted.update(call)
    if "event_contains" in fault and str(fault["event_contains"]) not in invocation.event_text:
        return False
    return all(fault[key] == value for key, value in wanted.items() if key in fault)


def write_plan(
    path: Path, faults: list[dict[str, Any]], cold_start_token: str | None = None, seed: int | None = None
) -> None:
    """Replace the faults file atomically (what tests call; a reader sees the old file or the new one)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    document: dict[str, Any] = {"faults": faults}
    if cold_start_token is not None:
        document["cold_start"] = cold_start_token
    if seed is not None:
        document["seed"] = seed
    partial.write_text(json.dumps(document, indent=2))
    partial.replace(path)
