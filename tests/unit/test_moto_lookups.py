"""What sandbox.moto_lookups keeps once per process answers as moto's own lookups do."""

from __future__ import annotations

import os

import moto
from moto import backends
from moto.stepfunctions.parser.asl.utils import json_path

from sandbox.moto_lookups import apply_lookups_once


def test_kept_lookups_answer_as_moto_does() -> None:
    # Given the lookups kept (twice: idempotent)
    apply_lookups_once()
    apply_lookups_once()
    document = {"due": {"batches": [["a", "b"], ["c"]], "count": 3}, "names": ["x", "y"]}

    # When paths are read, each twice, and moto's service folders listed
    first = [json_path.extract_json(path, document) for path in ("$.due.count", "$.due.batches[1]", "$.names[*]")]
    again = [json_path.extract_json(path, document) for path in ("$.due.count", "$.due.batches[1]", "$.names[*]")]
    folders = list(backends.list_of_moto_modules())

    # Then the answers are moto's, the same each time, and the folders are the package's service folders
    assert first == again == [3, ["c"], ["x", "y"]]
    package = os.path.dirname(moto.__file__)
    assert folders == sorted(
        entry for entry in os.listdir(package) if os.path.isdir(os.path.join(package, entry)) and entry[:2] != "__"
    )
    assert "dynamodb" in folders
    assert "stepfunctions" in folders
