"""Quality gate: only real content goes on. Bot challenges, login walls, error pages and
empty extractions are dropped with their reason, so they never reach MongoDB or Qdrant."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from twin_scraper.items import Document, Quality
from twin_scraper.pipelines import Rejected


def rejection(item: Document, min_words: dict[str, int]) -> tuple[str, str] | None:
    """(verdict, reason) when the document is not content, else None.

    The word floor guards against a failed HTML extraction (a few words of navigation
    left): a body the platform gives whole (`authoritative`) or a platform's own preview of
    a paid or member-only post is kept however short, as long as it has a word."""
    if item.quality != Quality.OK:
        return item.quality, item.quality_reason or item.quality
    if item.preview and item.word_count == 0:
        return f"{item.preview}, preview only", f"{item.preview_reason}: nothing to keep"
    minimum = int(min_words.get(item.category, 1))
    if item.authoritative or item.preview:
        minimum = min(minimum, 1)
    if item.word_count < minimum:
        return (
            Quality.EMPTY,
            f"extracted {item.word_count} words, fewer than {minimum} for {item.category}",
        )
    return None


class QualityGatePipeline:
    def __init__(self, min_words: dict[str, int], stats: Any) -> None:
        self.min_words = min_words
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QualityGatePipeline:
        return cls(crawler.settings.getdict("QUALITY_MIN_WORDS"), crawler.stats)

    def process_item(self, item: Document) -> Document:
        problem = rejection(item, self.min_words)
        if problem is not None:
            verdict, reason = problem
            key = "preview_only" if verdict.endswith("preview only") else verdict
            self.stats.inc_value(f"twin/items/rejected/{key}")
            raise Rejected(f"{verdict}: {reason}: {item.url}")
        return item
