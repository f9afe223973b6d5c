"""`scrapy check`, as Scrapy's own, with what a contract run needs here: every spider is
built with its `contract_arguments` (TWIN_CONTRACTS), and the crawl report, like the
item pipelines Scrapy already turns off, stays off (no MongoDB, no stored run)."""

from __future__ import annotations

from typing import Any

from scrapy.commands.check import Command as ScrapyCheck
from scrapy.settings import SETTINGS_PRIORITIES


class Command(ScrapyCheck):
    def process_options(self, args: list[str], opts: Any) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # As Scrapy sets ITEM_PIPELINES for contracts: above the spiders', below the
        # command line's.
        priority = (SETTINGS_PRIORITIES["spider"] + SETTINGS_PRIORITIES["cmdline"]) // 2
        self.settings.set("EXTENSIONS", {}, priority=priority)
        self.settings.set("TWIN_CONTRACTS", True, priority=priority)
