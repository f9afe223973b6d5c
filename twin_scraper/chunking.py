"""Token-aware chunking of Markdown for embedding.

Chunks follow the text's own structure: paragraphs and code blocks stay whole when they
fit, long ones split at sentences (prose) or lines (code), and only a piece that is still
too long splits at words. Consecutive chunks overlap by up to `overlap` tokens of whole
pieces, so a sentence at a boundary is searchable from both sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TokenCounter = Callable[[Sequence[str]], list[int]]

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_LONG_WORD_CHARS = 200


def split_blocks(text: str) -> list[str]:
    """Paragraph-level blocks; a fenced code block is one block even with blank lines. A
    fence closes only on a line of the same character, at least as long (CommonMark), so
    a ```` block may hold ``` lines."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        if fence is not None:
            current.append(line)
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                blocks.append("\n".join(current))
                current, fence = [], None
            continue
        match = _FENCE.match(line)
        if match:
            if current:
                blocks.append("\n".join(current))
            current, fence = [line], match.group(1)
        elif line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _split_block(block: str) -> tuple[list[str], str]:
    """Sentences of prose (joined back with a space) or lines of code (with a newline)."""
    if _FENCE.match(block):
        return block.splitlines(), "\n"
    return [s for s in _SENTENCE_END.split(block) if s.strip()], " "


def _split_words(piece: str) -> list[str]:
    words: list[str] = []
    for word in piece.split():
        words.extend(word[i : i + _LONG_WORD_CHARS] for i in range(0, len(word), _LONG_WORD_CHARS))
    return words


@dataclass(frozen=True)
class Piece:
    text: str
    tokens: int
    joiner: str  # what separates it from the piece before it in the original text


def _pieces(text: str, count: TokenCounter, max_tokens: int) -> list[Piece]:
    """Pieces of at most `max_tokens` each, in order, with their token counts."""
    blocks = split_blocks(text)
    result: list[Piece] = []
    for block, tokens in zip(blocks, count(blocks) if blocks else [], strict=True):
        if tokens <= max_tokens:
            result.append(Piece(block, tokens, "\n\n"))
            continue
        parts, joiner = _split_block(block)
        for index, (part, part_tokens) in enumerate(zip(parts, count(parts), strict=True)):
            first = "\n\n" if index == 0 else joiner
            if part_tokens <= max_tokens:
                result.append(Piece(part, part_tokens, first))
                continue
            words = _split_words(part)
            word_counts = count(words) if words else []
            start = 0
            while start < len(words):
                end, total = start, 0
                while end < len(words) and (end == start or total + word_counts[end] <= max_tokens):
                    total += word_counts[end]
                    end += 1
                result.append(
                    Piece(" ".join(words[start:end]), total, first if start == 0 else " ")
                )
                start = end
    return result


def _render(window: list[Piece]) -> str:
    return window[0].text + "".join(p.joiner + p.text for p in window[1:])


def chunk_text(
    text: str, count: TokenCounter, max_tokens: int = 200, overlap: int = 40
) -> list[str]:
    """Split `text` into chunks of at most about `max_tokens` word pieces each."""
    if overlap >= max_tokens:
        raise ValueError("overlap must be smaller than max_tokens")
    chunks: list[str] = []
    window: list[Piece] = []
    for piece in _pieces(text, count, max_tokens):
        if window and sum(p.tokens for p in window) + piece.tokens > max_tokens:
            chunks.append(_render(window))
            kept: list[Piece] = []
            for previous in reversed(window):
                if sum(p.tokens for p in kept) + previous.tokens > overlap:
                    break
                kept.insert(0, previous)
            while kept and sum(p.tokens for p in kept) + piece.tokens > max_tokens:
                kept.pop(0)
            window = kept
        window.append(piece)
    if window:
        chunks.append(_render(window))
    return chunks
