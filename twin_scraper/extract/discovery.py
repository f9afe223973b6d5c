"""Finding every post of a blog: feed links in HTML, RSS/Atom feeds (with paging),
sitemaps and sitemap indexes, robots.txt `Sitemap:` lines. Pure functions over bytes."""

from __future__ import annotations

import gzip
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.html
from lxml import etree

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
)
MAX_XML_BYTES = 50 * 1024 * 1024  # sitemaps are capped at 50 MB uncompressed by the protocol
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class FeedEntry:
    url: str
    author: str | None
    updated: datetime | None  # when the feed says the post last changed


@dataclass(frozen=True)
class Feed:
    entries: list[FeedEntry]
    next_url: str | None


@dataclass(frozen=True)
class Listed:
    url: str
    updated: datetime | None  # the sitemap's <lastmod>


@dataclass(frozen=True)
class Sitemap:
    sitemaps: list[str]  # child sitemaps of an index
    pages: list[Listed]  # newest first when lastmod is given


def listing_date(value: str | time.struct_time | None) -> datetime | None:
    """A feed or sitemap date as UTC, to the second (what MongoDB gives back compares equal)."""
    if value is None:
        return None
    try:
        if isinstance(value, time.struct_time):
            parsed = datetime(*value[:6], tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def feed_links(html: str, base_url: str) -> list[str]:
    """Feeds a page announces with <link rel="alternate" type="...rss/atom...">."""
    try:
        root = lxml.html.fromstring(html[:2_000_000] or "<html/>")
    except (etree.ParserError, ValueError):
        return []
    links = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and kind in FEED_TYPES and link.get("href"):
            href = urljoin(base_url, link.get("href").strip())
            if "/comments/" not in href and href not in links:
                links.append(href)
    return links


def parse_feed(body: bytes, url: str) -> Feed | None:
    """Entries and the next page (RFC 5005 rel="next", or WordPress `paged=`); None if
    `body` is not a feed."""
    parsed = feedparser.parse(_gunzip(body), resolve_relative_uris=False, sanitize_html=False)
    if not parsed.get("version") and not parsed.entries:
        return None
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or _href(entry.get("links", []), "alternate")
        if link:
            entries.append(
                FeedEntry(
                    url=urljoin(url, link.strip()),
                    author=entry.get("author_detail", {}).get("name") or entry.get("author"),
                    updated=listing_date(_entry_date(entry)),
                )
            )
    next_href = _href(parsed.feed.get("links", []), "next")
    next_url = urljoin(url, next_href) if next_href else None
    if next_url is None and entries and "wordpress" in (parsed.feed.get("generator") or "").lower():
        next_url = _next_wordpress_page(url)
    return Feed(entries, next_url)


def _entry_date(entry: dict) -> time.struct_time | None:
    # `in`, not get(): feedparser warns when "updated" falls back to "published"
    return next((entry[k] for k in ("updated_parsed", "published_parsed") if k in entry), None)


def _href(links: list[dict], rel: str) -> str | None:
    return next((x["href"] for x in links if x.get("rel") == rel and x.get("href")), None)


def _next_wordpress_page(url: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    page = query.get("paged", "1")
    query["paged"] = str(int(page) + 1) if page.isdigit() else "2"
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_sitemap(body: bytes) -> Sitemap | None:
    """A sitemap index's children or a urlset's pages (newest lastmod first); None if
    `body` is not a sitemap. Entities are never expanded, the network never touched."""
    data = _gunzip(body)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    kind = etree.QName(root).localname.lower()
    if kind not in {"sitemapindex", "urlset"}:
        return None
    entries: list[tuple[str, str]] = []  # (loc, lastmod as written)
    for element in root:
        if not isinstance(element.tag, str):
            continue
        loc = lastmod = None
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname.lower()
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name == "lastmod" and child.text:
                lastmod = child.text.strip()
        if loc:
            entries.append((loc, lastmod or ""))
    if kind == "sitemapindex":
        return Sitemap(sitemaps=[loc for loc, _ in entries], pages=[])
    pages = sorted(
        (Listed(loc, listing_date(lastmod or None)) for loc, lastmod in entries),
        key=lambda p: p.updated or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    return Sitemap(sitemaps=[], pages=pages)


def sitemaps_from_robots(text: str) -> list[str]:
    return list(dict.fromkeys(_ROBOTS_SITEMAP.findall(text)))


def _gunzip(body: bytes) -> bytes:
    """Decompress gzip bodies, refusing to inflate past MAX_XML_BYTES (gzip bombs)."""
    if not body.startswith(b"\x1f\x8b"):
        return body[:MAX_XML_BYTES]
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
            return handle.read(MAX_XML_BYTES)
    except (OSError, EOFError):
        return b""
