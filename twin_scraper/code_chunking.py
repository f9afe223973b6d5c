"""Chunking source code along its own structure, for embedding.

A file is cut where its structure allows: between top-level definitions first (Python's
functions and classes found with `ast`, with their decorators and the comments just
above them; in other languages a blank line followed by an unindented line), then
between nested definitions or at blank lines, and only a piece still too long at line
ends. Small neighbours are merged up to the token budget. Chunks are exact slices of the
file: joined, they give it back byte for byte (indentation and blank lines included).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import pairwise

from twin_scraper.chunking import TokenCounter

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_CLOSER = re.compile(r"^[\s]*[}\])]|^end\b")
_WORD = re.compile(r"\S+\s*|\s+")
_LONG_WORD_CHARS = 200
# Cut preferences: the lower, the better a place to cut.
TOP_LEVEL, NESTED, BLANK, ANY_LINE = 0, 1, 5, 9


@dataclass(frozen=True)
class CodeChunk:
    text: str
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive


def split_lines(text: str) -> list[str]:
    """Lines with their endings: `"".join(split_lines(t)) == t`."""
    return _LINE.findall(text)


def _python_cuts(text: str, lines: list[str]) -> dict[int, int] | None:
    """Line index -> preference, from the syntax tree; None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    cuts: dict[int, int] = {}

    def visit(body: list[ast.stmt], depth: int) -> None:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # the comment above a definition belongs to it
            level = TOP_LEVEL if depth == 0 else NESTED
            cuts[start] = min(cuts.get(start, ANY_LINE), level)
            end = node.end_lineno or node.lineno
            cuts[end] = min(cuts.get(end, ANY_LINE), level)
            visit(node.body, depth + 1)

    visit(tree.body, 0)
    return cuts


def _layout_cuts(lines: list[str]) -> dict[int, int]:
    """Line index -> preference from the layout: after a blank line, an unindented line
    (not a closing bracket) starts a top-level block; any other line a smaller one."""
    cuts: dict[int, int] = {}
    for index in range(1, len(lines)):
        line = lines[index]
        if lines[index - 1].strip() or not line.strip():
            continue
        top = not line[0].isspace() and not _CLOSER.match(line)
        cuts[index] = TOP_LEVEL if top else BLANK
    return cuts


def chunk_code(
    text: str, language: str | None, count: TokenCounter, max_tokens: int
) -> list[CodeChunk]:
    """Split a source file into chunks of at most about `max_tokens` word pieces, cut
    along definitions where possible (a line longer than that, at spaces)."""
    lines = split_lines(text)
    if not lines:
        return []
    cuts = _layout_cuts(lines)
    if language == "Python":
        parsed = _python_cuts(text, lines)
        if parsed is not None:
            # Blank-line cuts stay as a fallback for long stretches without definitions.
            cuts = {i: BLANK for i in cuts} | parsed
    tokens = count(lines)
    prefix = [0]
    for n in tokens:
        prefix.append(prefix[-1] + n)

    def size(start: int, end: int) -> int:
        return prefix[end] - prefix[start]

    def split(start: int, end: int) -> list[tuple[int, int]]:
        """Pieces of [start, end) that fit, cut at the best places available."""
        if size(start, end) <= max_tokens or end - start == 1:
            return [(start, end)]
        inner = {i: p for i, p in cuts.items() if start < i < end}
        best = min(inner.values(), default=ANY_LINE)
        points = sorted(i for i, p in inner.items() if p == best) if inner else []
        if best == ANY_LINE or not points:
            points = list(range(start + 1, end))
        bounds = [start, *points, end]
        return [piece for a, b in pairwise(bounds) for piece in split(a, b)]

    units: list[tuple[str, int, int, int]] = []  # text, first line, last line, tokens
    for start, end in split(0, len(lines)):
        if size(start, end) <= max_tokens:
            units.append(("".join(lines[start:end]), start + 1, end, size(start, end)))
        else:  # one line longer than a chunk (data, markup): cut at spaces, then anywhere
            units.extend(
                (part, start + 1, start + 1, n)
                for part, n in _split_line(lines[start], count, max_tokens)
            )
    chunks: list[CodeChunk] = []
    total = 0
    for text, first, last, tokens in units:
        if chunks and total + tokens <= max_tokens:
            previous = chunks[-1]
            chunks[-1] = CodeChunk(previous.text + text, previous.start_line, last)
            total += tokens
        else:
            chunks.append(CodeChunk(text, first, last))
            total = tokens
    return chunks


def _split_line(line: str, count: TokenCounter, max_tokens: int) -> list[tuple[str, int]]:
    """Exact consecutive parts of a long line, each of at most about `max_tokens`."""
    words = [
        word[i : i + _LONG_WORD_CHARS]
        for word in _WORD.findall(line)
        for i in range(0, len(word), _LONG_WORD_CHARS)
    ]
    parts: list[tuple[str, int]] = []
    for word, tokens in zip(words, count(words), strict=True):
        if parts and parts[-1][1] + tokens <= max_tokens:
            parts[-1] = (parts[-1][0] + word, parts[-1][1] + tokens)
        else:
            parts.append((word, tokens))
    return parts
