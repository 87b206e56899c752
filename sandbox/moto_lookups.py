"""Two answers moto 5.2.5 (pinned) works out again for every request or every state, kept once for the process.

- Which folders of moto's package are services (`moto.backends.list_of_moto_modules`): its server lists the package's
  directory and asks which entries are folders, for every request it routes (4-5% of the sandbox's time while a
  sweep started 100 renewals, issue 16 goal 6). The installed package does not change while the process runs.
- JSONPath expressions (`jsonpath_ng`'s `parse`, in the Step Functions interpreter's `extract_json` and ResultPath):
  each call builds a new parser (PLY regenerates its tables) to read a path such as `$.due.batches` again, about
  1 ms, several times per state. The expressions it returns are not changed by finding or updating values (every
  attribute is set in their constructors), so one per distinct path serves every execution and thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto import backends
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

PATHS_KEPT = 1024  # distinct JSONPath texts (the sandbox's state machines use a few dozen)

_original_service_folders = backends.list_of_moto_modules
_original_path_parsers: dict[str, Callable[[str], Any]] = {}  # by module, once replaced


@functools.cache
def moto_service_folders() -> tuple[str, ...]:
    """moto's list of its service folders, read once."""
    return tuple(_original_service_folders())


def apply_lookups_once() -> None:
    """For this whole process (idempotent)."""
    backends.list_of_moto_modules = moto_service_folders
    for module in (json_path, result_path):
        if module.__name__ not in _original_path_parsers:
            namespace = vars(module)  # `parse` is imported there, not declared: mypy does not see it as an attribute
            _original_path_parsers[module.__name__] = namespace["parse"]
            namespace["parse"] = functools.lru_cache(maxsize=PATHS_KEPT)(namespace["parse"])
