"""Extraction: pure functions from HTML/JSON and a URL to fields. No Scrapy imports here,
so the same code runs in a spider, in a test on a saved page, and in `twin reextract`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Extracted:
    """What an extractor found on one page."""

    markdown: str
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
