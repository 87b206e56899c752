"""Reading the examples out of the Markdown pages: fenced blocks, the markers before them, command lines."""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

from deploy.paths import REPO_ROOT

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


# `aws ...` and `npx cdk ...` command lines of shell blocks: one argv each (shlex), `$VARIABLES` left as written.
_SUBSTITUTED_AWS = re.compile(r"\$\((?P<command>aws\s[^)]*)\)")
_AWS_LINE = re.compile(r"^\s*(?:[A-Z_]+=)?(?P<command>aws\s.*)$", re.MULTILINE)
_NPX_CDK_LINE = re.compile(r"^\s*(?P<command>npx cdk(?:\s.*)?)$", re.MULTILINE)


def _argv(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def aws_commands(text: str) -> list[list[str]]:
    """Every AWS CLI command line of a shell block, `VAR=$(aws ...)` included."""
    joined = text.replace("\\\n", " ")
    found = [_argv(match["command"]) for match in _SUBSTITUTED_AWS.finditer(joined)]
    found += [_argv(match["command"]) for match in _AWS_LINE.finditer(joined) if "$(" not in match.group(0)]
    return found


def npx_cdk_commands(text: str) -> list[list[str]]:
    """Every `npx cdk ...` command line of a shell block."""
    return [_argv(match["command"]) for match in _NPX_CDK_LINE.finditer(text.replace("\\\n", " "))]


def shell_blocks(page: Path) -> list[Block]:
    return [block for block in blocks(page) if block.language in SHELL_LANGUAGES]


_HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<title>.+)$", re.MULTILINE)


def blocks_by_subsection(page: Path, title: str) -> dict[str, list[Block]]:
    """The blocks of the section headed `title`, by the subsection they are in (their own heading's title; "" for
    those before the first subsection). Raises ValueError when the page has no such heading."""
    text = page.read_text()
    headings = [
        (text.count("\n", 0, m.start()) + 1, len(m["level"]), m["title"].strip()) for m in _HEADING.finditer(text)
    ]
    found = [(line, level) for line, level, heading in headings if heading == title]
    if not found:
        raise ValueError(f"{page.name} has no heading {title!r}")
    (start, level), end = found[0], len(text.splitlines()) + 1
    end = next((line for line, other, _ in headings if line > start and other <= level), end)
    inner = [(line, heading) for line, other, heading in headings if start < line < end and other == level + 1]
    grouped: dict[str, list[Block]] = {"": [], **{heading: [] for _, heading in inner}}
    for block in blocks(page):
        if start < block.line < end:
            owner = [heading for line, heading in inner if line < block.line]
            grouped[owner[-1] if owner else ""].append(block)
    return grouped
