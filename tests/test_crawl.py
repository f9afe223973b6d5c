"""End to end: spiders through Scrapy's engine against sites on 127.0.0.1, documents in
MongoDB (nx-27017 via pymongo), chunks in Qdrant (local mode) with the offline model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import models
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import TESTS_DIR, run_spider
from twin_scraper.config import StoreConfig
from twin_scraper.demo.server import Route, SiteServer
from twin_scraper.extract.markdown import markdown_to_text
from twin_scraper.stores.embedder import MODEL_NAME
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.stores.qdrant import collection_name
from twin_scraper.urls import canonicalize_url

EXPECTED = json.loads((TESTS_DIR / "site" / "expected.json").read_text())
ARTICLES = [e for e in EXPECTED if "contains" in e and e["path"].startswith("/articles/")]
BLOG_POSTS = [e for e in EXPECTED if e["path"].startswith("/blog/posts/")]


def qdrant_points(config: StoreConfig) -> list[models.Record]:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(config.qdrant_path))
    try:
        name = collection_name(config.qdrant_collection, MODEL_NAME)
        if not client.collection_exists(name):
            return []
        points, _ = client.scroll(name, limit=10_000, with_payload=True)
        return points
    finally:
        client.close()


def stored(mongo: MongoStore) -> dict[str, dict[str, Any]]:
    return {d["canonical_url"]: d for d in mongo.iter_documents()}


def article_urls(site: SiteServer) -> list[str]:
    return [site.url(e.get("request_path", e["path"])) for e in ARTICLES]


@deferred_f_from_coro_f
async def test_articles_are_stored_extracted_and_embedded(
    site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    result = await run_spider("article", settings, url=",".join(article_urls(site)))
    assert result.stats["finish_reason"] == "finished"
    assert len(result.items) == len(ARTICLES) and result.dropped == []
    docs = stored(mongo)
    assert len(docs) == len(ARTICLES)
    for expected in ARTICLES:
        doc = docs[canonicalize_url(site.url(expected["path"]))]
        assert doc["title"] == expected["title"]
        assert doc["author_full_name"] == expected["author"]  # no -a author: the byline
        assert doc["published_at"].date().isoformat() == expected["published"]
        assert doc["language"] == expected["language"]
        for text in expected["contains"]:
            assert text in doc["content"], (expected["path"], text)
        for text in expected["absent"]:
            assert text not in doc["content"], (expected["path"], text)
        # provenance
        assert doc["platform"] == "article" and doc["category"] == "articles"
        assert doc["extractor"] == "article" and doc["extractor_version"]
        assert doc["fetched_at"] and doc["word_count"] == len(
            markdown_to_text(doc["content"]).split()
        )
        assert doc["truncated"] is False and doc["embed"]["status"] == "done"
        raw = mongo.raw_page(doc["_id"])
        assert raw is not None and expected["title"].split()[0] in raw["html"]
    tracking = docs[canonicalize_url(site.url("/articles/tracking/"))]
    assert "utm_source" in tracking["url"] and "utm" not in tracking["canonical_url"]
    latin1 = docs[canonicalize_url(site.url("/articles/latin1/"))]
    assert "\ufffd" not in latin1["content"] and "marché" in latin1["content"]

    points = qdrant_points(store_config)
    assert len(points) == sum(d["embed"]["chunks"] for d in docs.values()) > len(docs)
    by_url = {d["canonical_url"]: d for d in docs.values()}
    for point in points:
        payload = point.payload
        doc = by_url[payload["url"]]
        assert payload["doc_id"] == doc["_id"]
        assert payload["author"] == doc["author_full_name"]
        assert payload["platform"] == "article" and payload["category"] == "articles"
        assert payload["title"] == doc["title"] and payload["model"] == MODEL_NAME
        assert payload["published_at"].startswith(doc["published_at"].date().isoformat())
        assert payload["text"] and payload["text"].split()[0] in doc["content"]

    run = mongo.latest_runs(1)[0]
    assert run["spider"] == "article"
    assert run["totals"]["attempted"] == run["totals"]["new"] == len(ARTICLES)
    assert run["totals"]["failed"] == 0
    user = mongo.db.users.find_one({"full_name": "Priya Raman"})
    assert user is not None and user["first_name"] == "Priya" and user["last_name"] == "Raman"
    assert {d["author_id"] for d in docs.values() if d["author_full_name"] == "Priya Raman"} == {
        user["_id"]
    }


@deferred_f_from_coro_f
async def test_second_run_writes_and_embeds_nothing_and_a_changed_page_is_replaced(
    site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    urls = ",".join(article_urls(site))
    await run_spider("article", settings, url=urls, author="Priya Raman")
    before = stored(mongo)
    points_before = {p.id: p.payload for p in qdrant_points(store_config)}

    again = await run_spider("article", settings, url=urls, author="Priya Raman")
    assert again.stats.get("twin/items/unchanged") == len(ARTICLES)
    assert "twin/mongo/written" not in again.stats and "twin/qdrant/points" not in again.stats
    assert again.items == []
    assert stored(mongo) == before  # not one field rewritten, not even stored_at
    assert {p.id: p.payload for p in qdrant_points(store_config)} == points_before
    assert mongo.latest_runs(1)[0]["totals"]["unchanged"] == len(ARTICLES)

    path = "/articles/plain-essay/"
    original = site._resolve(path)
    assert original is not None
    old = "A book you reread is never quite the same book, because you are not the same reader."
    new = "Rereading is a conversation with the person you used to be, and they talk back."
    site.routes[path] = Route(original.body.replace(old.encode(), new.encode()))
    try:
        changed = await run_spider("article", settings, url=site.url(path), author="Priya Raman")
    finally:
        del site.routes[path]
    assert changed.stats.get("twin/items/updated") == 1
    key = canonicalize_url(site.url(path))
    doc = stored(mongo)[key]
    assert new in doc["content"] and old not in doc["content"]
    assert doc["_id"] == before[key]["_id"] and doc["embed"]["status"] == "done"
    essay_points = [p for p in qdrant_points(store_config) if p.payload["doc_id"] == doc["_id"]]
    assert len(essay_points) == doc["embed"]["chunks"]
    assert any(new in p.payload["text"] for p in essay_points)
    assert not any(old in p.payload["text"] for p in essay_points)
    assert mongo.latest_runs(1)[0]["totals"]["updated"] == 1


@deferred_f_from_coro_f
async def test_bad_pages_are_reported_with_reasons_and_never_stored(
    site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    challenge = site._resolve("/challenge/")
    assert challenge is not None
    site.routes["/challenge-503/"] = Route(challenge.body, status=503)
    site.routes["/huge/"] = Route(b"<html><body><p>" + b"word " * 400_000 + b"</p></body></html>")
    site.routes["/binary/"] = Route(bytes(range(256)) * 64, content_type="text/html")
    paths = {
        "/does-not-exist/": "HTTP 404",
        "/files/report.pdf": "not HTML",
        "/challenge/": "challenge",
        "/challenge-503/": "challenge",
        "/login/": "login_wall",
        "/soft404/": "error_page",
        "/empty/": "empty",
        "/huge/": "response too large",
        "/binary/": "not HTML",
    }
    try:
        result = await run_spider(
            "article",
            {**settings, "DOWNLOAD_MAXSIZE": 1_000_000, "RETRY_TIMES": 0},
            url=",".join(site.url(p) for p in paths),
            author="Priya Raman",
        )
    finally:
        for path in ("/challenge-503/", "/huge/", "/binary/"):
            del site.routes[path]
    assert result.stats["finish_reason"] == "finished"
    assert result.items == []
    assert sum(mongo.count_documents().values()) == 0
    assert qdrant_points(store_config) == []
    run = mongo.latest_runs(1)[0]
    (domain,) = run["domains"]
    assert domain["attempted"] == domain["failed"] == len(paths)
    reasons = {f["url"].removeprefix(site.base): f["reason"] for f in domain["failures"]}
    assert reasons == paths


@deferred_f_from_coro_f
async def test_site_discovery_follows_feed_pages_and_sitemaps(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    result = await run_spider("article", settings, site=site.url("/blog/"), author="Priya Raman")
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    assert set(docs) == {canonicalize_url(site.url(e["path"])) for e in BLOG_POSTS}
    assert site.hits.get("/blog/atom-2.xml")  # the feed's second page was followed
    assert site.hits.get("/blog/sitemap.xml")
    run = mongo.latest_runs(1)[0]
    assert run["totals"]["new"] == len(BLOG_POSTS) and run["totals"]["failed"] == 0


@deferred_f_from_coro_f
async def test_site_discovery_honours_limit(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    before = dict(site.hits)
    await run_spider("article", settings, site=site.url("/blog/"), author="Priya Raman", limit="2")
    newest = sorted(BLOG_POSTS, key=lambda e: e["published"], reverse=True)[:2]
    assert set(stored(mongo)) == {canonicalize_url(site.url(e["path"])) for e in newest}
    fetched = {
        p for p, n in site.hits.items() if p.startswith("/blog/posts/") and n > before.get(p, 0)
    }
    assert fetched == {e["path"] for e in newest}  # no post beyond the limit was fetched


@deferred_f_from_coro_f
async def test_demo_blog_keeps_only_the_authors_own_posts(
    demo_site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    await run_spider("article", settings, site=demo_site.url("/"), author="Ada Quill")
    docs = stored(mongo)
    slugs = {url.rsplit("/", 1)[-1] for url in docs}
    assert slugs == {
        "rooftop-beekeeping",
        "kubernetes-crashloopbackoff",
        "learning-watercolour",
        "rust-lifetimes",
        "alps-hut-to-hut",
        "postgres-indexes",
        "sourdough-at-home",
    }
    assert {d["byline"] for d in docs.values()} == {"Ada Quill"}
    run = mongo.latest_runs(1)[0]
    reasons = run["domains"][0]["reasons"]
    assert reasons.get("written by Marcus Webb, not Ada Quill") == 1
    assert run["totals"]["skipped"] >= 3  # the guest post, about and tag pages


@deferred_f_from_coro_f
async def test_seed_file_routes_links_and_reports_per_domain(
    site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    local = site.base.replace("127.0.0.1", "localhost")
    seed = tmp_path / "priya.yaml"
    seed.write_text(
        "parameters:\n"
        "  user_full_name: Priya Raman\n"
        "  links:\n"
        f"    - {site.url('/articles/code-heavy/')}\n"
        f"    - {site.url('/articles/code-heavy/')}?utm_source=twitter\n"
        f"    - {site.url('/missing/')}\n"
        f"    - {local}/articles/plain-essay/\n"
        f"    - {local}/challenge/\n"
    )
    result = await run_spider("seeds", settings, file=str(seed))
    assert result.stats["finish_reason"] == "finished"
    assert len(stored(mongo)) == 2
    run = mongo.latest_runs(1)[0]
    assert run["spider"] == "seeds" and run["arguments"]["author"] == "Priya Raman"
    domains = {d["domain"]: d for d in run["domains"]}
    assert domains["127.0.0.1"]["attempted"] == 2
    assert domains["127.0.0.1"]["succeeded"] == 1
    assert domains["127.0.0.1"]["reasons"] == {"HTTP 404": 1}
    assert domains["localhost"]["succeeded"] == 1
    assert domains["localhost"]["reasons"] == {"challenge": 1}
    # The seeds spider can render, but a batch of plain pages starts no browser.
    assert "playwright/browser_count" not in result.stats


@pytest.mark.parametrize("cause", ["qdrant_locked", "qdrant_down", "model_missing"])
@deferred_f_from_coro_f
async def test_documents_stay_pending_when_embedding_is_impossible(
    cause: str,
    site: SiteServer,
    settings: dict,
    mongo: MongoStore,
    store_config: StoreConfig,
    tmp_path: Path,
) -> None:
    from qdrant_client import QdrantClient

    holder = None
    overrides = dict(settings)
    if cause == "qdrant_locked":
        store_config.qdrant_path.mkdir(parents=True, exist_ok=True)
        holder = QdrantClient(path=str(store_config.qdrant_path))
        overrides["QDRANT_BUSY_WAIT"] = 1  # held past the crawl's wait for it at its end
    elif cause == "qdrant_down":
        overrides["QDRANT_URL"] = "http://127.0.0.1:9"
    else:
        overrides["EMBED_MODEL_DIR"] = str(tmp_path / "no-model")
    try:
        result = await run_spider("article", overrides, url=",".join(article_urls(site)))
    finally:
        if holder is not None:
            holder.close()
    assert result.stats.get("twin/embed/pending") == len(ARTICLES)
    docs = stored(mongo)
    assert len(docs) == len(ARTICLES)
    assert {d["embed"]["status"] for d in docs.values()} == {"pending"}
    assert mongo.latest_runs(1)[0]["embed_pending"] == len(ARTICLES)

    # `twin embed` catches up from MongoDB alone, without crawling
    from twin_scraper.services.corpus import embed_with
    from twin_scraper.services.workspace import Workspace

    workspace = Workspace(settings)
    assert embed_with(workspace, mongo).documents == len(ARTICLES)
    docs = stored(mongo)
    assert {d["embed"]["status"] for d in docs.values()} == {"done"}
    assert len(qdrant_points(store_config)) == sum(d["embed"]["chunks"] for d in docs.values())
    assert embed_with(workspace, mongo).documents == 0  # nothing left


@deferred_f_from_coro_f
async def test_unreachable_mongodb_fails_at_start_naming_it_without_the_password(
    site: SiteServer, settings: dict
) -> None:
    from twin_scraper.stores.mongo import StoreUnavailable

    uri = "mongodb://crawler:s3cret-pass@127.0.0.1:9/"
    with pytest.raises(StoreUnavailable) as error:
        await run_spider(
            "article",
            {**settings, "MONGO_URI": uri, "MONGO_TIMEOUT_MS": 300},
            url=site.url("/articles/tracking/"),
        )
    message = str(error.value)
    assert "MongoDB is unreachable at mongodb://crawler:***@127.0.0.1:9/" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either -a url=URL[,URL...] or -a site=URL"),
        ({"url": "http://a.example/x", "site": "http://a.example/"}, "give either"),
        ({"url": "a.example/x"}, "-a url: not an http(s) URL: a.example/x"),
        ({"site": "ftp://a.example/"}, "-a site: not an http(s) URL"),
        ({"url": "http://a.example/x", "limit": "0"}, "-a limit: must be a positive number"),
        ({"url": "http://a.example/x", "limit": "many"}, "-a limit:"),
        (
            {"url": "http://a.example/x", "author": "  "},
            "-a author: the author's full name is blank",
        ),
        ({"url": "http://a.example/x", "colour": "blue"}, "-a colour: unknown argument"),
    ],
)
def test_bad_spider_arguments_fail_at_construction(kwargs: dict, message: str) -> None:
    from twin_scraper.params import ArgumentError
    from twin_scraper.spiders.article import ArticleSpider

    with pytest.raises(ArgumentError) as error:
        ArticleSpider(**kwargs)
    assert message in str(error.value)


@deferred_f_from_coro_f
async def test_a_page_without_byline_needs_the_author_argument(
    settings: dict, mongo: MongoStore
) -> None:
    with SiteServer(TESTS_DIR / "site") as server:
        server.routes["/anonymous/"] = Route(
            b"<html><head><title>Notes</title></head><body><article><h1>Notes</h1><p>"
            + b"Plain words about gardening and compost heaps in a small yard. " * 20
            + b"</p></article></body></html>"
        )
        await run_spider("article", settings, url=server.url("/anonymous/"))
        assert sum(mongo.count_documents().values()) == 0
        (failure,) = mongo.latest_runs(1)[0]["domains"][0]["failures"]
        assert failure["reason"] == "invalid item"
        assert "no author: the page names none, so pass the author's full name" in failure["detail"]
        await run_spider("article", settings, url=server.url("/anonymous/"), author="Ada Quill")
        (doc,) = mongo.iter_documents()
        assert doc["author_full_name"] == "Ada Quill" and doc["byline"] is None


@deferred_f_from_coro_f
async def test_same_content_under_two_urls_is_stored_once_across_runs(
    settings: dict, mongo: MongoStore
) -> None:
    body = (
        b"<html><head><title>Compost</title></head><body><article><h1>Compost</h1><p>"
        + b"Plain words about gardening and compost heaps in a small yard. " * 20
        + b"</p></article></body></html>"
    )
    with SiteServer(TESTS_DIR / "site") as server:
        for path in ("/a/", "/print/a/", "/mirror/a/"):
            server.routes[path] = Route(body)
        first = await run_spider(
            "article", settings, url=f"{server.url('/a/')},{server.url('/print/a/')}", author="Ada"
        )
        assert len(first.items) == 1 and first.stats["twin/items/duplicate"] == 1
        second = await run_spider("article", settings, url=server.url("/mirror/a/"), author="Ada")
        assert second.items == [] and second.stats["twin/items/duplicate"] == 1
    (doc,) = mongo.iter_documents()
    assert doc["url"] in {server.url("/a/"), server.url("/print/a/")}
    assert mongo.latest_runs(1)[0]["totals"]["duplicate"] == 1


def post_fetches(server: SiteServer, before: dict[str, int]) -> dict[str, int]:
    return {
        path: count - before.get(path, 0)
        for path, count in server.hits.items()
        if path.startswith("/posts/") and count > before.get(path, 0)
    }


@deferred_f_from_coro_f
async def test_recrawl_fetches_only_posts_whose_listing_changed(
    demo_site: SiteServer, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    first_hits = dict(demo_site.hits)
    await run_spider("article", settings, site=demo_site.url("/"), author="Ada Quill")
    stored_before = stored(mongo)
    points_before = len(qdrant_points(store_config))
    hits = dict(demo_site.hits)

    # The feed names the guest post's author: it is never fetched, whatever the sitemap
    # (read in any order) says.
    assert "/posts/mechanical-keyboards-review/" not in post_fetches(demo_site, first_hits)

    again = await run_spider("article", settings, site=demo_site.url("/"), author="Ada Quill")
    assert post_fetches(demo_site, hits) == {}
    assert again.stats["twin/pages/unchanged_listed"] == 7
    assert "twin/mongo/written" not in again.stats
    assert stored(mongo) == stored_before
    assert len(qdrant_points(store_config)) == points_before
    assert mongo.latest_runs(1)[0]["totals"]["unchanged"] == 7

    # A post edited, and its sitemap entry and feed item say so: only it is fetched.
    post, sitemap = "/posts/postgres-indexes/", "/sitemap-posts.xml"
    page, listing = demo_site._resolve(post), demo_site._resolve(sitemap)
    assert page is not None and listing is not None
    edited = b"<p>Update: PostgreSQL 17 made this faster still.</p></article>"
    demo_site.routes[post] = Route(page.body.replace(b"</article>", edited, 1))
    demo_site.routes[sitemap] = Route(
        listing.body.replace(b"<lastmod>2025-03-", b"<lastmod>2026-11-", 1),
        content_type=listing.content_type,
    )
    hits = dict(demo_site.hits)
    try:
        third = await run_spider("article", settings, site=demo_site.url("/"), author="Ada Quill")
    finally:
        del demo_site.routes[post], demo_site.routes[sitemap]
    assert post_fetches(demo_site, hits) == {post: 1}
    assert third.stats["twin/items/updated"] == 1
    doc = stored(mongo)[canonicalize_url(demo_site.url(post))]
    assert "PostgreSQL 17 made this faster still" in doc["content"]
    assert doc["listed_updated_at"].year == 2026


@deferred_f_from_coro_f
async def test_redirects_are_followed_and_the_final_page_stored(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    target = site.url("/articles/plain-essay/")
    site.routes["/old-essay/"] = Route(b"", status=301, headers=(("Location", target),))
    site.routes["/old-essay-2/"] = Route(b"", status=302, headers=(("Location", "/old-essay/"),))
    try:
        result = await run_spider(
            "article", settings, url=site.url("/old-essay-2/"), author="Priya Raman"
        )
    finally:
        del site.routes["/old-essay/"], site.routes["/old-essay-2/"]
    assert result.stats["downloader/response_status_count/301"] == 1
    (doc,) = mongo.iter_documents()
    assert doc["url"] == target and doc["title"] == "In Praise of Reading Slowly"


@deferred_f_from_coro_f
async def test_a_site_without_feed_or_sitemap_is_reported_not_silently_empty(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    home = site.url("/articles/code-heavy/")  # a page, but no feed or sitemap under it
    result = await run_spider("article", settings, site=home, author="Ada")
    assert result.stats["finish_reason"] == "finished"
    run = mongo.latest_runs(1)[0]
    (failure,) = run["domains"][0]["failures"]
    assert failure["url"] == home
    assert failure["reason"] == "no posts discovered"


@deferred_f_from_coro_f
async def test_feed_entries_on_other_sites_and_in_run_duplicates_are_not_stored(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    other = site.base.replace("127.0.0.1", "localhost")
    feed = site._resolve("/blog/atom.xml")
    assert feed is not None
    site.routes["/blog/atom.xml"] = Route(
        feed.body.replace(
            b"</feed>",
            f"<entry><title>Elsewhere</title><link href='{other}/articles/german/'/>"
            "<id>x</id><updated>2025-01-01T00:00:00Z</updated></entry></feed>".encode(),
        ),
        content_type="application/xml",
    )
    try:
        await run_spider("article", settings, site=site.url("/blog/"), author="Priya Raman")
    finally:
        del site.routes["/blog/atom.xml"]
    assert len(stored(mongo)) == len(BLOG_POSTS)
    domains = {d["domain"]: d for d in mongo.latest_runs(1)[0]["domains"]}
    assert domains["localhost"]["reasons"] == {"listed by the site's feed but on another site": 1}

    url = site.url("/articles/tracking/")
    again = await run_spider("article", settings, url=f"{url},{url}?utm_source=x", author="P R")
    assert again.stats["twin/items/duplicate"] == 1 and len(again.items) == 1
