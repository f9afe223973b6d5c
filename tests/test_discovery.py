"""Discovery parsing: feeds with paging, sitemaps and indexes, robots.txt, hostile XML."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime
from pathlib import Path

from twin_scraper.extract.discovery import (
    feed_links,
    listing_date,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)

SITE = Path(__file__).parent / "site"
DEMO = Path(__file__).parent.parent / "twin_scraper" / "demo" / "site"
BASE = b"http://127.0.0.1:9"


def read(path: Path) -> bytes:
    return path.read_bytes().replace(b"{{BASE}}", BASE)


def test_rss_feed_with_next_page_and_authors() -> None:
    feed = parse_feed(read(DEMO / "feed.xml"), "http://127.0.0.1:9/feed.xml")
    assert feed is not None and len(feed.entries) == 5
    assert feed.next_url == "http://127.0.0.1:9/feed/page/2.xml"
    assert all(e.url.startswith("http://127.0.0.1:9/posts/") for e in feed.entries)
    assert "Marcus Webb" in {e.author for e in feed.entries}
    assert all(e.updated and e.updated.tzinfo == UTC for e in feed.entries)
    last = parse_feed(read(DEMO / "feed" / "page" / "2.xml"), "http://127.0.0.1:9/feed/page/2.xml")
    assert last is not None and last.next_url is None and len(last.entries) == 3


def test_atom_feed_with_next_page() -> None:
    feed = parse_feed(read(SITE / "blog" / "atom.xml"), "http://127.0.0.1:9/blog/atom.xml")
    assert feed is not None and len(feed.entries) == 3
    assert feed.next_url == "http://127.0.0.1:9/blog/atom-2.xml"


def test_wordpress_feed_pages_with_paged() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
    <generator>https://wordpress.org/?v=6.5</generator>
    <item><link>https://wp.example/a/</link></item></channel></rss>"""
    feed = parse_feed(rss, "https://wp.example/feed/")
    assert feed is not None and feed.next_url == "https://wp.example/feed/?paged=2"
    again = parse_feed(rss, feed.next_url)
    assert again is not None and again.next_url == "https://wp.example/feed/?paged=3"


def test_not_a_feed() -> None:
    assert parse_feed(b"<html><body>hello</body></html>", "http://x/") is None


def test_sitemap_index_and_urlset_newest_first() -> None:
    index = parse_sitemap(read(DEMO / "sitemap.xml"))
    assert index is not None and index.pages == []
    assert index.sitemaps == [
        "http://127.0.0.1:9/sitemap-posts.xml",
        "http://127.0.0.1:9/sitemap-pages.xml",
    ]
    posts = parse_sitemap(read(DEMO / "sitemap-posts.xml"))
    assert posts is not None and len(posts.pages) == 8
    newest = posts.pages[0]  # newest lastmod first
    assert newest.url.endswith("/posts/rooftop-beekeeping/")
    assert newest.updated is not None and newest.updated.tzinfo is not None
    assert all(a.updated >= b.updated for a, b in itertools.pairwise(posts.pages))


def test_gzipped_sitemap_and_not_a_sitemap() -> None:
    body = gzip.compress(read(SITE / "blog" / "sitemap.xml"))
    sitemap = parse_sitemap(body)
    assert sitemap is not None and len(sitemap.pages) == 7
    assert parse_sitemap(b"<html/>") is None
    assert parse_sitemap(b"\x00\x01 not xml") is None


def test_entity_expansion_bomb_is_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";" * 1}'.encode()
            + b"&lol"
            + (str(i - 1).encode() if i > 1 else b"")
            + b';">'
            for i in range(1, 10)
        )
        + b']><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://x/&lol9;</loc></url></urlset>"
    )
    sitemap = parse_sitemap(bomb)  # parsed without expanding the entity
    assert sitemap is not None
    assert all("lollol" not in p.url for p in sitemap.pages)


def test_feed_links_and_robots() -> None:
    html = (SITE / "blog" / "index.html").read_text()
    assert feed_links(html, "http://127.0.0.1:9/blog/") == ["http://127.0.0.1:9/blog/atom.xml"]
    assert feed_links("", "http://x/") == []
    robots = "User-agent: *\nAllow: /\nSitemap: http://x/sitemap.xml\nsitemap:http://x/b.xml\n"
    assert sitemaps_from_robots(robots) == ["http://x/sitemap.xml", "http://x/b.xml"]


def test_listing_dates_normalise_to_utc_seconds() -> None:
    assert listing_date("2025-03-08T18:05:00.123+01:00") == datetime(2025, 3, 8, 17, 5, tzinfo=UTC)
    assert listing_date("2025-03-08") == datetime(2025, 3, 8, tzinfo=UTC)
    assert listing_date("2025-03-08T18:05:00Z") == datetime(2025, 3, 8, 18, 5, tzinfo=UTC)
    assert listing_date("yesterday") is None and listing_date(None) is None
