"""The CA's problem of a failure, and an error message made fit for an event or an e-mail (no PEM block, bounded)."""

from __future__ import annotations

import re

from certlib.exceptions import problem_of

MAX_MESSAGE_CHARACTERS = 2000
# --- the CA's problem --------------------------------------------------------------------------------------------
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL)


def problem_type_of(error: str, message: str) -> str | None:
    """The CA's problem type (e.g. "unauthorized") of a failure, or None when the error is not the CA's problem
    (certlib.exceptions.problem_of reads it back from the error the step raised)."""
    problem = problem_of(error, message)
    return problem.problem_type if problem is not None else None


def safe_text(text: str, limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    """An error message fit for an event or an e-mail: any PEM block cut out, at most `limit` characters."""
    cleaned = _PEM_BLOCK.sub("[PEM block removed]", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
