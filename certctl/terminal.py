"""certctl's terminal: rich consoles that decide colour and width, rendering to text, and `--wait`'s live progress.

Operator side only: the Lambda layer never imports rich (tests/security/test_dependency_locks.py).

Colour, in `auto` mode, is rich's decision: none when the stream is not a terminal, when TERM is `dumb`, or when
NO_COLOR is set (https://no-color.org; rich then keeps bold and dim, drops colours); FORCE_COLOR forces it on.
A console on a stream that is not a terminal (a pipe, a file, the tests) lays tables out at their natural width,
one line per row, so that `grep` and `awk` see whole rows; text rendered by `render` is laid out that way too.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported where it draws: `issue --wait --json` and the other JSON paths never load it
    from rich.console import Console, RenderableType
    from rich.progress import Progress, TaskID

COLOUR_MODES = ("auto", "always", "never")
# Wide enough for any row: rich then lays a table out at its natural width instead of wrapping cells.
UNWRAPPED_WIDTH = 10_000


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except ValueError:  # a closed stream
        return False


def console_for(stream: IO[str], mode: str = "auto", environ: Mapping[str, str] | None = None) -> Console:
    """A console writing to `stream`. `auto`: rich decides colour; `always` / `never` override it.

    Raises ValueError for another mode (argparse's choices keep it out of the CLI)."""
    if mode not in COLOUR_MODES:
        raise ValueError(f"colour mode {mode!r} is not one of {', '.join(COLOUR_MODES)}")
    from rich.console import Console

    console = Console(
        file=stream,
        force_terminal=True if mode == "always" else None,
        color_system={"always": "standard", "never": None}.get(mode, "auto"),
        no_color={"always": False, "never": True}.get(mode),  # None: NO_COLOR decides
        highlight=False,
        markup=False,
        emoji=False,
        _environ=environ,
    )
    if not _isatty(stream):
        console.width = UNWRAPPED_WIDTH
    return console


def has_colour(console: Console) -> bool:
    """Whether what this console prints carries colours."""
    return console.color_system is not None and not console.no_color


def render(renderable: RenderableType, colour: bool = False) -> str:
    """What `renderable` prints as text, at its natural width: with ANSI colours or none. Lines end without trailing
    blanks."""
    from rich.console import Console

    console = Console(
        file=io.StringIO(),
        force_terminal=colour,
        color_system="standard" if colour else None,
        no_color=not colour,
        width=UNWRAPPED_WIDTH,
        highlight=False,
        markup=False,
        emoji=False,
    )
    return text_of(console, renderable)


def text_of(console: Console, renderable: RenderableType) -> str:
    """What `renderable` prints on `console`, as text, lines without trailing blanks."""
    with console.capture() as captured:
        console.print(renderable)
    return "".join(line.rstrip() + "\n" for line in captured.get().splitlines())


def paint(text: str, style: str | None, colour: bool) -> str:
    """`text` in a rich style ("red", "bold"...) as ANSI codes when `colour`; as is otherwise."""
    if not colour or not style:
        return text
    from rich.text import Text

    return render(Text.styled(text, style), colour=True).removesuffix("\n")


class WaitDisplay:
    """`--wait`'s progress on stderr (stdout keeps the result and `--json` clean).

    On a terminal: a live line (spinner, the state the execution is in, the time since the wait began) under the
    states already passed. Elsewhere (a pipe, a CI log): one plain line per state entered or retry, with the time
    since the execution started. Use as a context manager; the object is the callback `executions.wait` calls.
    """

    def __init__(self, title: str, stream: IO[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._title = title
        self._stream = stream if stream is not None else sys.stderr
        self._console = console_for(self._stream, "auto", environ if environ is not None else os.environ)
        self._live = self._console.is_terminal and not self._console.is_dumb_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        return self._live

    def __enter__(self) -> WaitDisplay:
        if self._live:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task(f"{self._title}: starting", total=None)
        return self

    def __call__(self, line: str, elapsed: float) -> None:
        text = f"  {elapsed:6.1f}s  {line}"
        if self._progress is None or self._task is None:
            print(text, file=self._stream, flush=True)
            return
        from rich.text import Text

        self._progress.console.print(Text(text))
        self._progress.update(self._task, description=f"{self._title}: {line}", refresh=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
