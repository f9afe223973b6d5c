"""`scrapy crawl`, as Scrapy's own, plus two answers a user needs: a bad spider argument is
one line naming it (not an asyncio traceback), and a crawl where nothing succeeded says
so and exits 1 (Scrapy exits 0 when every page failed)."""

from __future__ import annotations

import sys
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler

from twin_scraper.services.crawling import outcome_problem

#: The exit code of a command line that named bad arguments (as argparse uses).
USAGE_EXIT = 2


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: Any) -> None:
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
        if self.exitcode == 0 and self.crawler is not None:
            problem = outcome_problem(self.crawler)
            if problem:
                print(f"error: {problem}", file=sys.stderr)
                self.exitcode = 1

    crawler: Crawler | None = None

    def _create_crawler(self, spname: str) -> Crawler:  # type: ignore[override]
        self.crawler = super()._create_crawler(spname)  # kept: Scrapy forgets it when done
        return self.crawler
