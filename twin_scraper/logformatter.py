"""Log lines name the page, never dump the item: items carry raw HTML (megabytes) and
must never put a secret into a log."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


def item_url(item: Any) -> str:
    """The URL of any item we yield (a Document, or a dict in tests and user spiders)."""
    url = getattr(item, "url", None)
    if url is None and isinstance(item, dict):
        url = item.get("url")
    return str(url or "<no url>")


class TwinLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Stored %(url)s", "args": {"url": item_url(item)}}

    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {
            "level": result["level"],
            "msg": "Dropped: %(exception)s",
            "args": {"exception": exception},
        }

    def item_error(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        return {
            "level": logging.ERROR,
            "msg": "Error processing %(url)s",
            "args": {"url": item_url(item)},
        }
