"""Validation: every item becomes a `Document`, or is dropped with the reason."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from pydantic import ValidationError
from scrapy.crawler import Crawler

from twin_scraper.items import Document
from twin_scraper.pipelines import Invalid


def describe(error: ValidationError) -> str:
    """`field: message` for each problem, short enough for a log line and the report."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg'].removeprefix('Value error, ')}"
        for e in error.errors()[:5]
    )


class ValidatePipeline:
    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Document:
        if isinstance(item, Document):
            return item
        data = ItemAdapter(item).asdict()
        try:
            return Document.model_validate(data)
        except ValidationError as exc:
            self.stats.inc_value("twin/items/dropped/invalid")
            raise Invalid(
                f"invalid item ({describe(exc)}): {data.get('url', '<no url>')}"
            ) from None
