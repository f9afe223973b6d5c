"""Token-aware chunking of Markdown for embedding.

Chunks follow the text's own structure: paragraphs and code blocks stay whole when they
fit, long ones split at sentences (prose) or lines (code), and only a piece that is still
too long splits at words. Consecutive chunks overlap by up to `overlap` tokens of whole
pieces, so a sentence at a boundary is searchable from both sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

TokenCounter = Callable[[Sequence[str]], list[int]]

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_LONG_WORD_CHARS = 200


def split_blocks(text: str) -> list[str]:
    """Paragraph-level blocks; a fenced code block is one block even with blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence is None and match:
            if current:
                blocks.append("\n".join(current))
            current, fence = [line], match.group(1)[0] * 3
            continue
        if fence is not None:
            current.append(line)
            if line.strip().startswith(fence) and len(current) > 1:
                blocks.append("\n".join(current))
                current, fence = [], None
            continue
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _split_block(block: str) -> list[str]:
    if _FENCE.match(block):
        return block.splitlines()
    return [s for s in _SENTENCE_END.split(block) if s.strip()]


def _split_words(piece: str) -> list[str]:
    words: list[str] = []
    for word in piece.split():
        words.extend(word[i : i + _LONG_WORD_CHARS] for i in range(0, len(word), _LONG_WORD_CHARS))
    return words


def _pieces(text: str, count: TokenCounter, max_tokens: int) -> list[tuple[str, int]]:
    """Pieces of at most `max_tokens` each, in order, with their token counts."""
    blocks = split_blocks(text)
    result: list[tuple[str, int]] = []
    for block, tokens in zip(blocks, count(blocks) if blocks else [], strict=True):
        if tokens <= max_tokens:
            result.append((block, tokens))
            continue
        parts = _split_block(block)
        for part, part_tokens in zip(parts, count(parts) if parts else [], strict=True):
            if part_tokens <= max_tokens:
                result.append((part, part_tokens))
                continue
            words = _split_words(part)
            word_counts = count(words) if words else []
            start = 0
            while start < len(words):
                end, total = start, 0
                while end < len(words) and (end == start or total + word_counts[end] <= max_tokens):
                    total += word_counts[end]
                    end += 1
                result.append((" ".join(words[start:end]), total))
                start = end
    return result


def chunk_text(
    text: str, count: TokenCounter, max_tokens: int = 200, overlap: int = 40
) -> list[str]:
    """Split `text` into chunks of at most about `max_tokens` word pieces each."""
    if overlap >= max_tokens:
        raise ValueError("overlap must be smaller than max_tokens")
    pieces = _pieces(text, count, max_tokens)
    chunks: list[str] = []
    window: list[tuple[str, int]] = []
    for piece in pieces:
        if window and sum(t for _, t in window) + piece[1] > max_tokens:
            chunks.append("\n\n".join(p for p, _ in window))
            kept: list[tuple[str, int]] = []
            for previous in reversed(window):
                if sum(t for _, t in kept) + previous[1] > overlap:
                    break
                kept.insert(0, previous)
            while kept and sum(t for _, t in kept) + piece[1] > max_tokens:
                kept.pop(0)
            window = kept
        window.append(piece)
    if window:
        chunks.append("\n\n".join(p for p, _ in window))
    return chunks
