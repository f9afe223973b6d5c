"""`scrapy crawl`, exiting 1 when the crawl stopped on a fatal problem (a full disk):
a script, a cron job or Scrapyd must not take such a crawl for a success."""

from __future__ import annotations

import argparse

from scrapy import Spider
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler


class Command(ScrapyCrawl):
    def __init__(self) -> None:
        super().__init__()
        self.crawlers: list[Crawler] = []

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        self.crawlers.append(crawler)
        return crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if any(c.stats is not None and c.stats.get_value("twin/fatal") for c in self.crawlers):
            self.exitcode = 1
