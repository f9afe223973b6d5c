"""Batch crawls from a seed file: each link goes to the platform that handles its domain.

scrapy crawl seeds -a file=seeds/example.yaml
scrapy crawl seeds -a yaml="$(cat seeds/example.yaml)"     # the content (Scrapyd jobs)
scrapy crawl seeds -a url=https://ada.example/,https://medium.com/@ada   # links, no file
"""

from __future__ import annotations

from typing import Any

from twin_scraper.browser import BrowserSpider
from twin_scraper.params import SeedsParams, parse_params
from twin_scraper.platforms import LINKEDIN, platform_for
from twin_scraper.seeds import LinkKind, SeedBatch, load_seed_file, parse_seeds, url_batch
from twin_scraper.spiders.article import ArticleRoutes
from twin_scraper.spiders.base import TwinSpider
from twin_scraper.spiders.github import GitHubRoutes
from twin_scraper.spiders.linkedin import LinkedInRoutes
from twin_scraper.spiders.medium import MediumRoutes
from twin_scraper.spiders.substack import SubstackRoutes


class SeedsSpider(
    ArticleRoutes,
    MediumRoutes,
    SubstackRoutes,
    LinkedInRoutes,
    GitHubRoutes,
    BrowserSpider,
    TwinSpider,
):
    """Every platform's routes are mixed in, so its requests (and their callbacks) are
    this spider's own methods, which a JOBDIR can persist and resume. Routes that render
    pages (Medium profiles, LinkedIn) need `BrowserSpider`; Chromium starts only if one
    is actually rendered."""

    name = "seeds"
    params_model = SeedsParams
    contract_arguments = {"url": "http://127.0.0.1/"}
    path_arguments = ("file",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = self.load_batch(self.params)
        for link in self.batch.links:
            if link.kind == LinkKind.LINKEDIN_EXPORT:
                self.check_job_path("linkedin_export", link.url)
        self.author = self.batch.author
        self._sites = {}
        self._substack_publications = {}
        self.include_coauthored = False

    @classmethod
    def check_arguments(cls, kwargs: dict[str, Any]) -> None:
        ours = {k: v for k, v in kwargs.items() if k[:1] != "_"}
        cls.load_batch(parse_params(cls.params_model, cls.name, ours))

    @staticmethod
    def load_batch(params: Any) -> SeedBatch:
        if params.url is not None:
            return url_batch(params.url, params.author, params.limit)
        if params.yaml is not None:
            return parse_seeds(params.yaml, "-a yaml")
        return load_seed_file(params.file)

    def report_arguments(self) -> dict[str, Any]:
        if self.params.url is not None:
            return {"url": self.params.url, "author": self.author, "links": len(self.batch.links)}
        source = {"file": self.params.file} if self.params.file else {"yaml": "(inline)"}
        return {**source, "author": self.author, "links": len(self.batch.links)}

    async def start(self) -> Any:
        for link in self.batch.links:
            if link.kind == LinkKind.LINKEDIN_EXPORT:
                platform = LINKEDIN
            else:
                platform = platform_for(link.url, self.settings)
            self.logger.debug("Routing %s to %s", link.url, platform.name)
            for request in getattr(self, platform.route)(link):
                yield request
