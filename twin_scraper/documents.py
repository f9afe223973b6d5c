"""From a fetched page to a `Document`: extraction, quality verdict and provenance.

Pure functions over HTML, so a spider, a test on a saved page and `twin reextract` over
stored raw HTML all build the very same document.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from courlan import is_navigation_page

from twin_scraper.extract.article import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_article
from twin_scraper.items import Category
from twin_scraper.quality import assess, is_preview
from twin_scraper.urls import canonicalize_url, domain_of, is_http_url

_NAME_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_BY_PREFIX = {"by", "von", "par", "por", "door", "di", "written", "posted", "and", "with"}
_ARTICLE_MARKUP = re.compile(
    r"""property=["']og:type["'][^>]*content=["']article"""
    r"""|content=["']article["'][^>]*property=["']og:type"""
    r'|"@type"\s*:\s*"((Blog|Social)?Posting|(News|Tech|Scholarly)?Article)"'
    r"""|property=["']article:published_time["']|class=["'][^"']*\bh-entry\b""",
    re.IGNORECASE,
)
_OG_TYPE = re.compile(r"""property=["']og:type["']""", re.IGNORECASE)


def name_words(name: str) -> list[str]:
    """Lowercased words of a personal name, accents removed, no 'By' prefix."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return [w for w in _NAME_WORD.findall(plain) if w not in _BY_PREFIX]


_EMAIL = re.compile(r"\S+@\S+")
GENERIC_BYLINES = frozenset(
    "admin administrator author editor editors staff team guest unknown anonymous "
    "webmaster blog newsroom contributor user".split()
)


def same_author(byline: str | None, full_name: str) -> bool | None:
    """Does the byline name this person? None when the page names nobody, or nobody in
    particular ("admin", "Staff", an e-mail address alone)."""
    printed = set(name_words(_EMAIL.sub(" ", byline or "")))
    wanted = set(name_words(full_name))
    if not printed or printed <= GENERIC_BYLINES or not wanted:
        return None
    return wanted <= printed or printed <= wanted


def canonical_for(page_url: str, declared: str | None) -> str:
    """The page's declared canonical URL, unless it is missing, not http(s), or points a
    post at a site's home page (a common template bug that would merge every post)."""
    if declared and is_http_url(declared):
        declared_home = not urlsplit(declared).path.strip("/")
        if not declared_home or not urlsplit(page_url).path.strip("/"):
            return canonicalize_url(declared)
    return canonicalize_url(page_url)


def looks_like_article(html: str, url: str, published_at: datetime | None) -> bool:
    """Tells a post from an about, tag or listing page found by discovery: article
    markup says yes; a page typed as something else (og:type website/profile) says no;
    without markup, a dated page at a URL that is not a listing counts as a post."""
    head = html[:300_000]
    if _ARTICLE_MARKUP.search(head):
        return True
    if _OG_TYPE.search(head):
        return False
    return published_at is not None and not is_navigation_page(url)


def article_fields(
    html: str,
    url: str,
    author: str | None,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """Extract a blog article into the fields of a `Document` (its `quality` says whether
    it is content). Validation is the validate pipeline's job, so a bad page is dropped
    there with its reason, counted like every other drop."""
    extracted = extract_article(html, url)
    quality, reason = assess(html, extracted.markdown, extracted.title, http_status)
    fields = {
        "platform": "article",
        "category": Category.ARTICLES,
        "url": url,
        "canonical_url": canonical_for(url, extracted.canonical_url),
        "author_full_name": author or extracted.author or "",
        "byline": extracted.author,
        "title": extracted.title,
        "subtitle": extracted.subtitle,
        "content": extracted.markdown,
        "language": extracted.language,
        "published_at": extracted.published_at,
        "updated_at": extracted.updated_at,
        "extractor": EXTRACTOR_NAME,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": is_preview(html, extracted.markdown),
        "quality": quality,
        "quality_reason": reason,
        "http_status": http_status,
        "raw_html": html,
        "extra": {
            "site": extracted.site_name or domain_of(url),
            "description": extracted.description,
            "tags": extracted.tags,
        },
    }
    if fetched_at is not None:
        fields["fetched_at"] = fetched_at
    return fields
