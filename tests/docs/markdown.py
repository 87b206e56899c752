"""Reading the examples out of the Markdown pages: fenced blocks, the markers before them, command lines."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from certlib.resources import REPO_ROOT

DOCS = REPO_ROOT / "docs"
PAGES = sorted([REPO_ROOT / "README.md", *DOCS.glob("**/*.md")])
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>[\w-]*)\n(?P<body>.*?)^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL
)
_MARKER = re.compile(r"<!--\s*refused:\s*(?P<message>(?:(?!-->).)*?)\s*-->\s*\Z", re.DOTALL)
# Blocks that hold command lines: output samples and pictures are marked `text`.
SHELL_LANGUAGES = ("", "sh", "bash", "shell", "console")
_COMMAND = re.compile(r"\bcertctl(?P<arguments>(?:[ \t]+[^\s#`]+)+)")
# In prose (a notification's remedy): a command ends at a comma, a semicolon, or a full stop and a space.
_PROSE_COMMAND = re.compile(r"\bcertctl (?P<arguments>.+?)(?=[,;]|\.\s|\.?$)")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    body: str
    refused: str | None  # the message of a `<!-- refused: ... -->` marker right before the block

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line}"


def blocks(page: Path, language: str | None = None) -> list[Block]:
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        if language is not None and match["language"] != language:
            continue
        before = text[: match.start()].rstrip("\n")
        marker = _MARKER.search(before[-300:]) if before.endswith("-->") else None
        line = text.count("\n", 0, match.start()) + 1
        body = textwrap.dedent(match["body"])
        found.append(Block(page, line, match["language"], body, marker["message"] if marker else None))
    return found


def commands(text: str) -> list[str]:
    """Every `certctl ...` command line of a shell block: the words after `certctl`, up to a comment or the line's end
    (a line ending in a backslash goes on)."""
    joined = text.replace("\\\n", " ")
    return [match["arguments"].strip() for match in _COMMAND.finditer(joined)]


def prose_commands(text: str) -> list[str]:
    return [match["arguments"].strip() for match in _PROSE_COMMAND.finditer(text)]


def shell_commands(page: Path) -> list[tuple[str, str]]:
    """(where, arguments) of every certctl command line in the page's shell blocks."""
    return [
        (block.where, command)
        for block in blocks(page)
        if block.language in SHELL_LANGUAGES
        for command in commands(block.body)
    ]
