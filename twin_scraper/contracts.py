"""`scrapy check`: contracts on the spiders' parse callbacks, run against saved pages.

`@fixture PATH` serves PATH (relative to the project directory, where scrapy.cfg is)
from a static server on 127.0.0.1 and sends the contract's request there, so every
callback is checked on a real page through Scrapy's downloader, with no network:

    @fixture tests/fixtures/extract/article/german_news/page.html
    @returns items 1 1
    @scrapes title content published_at
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from scrapy.contracts import Contract
from scrapy.utils.conf import closest_scrapy_cfg


@cache
def _server() -> Any:
    """One static server on the project directory for the whole check (a daemon thread,
    gone with the process)."""
    from twin_scraper.demo.server import SiteServer

    cfg = closest_scrapy_cfg()
    root = Path(cfg).parent if cfg else Path.cwd()
    return SiteServer(root).start()


class FixtureContract(Contract):
    name = "fixture"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        (path,) = self.args
        args["url"] = _server().url("/" + path.lstrip("/"))
        return args
