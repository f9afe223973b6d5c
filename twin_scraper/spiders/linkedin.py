"""LinkedIn: the member's posts and articles, from their data export.

    scrapy crawl linkedin -a export=PATH [-a author="Full Name"]

`PATH` is the archive LinkedIn sends ("Get a copy of your data"), as a .zip or the
folder it extracts to. Nothing is fetched: posts come from Shares.csv, articles from
Articles/Articles/*.html, and both go through the usual pipelines. Routing only: the
parsing lives in `twin_scraper.extract.linkedin`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from twin_scraper.extract.linkedin import (
    ExportError,
    LinkedInExport,
    export_article_fields,
    export_post_fields,
    parse_export,
    read_export,
)
from twin_scraper.items import Document
from twin_scraper.params import clean_author
from twin_scraper.seeds import LinkKind, SeedLink
from twin_scraper.spiders.base import TwinSpider


class LinkedInParams(BaseModel):
    """`-a export=PATH`, with an optional `-a author=`."""

    model_config = ConfigDict(extra="forbid")

    export: str | None = None
    author: str | None = None

    @field_validator("author")
    @classmethod
    def _author(cls, value: str | None) -> str | None:
        return clean_author(value)

    @model_validator(mode="after")
    def _one_source(self) -> LinkedInParams:
        if not (self.export or "").strip():
            raise ValueError(
                "give -a export=PATH (your LinkedIn data export: the .zip or its folder)"
            )
        return self


def open_export(path: str) -> LinkedInExport:
    """Read and parse an export; raises ExportError naming the path and the cause."""
    try:
        return parse_export(read_export(path), str(path))
    except ExportError as exc:
        if str(path) in str(exc):
            raise
        raise ExportError(f"LinkedIn export {path}: {exc}") from None


def export_location(export: LinkedInExport, where: str) -> str:
    """Where in an export something is, for the crawl report (whose rows are by host):
    `linkedin-export://<archive name>/<file and line>`."""
    return f"linkedin-export://{Path(export.source).name}/{where}"


class LinkedInRoutes:
    """Items for LinkedIn links. Needs `self.author` (str | None)."""

    author: str | None

    def linkedin_requests(self, link: SeedLink) -> Iterator[Any]:
        if link.kind != LinkKind.LINKEDIN_EXPORT:
            self.fail_page(
                link.url,
                "needs a LinkedIn export",
                f"{link.url}: LinkedIn pages need a login; use `linkedin_export: PATH` "
                "with your LinkedIn data export",
            )
            return
        try:
            export = open_export(link.url)
        except ExportError as exc:
            self.fail_page(link.url, "unreadable LinkedIn export", str(exc))
            return
        yield from self.export_documents(export)

    def export_documents(self, export: LinkedInExport) -> Iterator[Document]:
        """Every post and article of an export, as documents for the pipelines."""
        author = self.author or export.author
        if not author:
            raise ExportError(
                f"LinkedIn export {export.source} names no member (no Profile.csv): "
                "pass the author's full name (-a author=...)"
            )
        self.logger.info(
            "LinkedIn export %s: %d posts, %d article pages, author %s",
            export.source,
            len(export.posts),
            len(export.articles),
            author,
        )
        for where, why in export.problems:
            self.fail_page(export_location(export, where), why)
        for post in export.posts:
            if not post.text:
                self.skip_page(post.url, "no text of the author's (a reshare or media alone)")
                continue
            yield Document.model_construct(**export_post_fields(post, author))
        for article in export.articles:
            if article.url is None:
                self.skip_page(
                    export_location(export, article.name),
                    "an unpublished draft (no public URL in the export)",
                )
                continue
            fields = export_article_fields(article.html, article.url, author, name=article.name)
            yield Document.model_construct(**fields)


class LinkedInSpider(LinkedInRoutes, TwinSpider):
    name = "linkedin"
    params_model = LinkedInParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.author = self.params.author
        # Read now, so a bad path fails `scrapy crawl` at once with its reason.
        self.export = open_export(str(Path(self.params.export).expanduser()))
        if not (self.author or self.export.author):
            raise ExportError(
                f"LinkedIn export {self.params.export} names no member (no Profile.csv): "
                "pass the author's full name (-a author=...)"
            )

    async def start(self) -> Any:
        for document in self.export_documents(self.export):
            yield document
