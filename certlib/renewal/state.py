"""The renewal sweep's step state, typed: what the steps of statemachine/renewal_sweep.asl.json take and return.

As the lifecycle's (certlib.lifecycle.state): each handler parses its event once (`from_dict`) and returns its step's
result as a dict (`to_dict`); the types describe the JSON the state machine already carries, `to_dict(from_dict(x))
== x` key for key and in order, and a missing field or one of the wrong type raises MalformedState naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from certlib.exceptions import MalformedState
from certlib.lifecycle.fields import field_of, optional_field
from certlib.utc import parse_utc_iso


@dataclass(frozen=True)
class SweepInput:
    """What the operator started the sweep with (`certctl sweep`: {"dry_run", "now"?}; the schedule: {}): the time
    to sweep as of (ISO 8601; None: the execution's start) and whether only to list what is due (None: no). Other
    fields are ignored, as before: the console's default input has a "Comment"."""

    dry_run: bool | None = None
    now: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """In certctl's order; a field left out stays out."""
        given = {"dry_run": self.dry_run, "now": self.now}
        return {key: value for key, value in given.items() if value is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "input") -> SweepInput:
        """Raises MalformedState."""
        return cls(optional_field(data, "dry_run", bool, where), _optional_time(data, "now", where))


@dataclass(frozen=True)
class FindDueInput:
    """FindDueCertificates' input (Parameters): the operator's input, the execution's start
    ($$.Execution.StartTime; None from a caller that does not pass it: the clock's now) and how many names to find
    at most."""

    sweep_input: SweepInput  # "input"
    started_at: str | None
    batch_size: int

    @property
    def now(self) -> str | None:
        """The time to sweep as of, as given: the operator's, else the execution's start; None: the clock's now."""
        return self.sweep_input.now or self.started_at

    @property
    def dry_run(self) -> bool:
        return bool(self.sweep_input.dry_run)

    def to_dict(self) -> dict[str, Any]:
        started = {"started_at": self.started_at} if self.started_at is not None else {}
        return {"input": self.sweep_input.to_dict(), **started, "batch_size": self.batch_size}

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> FindDueInput:
        """Raises MalformedState; a missing or null `input` is the schedule's {}."""
        given = optional_field(event, "input", dict)
        return cls(
            sweep_input=SweepInput.from_dict(given or {}),
            started_at=_optional_time(event, "started_at", ""),
            batch_size=field_of(event, "batch_size", int),
        )


@dataclass(frozen=True)
class DueCertificates:
    """FindDueCertificates' result ($.due): the time swept as of, the due names (at most the batch size, oldest
    renew_after first) and whether more are due. A sweep hands them to the Map in batches ("batches"; a dry run's
    are one batch: none starts) and a dry run lists them ("certificates": [{"name"}]), not both: the state stays
    small."""

    now: str
    dry_run: bool
    count: int
    more: bool
    batches: tuple[tuple[str, ...], ...]

    @classmethod
    def found(cls, now: str, dry_run: bool, names: list[str], more: bool, batch_size: int) -> DueCertificates:
        if dry_run:
            return cls(now, dry_run, len(names), more, (tuple(names),) if names else ())
        batches = tuple(tuple(names[start : start + batch_size]) for start in range(0, len(names), batch_size))
        return cls(now, dry_run, len(names), more, batches)

    @property
    def names(self) -> list[str]:
        return [name for batch in self.batches for name in batch]

    def to_dict(self) -> dict[str, Any]:
        due = {"now": self.now, "dry_run": self.dry_run, "count": self.count, "more": self.more}
        if self.dry_run:
            return {**due, "certificates": [{"name": name} for name in self.names]}
        return {**due, "batches": [list(batch) for batch in self.batches]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "due") -> DueCertificates:
        """Raises MalformedState."""
        now, dry_run = field_of(data, "now", str, where), field_of(data, "dry_run", bool, where)
        count, more = field_of(data, "count", int, where), field_of(data, "more", bool, where)
        if dry_run:
            listed = field_of(data, "certificates", list, where)
            names = tuple(
                field_of(entry, "name", str, f"{where}.certificates[{index}]") for index, entry in enumerate(listed)
            )
            return cls(now, dry_run, count, more, (names,) if names else ())
        batches = field_of(data, "batches", list, where)
        return cls(
            now,
            dry_run,
            count,
            more,
            tuple(_names(batch, f"{where}.batches[{index}]") for index, batch in enumerate(batches)),
        )


@dataclass(frozen=True)
class RenewalBatch:
    """StartRenewal's input (the Map's ItemSelector): one batch of due names and the time swept as of."""

    names: tuple[str, ...]
    now: str

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "now": self.now}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> RenewalBatch:
        """Raises MalformedState."""
        return cls(_names(field_of(item, "names", list), "names"), field_of(item, "now", str))


