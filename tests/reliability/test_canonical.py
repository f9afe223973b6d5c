"""A page on another host cannot replace a stored document by naming it as its canonical
URL; a platform's custom domains (which the platform itself vouches for) still work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.reliability.helpers import article_html
from twin_scraper.config import project_settings
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.extract.medium import story_fields
from twin_scraper.extract.substack import substack_fields
from twin_scraper.items import Document
from twin_scraper.pipelines.canonical import CanonicalPipeline
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.urls import canonicalize_url

FIXTURES = Path(__file__).parents[1] / "fixtures" / "extract"


@deferred_f_from_coro_f
async def test_a_page_elsewhere_cannot_replace_a_stored_document(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    site.routes["/notes/0/"] = Route(article_html(0, site.base))
    original = site.url("/notes/0/")
    first = await run_spider("article", settings, url=original)
    assert [i.change for i in first.items] == ["new"]
    stored = mongo.db.articles.find_one({"canonical_url": canonicalize_url(original)})
    # Another host (same machine, other name) serves other words, and claims the post.
    elsewhere = site.base.replace("127.0.0.1", "localhost")
    impostor = article_html(1, site.base).replace(
        f"{site.base}/notes/1/".encode(), original.encode()
    )
    assert f'<link rel="canonical" href="{original}">'.encode() in impostor
    site.routes["/impostor/"] = Route(impostor)
    second = await run_spider("article", settings, url=f"{elsewhere}/impostor/")
    assert [i.change for i in second.items] == ["new"]  # not "updated"
    after = mongo.db.articles.find_one({"canonical_url": canonicalize_url(original)})
    assert after["content_hash"] == stored["content_hash"]
    assert after["fetched_at"] == stored["fetched_at"]
    alias = mongo.db.articles.find_one({"url": f"{elsewhere}/impostor/"})
    assert alias["canonical_url"] == canonicalize_url(f"{elsewhere}/impostor/")
    assert alias["extra"]["declared_canonical"] == canonicalize_url(original)
    assert mongo.db.articles.count_documents({}) == 2


def canonical_of(fields: dict[str, Any], settings: dict[str, Any] | None = None) -> Document:
    pipeline = CanonicalPipeline(project_settings(settings), stats=_Stats())
    return pipeline.process_item(Document.model_validate(fields))


class _Stats:
    def inc_value(self, key: str, count: int = 1) -> None:
        pass


def medium_page(canonical: str, medium_url: str) -> str:
    """The saved story page, declaring `canonical`, with Medium's data saying `medium_url`."""
    html = (FIXTURES / "medium" / "free_story_code" / "page.html").read_text()
    default = "https://medium.com/@adaquill/retries-that-give-up-01a9c3e5f7b1"
    html = html.replace(default.replace("/", "\\u002F"), medium_url.replace("/", "\\u002F"))
    return html.replace(f'href="{default}"', f'href="{canonical}"').replace(
        f'content="{default}"', f'content="{canonical}"'
    )


STORY = "https://medium.com/@adaquill/retries-that-give-up-01a9c3e5f7b1"
CUSTOM = "https://blog.quill.dev/retries-that-give-up-01a9c3e5f7b1"


def test_medium_vouches_for_a_custom_domain() -> None:
    doc = canonical_of(story_fields(medium_page(CUSTOM, CUSTOM), STORY, None))
    assert doc.canonical_url == canonicalize_url(CUSTOM)
    assert "declared_canonical" not in doc.extra


@pytest.mark.parametrize(
    ("canonical", "medium_url", "fetched_from"),
    [
        # The author's own "originally published at": Medium's data says the story is here.
        ("https://ada.example/posts/retries/", STORY, STORY),
        # A page elsewhere dressed up as Medium's: Medium did not serve it.
        (CUSTOM, CUSTOM, "https://evil.example/retries-that-give-up-01a9c3e5f7b1"),
    ],
)
def test_medium_vouches_for_nothing_else(
    canonical: str, medium_url: str, fetched_from: str
) -> None:
    doc = canonical_of(story_fields(medium_page(canonical, medium_url), fetched_from, None))
    assert doc.canonical_url == canonicalize_url(fetched_from)
    assert doc.extra["declared_canonical"] == canonicalize_url(canonical)


def substack_post(canonical: str) -> str:
    post = json.loads((FIXTURES / "substack" / "free_post" / "post.json").read_text())
    post["canonical_url"] = canonical
    return json.dumps(post)


@pytest.mark.parametrize(
    ("fetched_from", "vouched", "settings"),
    [
        ("https://adabakes.substack.com/p/sourdough-timing", True, None),
        # A test origin configured as Substack's (SUBSTACK_BASE_URL) is Substack's too.
        ("http://127.0.0.1:8080/p/sourdough-timing", True, {"SUBSTACK_BASE_URL": "http://127.0.0.1:8080"}),
        ("https://evil.example/p/sourdough-timing", False, None),
    ],
)  # fmt: skip
def test_substack_vouches_for_its_custom_domains_only(
    fetched_from: str, vouched: bool, settings: dict | None
) -> None:
    custom = "https://notes.ada.example/p/sourdough-timing"
    doc = canonical_of(substack_fields(substack_post(custom), fetched_from, None), settings)
    assert doc.canonical_url == canonicalize_url(custom if vouched else fetched_from)
    assert ("declared_canonical" in doc.extra) is not vouched
