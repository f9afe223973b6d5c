"""Quality gate: only real content goes on. Bot challenges, login walls, error pages and
empty extractions are dropped with their reason, so they never reach MongoDB or Qdrant."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from twin_scraper.items import Document, Quality
from twin_scraper.pipelines import Rejected


def rejection(item: Document, min_words: dict[str, int]) -> tuple[str, str] | None:
    """(verdict, reason) when the document is not content, else None."""
    if item.quality != Quality.OK:
        return item.quality, item.quality_reason or item.quality
    minimum = int(min_words.get(item.category, 1))
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
            quality, reason = problem
            self.stats.inc_value(f"twin/items/rejected/{quality}")
            raise Rejected(f"{quality}: {reason}: {item.url}")
        return item
