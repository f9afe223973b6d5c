"""`scrapy crawl`, with Scrapyd jobs held to the settings a scheduler may change.

The check runs on the command line itself, before any setting is applied or any
component built, so no setting can switch it off; the refused settings never reach the
crawl, which reports them and stops at once (`twin_scraper.jobpolicy`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from twin_scraper.jobpolicy import (
    REFUSED_REASON,
    REFUSED_SETTING,
    is_scrapyd_job,
    screen_job_settings,
)


class Command(ScrapyCrawl):
    crawler: Crawler | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        refused: list[str] = []
        if is_scrapyd_job(pair.partition("=")[0] for pair in opts.spargs):
            opts.set, refused = screen_job_settings(opts.set, Path.cwd())
        super().process_options(args, opts)
        assert self.settings is not None
        self.settings.set(REFUSED_SETTING, refused, priority="cmdline")

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.crawler and self.crawler.stats.get_value("finish_reason") == REFUSED_REASON:
            self.exitcode = 1
