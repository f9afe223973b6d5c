"""A finished crawl's job directory is removed.

A JOBDIR is for resuming a stopped crawl (Ctrl-C, Scrapyd's cancel.json). Kept after the
crawl finished, it would make the next run with the same JOBDIR treat every request as
already seen and fetch nothing.
"""

from __future__ import annotations

import logging
import shutil

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)


class FinishedJobDirCleanup:
    def __init__(self, path: str) -> None:
        self.path = path
        self.finished = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FinishedJobDirCleanup:
        path = job_dir(crawler.settings)
        if not path:
            raise NotConfigured
        extension = cls(path)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        # After the scheduler, the dupefilter and the spider state have written their files.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.finished = reason == "finished"

    def engine_stopped(self) -> None:
        if self.finished:
            shutil.rmtree(self.path, ignore_errors=True)
            logger.info("Crawl finished: removed its job directory %s", self.path)
        else:
            logger.info("Crawl stopped: schedule it again with JOBDIR=%s to resume", self.path)
