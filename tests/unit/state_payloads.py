"""Helpers of the typed step state tests (test_step_state.py, test_distribution_state.py, test_sweep_state.py)."""

from __future__ import annotations

import copy
import json
from typing import Any


def as_json(value: Any) -> str:
    """The JSON the state machine would carry: key order included."""
    return json.dumps(value)


def broken(sample: dict[str, Any], path: tuple[str | int, ...], value: Any = KeyError) -> dict[str, Any]:
    """A copy of `sample` with the field at `path` removed (`value` KeyError) or set to `value`."""
    copied = copy.deepcopy(sample)
    *parents, last = path
    holder: Any = copied
    for key in parents:
        holder = holder[key]
    if value is KeyError:
        del holder[last]
    else:
        holder[last] = value
    return copied
