"""`scrapy crawl`, as Scrapy's own, plus what a user and a scheduler need:

- a bad spider argument is one line naming it (not an asyncio traceback);
- a crawl where nothing succeeded says so and exits 1 (Scrapy exits 0 when every page failed),
  and so does one stopped by a fatal problem (a full disk): a script, a cron job or Scrapyd
  must not take it for a success;
- Scrapyd jobs are held to the settings a scheduler may change. That check runs on the
  command line itself, before any setting is applied or any component built, so no setting
  can switch it off; the refused settings never reach the crawl, which reports them and
  stops at once (`twin_scraper.jobpolicy`).
"""

from __future__ import annotations

import argparse
import sys
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
from twin_scraper.services.crawling import outcome_problem

#: The exit code of a command line that named bad arguments (as argparse uses).
USAGE_EXIT = 2


class Command(ScrapyCrawl):
    crawler: Crawler | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        refused: list[str] = []
        if is_scrapyd_job(pair.partition("=")[0] for pair in opts.spargs):
            opts.set, refused = screen_job_settings(opts.set, Path.cwd())
        super().process_options(args, opts)
        assert self.settings is not None
        self.settings.set(REFUSED_SETTING, refused, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                spidercls = None  # Scrapy's own message follows
            check = getattr(spidercls, "check_arguments", None)
            if check is not None:
                try:
                    check(opts.spargs)
                except ValueError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    self.exitcode = USAGE_EXIT
                    return
        super().run(args, opts)
        if self.crawler is None:
            return
        if self.crawler.stats.get_value("finish_reason") == REFUSED_REASON:
            self.exitcode = 1
        elif self.exitcode == 0:
            problem = outcome_problem(self.crawler)
            if problem:
                print(f"error: {problem}", file=sys.stderr)
                self.exitcode = 1

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)  # kept: Scrapy forgets it when done
        return self.crawler
