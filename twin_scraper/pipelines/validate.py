"""Validation: every item becomes a validated `Document`, or is dropped with the reason.

Spiders may yield a `Document` built without validation (`model_construct`) or any other
item type; either way its fields are read through itemadapter and checked here."""

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
        data = ItemAdapter(item).asdict()
        try:
            return Document.model_validate(data)
        except ValidationError as exc:
            self.stats.inc_value("twin/items/dropped/invalid")
            raise Invalid(
                f"invalid item ({describe(exc)}): {data.get('url', '<no url>')}"
            ) from None
