"""Batch crawls from a seed file: each link goes to the platform that handles its domain.

scrapy crawl seeds -a file=seeds/example.yaml
"""

from __future__ import annotations

from typing import Any

from twin_scraper.browser import BrowserSpider
from twin_scraper.params import SeedsParams
from twin_scraper.platforms import platform_for
from twin_scraper.seeds import load_seed_file
from twin_scraper.spiders.article import ArticleRoutes
from twin_scraper.spiders.base import TwinSpider
from twin_scraper.spiders.github import GitHubRoutes


class SeedsSpider(ArticleRoutes, GitHubRoutes, BrowserSpider, TwinSpider):
    """Every platform's routes are mixed in, so its requests (and their callbacks) are
    this spider's own methods, which a JOBDIR can persist and resume. Routes that render
    pages (Medium profiles, LinkedIn) need `BrowserSpider`; Chromium starts only if one
    is actually rendered."""

    name = "seeds"
    params_model = SeedsParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = load_seed_file(self.params.file)
        self.author = self.batch.author
        self._sites = {}

    def report_arguments(self) -> dict[str, Any]:
        return {"file": self.params.file, "author": self.author, "links": len(self.batch.links)}

    async def start(self) -> Any:
        for link in self.batch.links:
            platform = platform_for(link.url, self.settings)
            self.logger.debug("Routing %s to %s", link.url, platform.name)
            for request in getattr(self, platform.route)(link):
                yield request
