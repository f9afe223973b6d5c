"""Token-aware chunking with the real tokenizer of the offline model."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from twin_scraper.chunking import chunk_text, split_blocks
from twin_scraper.stores.embedder import model_path, token_counter


@pytest.fixture(scope="module")
def count(model_dir: Path):
    return token_counter(model_path(model_dir))


PROSE = " ".join(
    f"Sentence number {i} talks about bread, starters and the patience they need."
    for i in range(120)
)


def test_chunks_respect_the_token_budget_and_overlap(count) -> None:
    chunks = chunk_text(PROSE, count, max_tokens=100, overlap=20)
    assert len(chunks) > 5
    assert all(n <= 100 for n in count(chunks))
    for previous, following in itertools.pairwise(chunks):
        assert following.startswith(previous.split(". ")[-1])  # the last sentence carries over
        assert "\n" not in following  # sentences of one paragraph stay one paragraph
    text = " ".join(chunks)
    assert all(f"number {i} " in text for i in range(120))  # nothing lost


def test_code_fence_stays_whole_with_its_blank_lines(count) -> None:
    code = "```python\ndef f():\n\n    return 1\n```"
    text = f"Intro paragraph.\n\n{code}\n\nOutro paragraph."
    assert split_blocks(text) == ["Intro paragraph.", code, "Outro paragraph."]
    chunks = chunk_text(text, count, max_tokens=200, overlap=20)
    assert chunks == [text]


def test_long_code_splits_at_lines_and_long_words_split(count) -> None:
    code = "```\n" + "\n".join(f"value_{i} = compute({i}) + offset" for i in range(200)) + "\n```"
    chunks = chunk_text(code, count, max_tokens=80, overlap=10)
    assert len(chunks) > 5 and all(n <= 80 for n in count(chunks))
    blob = "x" * 5000
    chunks = chunk_text(blob, count, max_tokens=50, overlap=0)
    assert "".join(c.replace(" ", "") for c in chunks) == blob
    assert all(n <= 50 for n in count(chunks))


def test_empty_text_gives_no_chunks(count) -> None:
    assert chunk_text("", count) == []
    assert chunk_text("\n\n  \n", count) == []
    with pytest.raises(ValueError):
        chunk_text("x", count, max_tokens=10, overlap=10)


def test_a_longer_fence_holds_shorter_fence_lines(count) -> None:
    code = "````\nline 1\n  ```inner```\n```\n\n\tend\n````"
    text = f"Intro\n\n{code}\n\nOutro"
    assert split_blocks(text) == ["Intro", code, "Outro"]