@dataclass(frozen=True)
class OneRenewal:
    """StartRenewal's input in a sweep started before batches: one name and the time swept as of."""

    name: str
    now: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "now": self.now}

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> OneRenewal:
        """Raises MalformedState."""
        return cls(field_of(item, "name", str), field_of(item, "now", str))


@dataclass(frozen=True)
class RenewalResult:
    """What starting one certificate's renewal came to: its outcome (started, in_progress, deferred, not_due, gone,
    error), the execution started, or the error's name (no message: it could carry what a log must not)."""

    name: str
    outcome: str
    execution_arn: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        started = {"execution_arn": self.execution_arn} if self.execution_arn is not None else {}
        failed = {"error": self.error} if self.error is not None else {}
        return {"name": self.name, "outcome": self.outcome, **started, **failed}

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> RenewalResult:
        """Raises MalformedState."""
        return cls(
            field_of(data, "name", str, where),
            field_of(data, "outcome", str, where),
            optional_field(data, "execution_arn", str, where),
            optional_field(data, "error", str, where),
        )


@dataclass(frozen=True)
class BatchOutcome:
    """StartRenewal's result for a batch (one of the Map's results): how many names had each outcome, and the few
    results it names (certlib.renewal.sweep.summarize)."""

    counts: dict[str, int]
    results: tuple[RenewalResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "results": [result.to_dict() for result in self.results]}

    @classmethod
    def from_dict(cls, data: Any) -> BatchOutcome:
        """Raises MalformedState."""
        counts = field_of(data, "counts", dict)
        for outcome in counts:
            field_of(counts, outcome, int, "counts")
        results = field_of(data, "results", list)
        return cls(
            counts, tuple(RenewalResult.from_dict(result, f"results[{index}]") for index, result in enumerate(results))
        )


def start_input(event: Mapping[str, Any]) -> RenewalBatch | OneRenewal:
    """StartRenewal's input, either kind (a batch has "names"). Raises MalformedState."""
    return RenewalBatch.from_dict(event) if "names" in event else OneRenewal.from_dict(event)


def _names(batch: Any, where: str) -> tuple[str, ...]:
    """A list of names. Raises MalformedState naming `where` or the entry that is not a name."""
    if not isinstance(batch, list):
        raise MalformedState(f"the step's input has {where!r} of type {type(batch).__name__}, not list")
    for index, name in enumerate(batch):
        if not isinstance(name, str):
            raise MalformedState(f"the step's input has '{where}[{index}]' of type {type(name).__name__}, not str")
    return tuple(batch)


def _optional_time(data: Any, key: str, where: str) -> str | None:
    """`data[key]`: absent, null or empty (None: the default), or an ISO 8601 time. Raises MalformedState."""
    text = optional_field(data, key, str, where)
    if not text:
        return None
    try:
        parse_utc_iso(text)
    except ValueError:
        named = f"{where}.{key}" if where else key
        raise MalformedState(f"the step's input has {named!r} {text!r}, not an ISO 8601 time") from None
    return text
