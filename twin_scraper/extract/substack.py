"""Substack: pure functions over the JSON and HTML a publication serves.

A publication lists its posts in a JSON archive (`/api/v1/archive?sort=new&offset=N&limit=M`,
a bare array of post objects without bodies, at most 50 a page) and in its `sitemap.xml` (each
post's `/p/<slug>` with a `lastmod`, the only update date a listing gives), and serves each post
with its body at `/api/v1/posts/<slug>`. A person's publications are listed by their profile,
`substack.com/api/v1/user/<handle>/public_profile` (`publicationUsers`; the `subscriptions`
there are what they read, not what they write). Paid posts come with the free preview only
(or no body at all), so their `audience` decides `truncated`. Authors are the post's
`publishedBylines`: a guest post or a co-written one names someone else, and is told apart
from the owner's own.
When a site does not serve the API, the post page is read instead: its `window._preloads`
carry the same post object, else its markup is extracted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from lxml import etree

from twin_scraper.documents import same_author
from twin_scraper.extract.article import extract_article
from twin_scraper.extract.markdown import html_to_markdown, parse_html
from twin_scraper.items import Category, Quality
from twin_scraper.quality import assess, is_preview
from twin_scraper.urls import canonicalize_url, is_http_url

EXTRACTOR_NAME = "substack"
EXTRACTOR_VERSION = "1.0"
#: The archive answers 400 to a larger `limit`.
ARCHIVE_MAX_LIMIT = 50
FREE_AUDIENCE = "everyone"
#: What a visitor gets of a post with another audience: its free preview.
PREVIEW_KINDS = {"only_paid": "paid", "founding": "paid", "only_free": "subscriber-only"}

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SLUG = re.compile(r"^/p/([^/]+)/?$")
_OPEN_SUBSTACK = re.compile(r"^/pub/([a-z0-9-]+)/p/([^/]+)/?$")
_PROFILE = re.compile(r"^/@([\w.-]{1,80})/?$")
_PAYWALL = re.compile(r"""class=["'](?:[^"']*\s)?paywall[\s"']""")
_HAS_CLASS = 'contains(concat(" ", normalize-space(@class), " "), " %s ")'
_PRELOADS = re.compile(r"window\._preloads\s*=\s*JSON\.parse\((\"(?:[^\"\\]|\\.)*\")\)")
# Widgets inside a post's body that are not the author's text.
_CHROME_CLASSES = frozenset(
    {
        "subscription-widget-wrap",
        "subscription-widget-wrap-editor",
        "button-wrapper",
        "captioned-button-wrap",
        "image-link-expand",
        "share-dialog",
        "paywall",
        "paywall-jump",
    }
)

Attribution = Literal["own", "coauthored", "guest"]


class SubstackError(ValueError):
    """A response that is not what Substack serves; the message says what was wrong."""


@dataclass(frozen=True)
class Byline:
    name: str
    handle: str | None = None
    #: The person's role on the post's publication ("admin" for its owner), if listed.
    role: str | None = None
    is_guest: bool = False


@dataclass(frozen=True)
class ArchiveItem:
    """One post as the archive lists it: enough to decide whether to fetch it."""

    slug: str
    url: str
    title: str | None
    bylines: tuple[Byline, ...]
    published_at: datetime | None
    #: The latest date the listing gives (post date, or an update date when listed).
    listed_at: datetime | None
    audience: str | None
    #: What an edit changes, when the archive has no update date (it usually has none).
    signature: dict[str, Any]


# --- where things are --------------------------------------------------------------------


def publication_base(value: str, name_template: str) -> str:
    """A publication's origin from a NAME (`name_template` with `{name}`, normally
    `https://{name}.substack.com`) or from any URL on its site (custom domains too)."""
    value = value.strip()
    if is_http_url(value):
        parts = urlsplit(value)
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    name = value.lower()
    if not _NAME.match(name):
        raise ValueError(
            f"not a Substack publication name or URL: {value!r} (give NAME for "
            "NAME.substack.com, or the publication's URL)"
        )
    return name_template.format(name=name).rstrip("/")


def post_location(url: str) -> tuple[str, str] | None:
    """(publication origin, slug) of a post URL (`/p/<slug>` on any host, or
    `open.substack.com/pub/<name>/p/<slug>`); None when the URL is not a post."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    opened = _OPEN_SUBSTACK.match(parts.path)
    if host == "open.substack.com" and opened:
        return f"https://{opened.group(1)}.substack.com", opened.group(2)
    match = _SLUG.match(parts.path)
    if not match:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}", match.group(1)


def profile_handle(url: str) -> str | None:
    """The handle of a person's profile URL (`substack.com/@handle`), else None."""
    match = _PROFILE.match(urlsplit(url.strip()).path)
    return match.group(1).lower() if match else None


def profile_api_url(site: str, handle: str) -> str:
    """Where Substack serves a person's public profile (`site`: https://substack.com)."""
    return f"{site.rstrip('/')}/api/v1/user/{handle}/public_profile"


def sitemap_url(base: str) -> str:
    return f"{base}/sitemap.xml"


def archive_url(base: str, offset: int, limit: int) -> str:
    if not 1 <= limit <= ARCHIVE_MAX_LIMIT:
        raise ValueError(f"archive pages hold 1 to {ARCHIVE_MAX_LIMIT} posts, not {limit}")
    query = urlencode({"sort": "new", "offset": offset, "limit": limit})
    return f"{base}/api/v1/archive?{query}"


def post_api_url(base: str, slug: str) -> str:
    return f"{base}/api/v1/posts/{slug}"


def post_page_url(base: str, slug: str) -> str:
    return f"{base}/p/{slug}"


# --- JSON ----------------------------------------------------------------------------------


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SubstackError(f"{what} is not JSON ({exc.msg} at {exc.pos})") from None


def parse_archive(text: str) -> list[ArchiveItem]:
    """An archive page; raises SubstackError when it is not a list of posts."""
    data = _load_json(text, "archive page")
    if not isinstance(data, list):
        raise SubstackError(f"archive page is a JSON {type(data).__name__}, not a list of posts")
    items = []
    for post in data:
        if not isinstance(post, dict) or not post.get("slug"):
            raise SubstackError("archive page lists an entry without a slug")
        items.append(archive_item(post))
    return items


def archive_item(post: dict[str, Any]) -> ArchiveItem:
    published = parse_date(post.get("post_date"))
    dates = [d for d in (published, parse_date(post.get("updated_at"))) if d is not None]
    return ArchiveItem(
        slug=post["slug"],
        url=str(post.get("canonical_url") or ""),
        title=_text(post.get("title")),
        bylines=bylines_of(post),
        published_at=published,
        listed_at=max(dates) if dates else None,
        audience=post.get("audience"),
        signature=listing_signature(post),
    )


@dataclass(frozen=True)
class Profile:
    """A person's public profile: their name and the publications they write for."""

    name: str | None
    handle: str | None
    #: (subdomain, role) of each publication the person is a public member of, owner first.
    publications: tuple[tuple[str, str | None], ...]


def parse_profile(text: str) -> Profile:
    """`/api/v1/user/<handle>/public_profile`; raises SubstackError when it is not one.
    Only `publicationUsers` are the person's publications (admin: their own; others: where
    they contribute); `subscriptions` are what they read and are left alone."""
    data = _load_json(text, "public profile")
    if not isinstance(data, dict) or not isinstance(data.get("publicationUsers"), list):
        raise SubstackError("JSON answer is not a Substack profile (no publicationUsers)")
    found: dict[str, str | None] = {}
    for member in data["publicationUsers"]:
        if not isinstance(member, dict) or member.get("public") is False:
            continue
        publication = member.get("publication")
        subdomain = publication.get("subdomain") if isinstance(publication, dict) else None
        if isinstance(subdomain, str) and _NAME.match(subdomain.lower()):
            found.setdefault(subdomain.lower(), member.get("role"))
    owned_first = sorted(found.items(), key=lambda item: item[1] != "admin")
    return Profile(_text(data.get("name")), _text(data.get("handle")), tuple(owned_first))


def sitemap_posts(pages: list[tuple[str, datetime | None]]) -> dict[str, datetime | None]:
    """Slug -> `lastmod` of the posts a publication's sitemap lists (its other pages, the
    home, about and archive, are left out)."""
    posts: dict[str, datetime | None] = {}
    for url, lastmod in pages:
        location = post_location(url)
        if location is not None:
            posts.setdefault(location[1], lastmod)
    return posts


def parse_post(text: str) -> dict[str, Any]:
    """A post from `/api/v1/posts/<slug>`; raises SubstackError when it is not one."""
    post = _load_json(text, "post")
    if not isinstance(post, dict) or not post.get("slug") or "body_html" not in post:
        raise SubstackError("JSON answer is not a Substack post (no slug or body_html)")
    return post


def listing_signature(post: dict[str, Any]) -> dict[str, Any]:
    """The archive's fields an edit changes. The archive gives no update date, so a
    re-crawl compares these with the stored ones to find edited posts without fetching."""
    return {
        "title": post.get("title"),
        "subtitle": post.get("subtitle"),
        "audience": post.get("audience"),
        "wordcount": post.get("wordcount"),
    }


def bylines_of(post: dict[str, Any]) -> tuple[Byline, ...]:
    publication_id = post.get("publication_id")
    bylines = []
    for entry in post.get("publishedBylines") or []:
        if not isinstance(entry, dict) or not _text(entry.get("name")):
            continue
        role = next(
            (
                u.get("role")
                for u in entry.get("publicationUsers") or []
                if isinstance(u, dict) and u.get("publication_id") == publication_id
            ),
            None,
        )
        bylines.append(
            Byline(
                name=" ".join(str(entry["name"]).split()),
                handle=entry.get("handle"),
                role=role,
                is_guest=bool(entry.get("is_guest")),
            )
        )
    return tuple(bylines)


def owner_of(bylines: tuple[Byline, ...]) -> str | None:
    """Whose publication it is, when a byline says so (the admin role), else None."""
    return next((b.name for b in bylines if b.role == "admin" and not b.is_guest), None)


def attribution(bylines: tuple[Byline, ...], author: str) -> Attribution | None:
    """The author's own post, co-written with others, or someone else's (a guest post);
    None when the post names nobody."""
    if not bylines:
        return None
    matches = [same_author(b.name, author) is True for b in bylines]
    if not any(matches):
        return "guest"
    return "own" if all(matches) else "coauthored"


def parse_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object) -> str | None:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text or None


# --- bodies --------------------------------------------------------------------------------


def body_markdown(body_html: str | None, base_url: str) -> str:
    """A post's body as Markdown, without subscribe buttons and image-viewer chrome; an
    image wrapped in its full-size link keeps only the image."""
    doc = parse_html(f"<html><body>{body_html or ''}</body></html>")
    if doc is None:
        return ""
    body = doc.find("body")
    for el in list(body.iter()):
        classes = set((el.get("class") or "").split())
        if classes & _CHROME_CLASSES:
            _drop(el)
        elif el.tag == "a" and "image-link" in classes:
            _unwrap(el)
        elif el.tag == "a" and "footnote-anchor" in classes:
            _replace_with_text(el, f"[^{_text(el.text) or ''}]")
        elif "footnote" in classes:
            number = el.find(".//a[@class='footnote-number']")
            note = el.find(".//div[@class='footnote-content']/p")
            if number is not None and note is not None:
                note.text = f"[^{_text(number.text) or ''}]: {note.text or ''}"
                _drop(number)
    return html_to_markdown(body, base_url)


def _replace_with_text(el: etree._Element, text: str) -> None:
    span = etree.Element("span")
    span.text = text
    span.tail = el.tail
    el.getparent().replace(el, span)


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _unwrap(el: etree._Element) -> None:
    """Replace an element by its children (keeping its text)."""
    parent = el.getparent()
    if parent is None:
        return
    index = parent.index(el)
    children = list(el)
    if el.text:
        holder = etree.Element("span")
        holder.text = el.text
        children.insert(0, holder)
    if el.tail:
        holder = etree.Element("span")
        holder.text = el.tail
        children.append(holder)
    parent.remove(el)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)


# --- documents -----------------------------------------------------------------------------


def post_fields(
    post: dict[str, Any],
    url: str,
    author: str | None,
    fetched_at: datetime | None = None,
    raw: str | None = None,
) -> dict[str, Any]:
    """A Substack post object (from the API or a page's preloads) as `Document` fields.
    `author` is whose corpus it is; the bylines are kept as printed. A post whose audience
    is not everyone holds only its preview, so it is marked truncated."""
    canonical = str(post.get("canonical_url") or "") or url
    bylines = bylines_of(post)
    audience = post.get("audience")
    truncated = audience != FREE_AUDIENCE
    preview = PREVIEW_KINDS.get(str(audience), "paid") if truncated else None
    content = body_markdown(post.get("body_html"), canonical)
    if not content.strip() and truncated:
        # A paid post without preview: the archive's excerpt is all there is.
        content = _text(post.get("truncated_body_text")) or _text(post.get("description")) or ""
    # A paid post with nothing at all is reported by the quality gate as a preview.
    empty = not content.strip() and not truncated
    names = [b.name for b in bylines]
    fields: dict[str, Any] = {
        "platform": "substack",
        "category": Category.ARTICLES,
        "url": url,
        "canonical_url": canonicalize_url(canonical),
        "author_full_name": author or owner_of(bylines) or (names[0] if names else ""),
        "byline": ", ".join(names) or None,
        "title": _text(post.get("title")),
        "subtitle": _text(post.get("subtitle")),
        "content": content,
        "language": _text(post.get("language")),
        "published_at": parse_date(post.get("post_date")),
        "updated_at": parse_date(post.get("updated_at")),
        "extractor": EXTRACTOR_NAME,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": truncated,
        "authoritative": True,  # the post object Substack serves, body_html as written
        "preview": preview,
        "quality": Quality.EMPTY if empty else Quality.OK,
        "quality_reason": "the post has no body" if empty else None,
        "http_status": 200,
        "raw_html": raw if raw is not None else json.dumps(post, ensure_ascii=False),
        "extra": {
            "site": urlsplit(canonical).hostname,
            "publication_id": post.get("publication_id"),
            "post_id": post.get("id"),
            "slug": post.get("slug"),
            "type": post.get("type"),
            "audience": audience,
            "wordcount": post.get("wordcount"),
            "authors": [
                {"name": b.name, "handle": b.handle, "role": b.role, "is_guest": b.is_guest}
                for b in bylines
            ],
            "tags": [
                t["name"]
                for t in post.get("postTags") or []
                if isinstance(t, dict) and t.get("name")
            ],
            "description": _text(post.get("description")),
            "listing": listing_signature(post),
            # Substack's word for the post's home (a custom domain's, say): vouches for a
            # canonical URL on another host (twin_scraper.pipelines.canonical).
            "platform_url": post.get("canonical_url") or None,
        },
    }
    if fetched_at is not None:
        fields["fetched_at"] = fetched_at
    return fields


def preloaded_post(html: str) -> dict[str, Any] | None:
    """The post object a Substack page embeds (`window._preloads = JSON.parse("...")`)."""
    match = _PRELOADS.search(html)
    if not match:
        return None
    try:
        data = json.loads(json.loads(match.group(1)))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    post = data.get("post") or ((data.get("feedData") or {}).get("initialPost") or {}).get("post")
    return post if isinstance(post, dict) and post.get("slug") else None


def post_page_fields(
    html: str,
    url: str,
    author: str | None,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """A post page as `Document` fields: its preloaded post object when it has one, else
    its markup (metadata as for any article, body from Substack's body container)."""
    post = preloaded_post(html)
    if post is not None and post.get("body_html") is not None:
        fields = post_fields(post, url, author, fetched_at, raw=html)
        fields["http_status"] = http_status
        return fields
    extracted = extract_article(html, url)
    doc = parse_html(html)
    body = title = subtitle = None
    if doc is not None:
        found = doc.xpath(f"//div[{_HAS_CLASS % 'available-content'}]//div[{_HAS_CLASS % 'body'}]")
        body = found[0] if found else None
        title = _text(doc.xpath(f"string(//h1[{_HAS_CLASS % 'post-title'}])"))
        subtitle = _text(doc.xpath(f"string(//h3[{_HAS_CLASS % 'subtitle'}])"))
    canonical = extracted.canonical_url or url
    content = (
        body_markdown(etree.tostring(body, encoding=str), canonical)
        if body is not None
        else extracted.markdown
    )
    truncated = is_preview(html, content) or _PAYWALL.search(html) is not None
    quality, reason = (Quality.OK, None)
    if body is None:  # not a post page as Substack renders one: a wall, an error, a challenge
        quality, reason = assess(html, content, extracted.title, http_status)
    names = [n.strip() for n in (extracted.author or "").split(",") if n.strip()]
    fields: dict[str, Any] = {
        "platform": "substack",
        "category": Category.ARTICLES,
        "url": url,
        "canonical_url": canonicalize_url(canonical),
        "author_full_name": author or (names[0] if names else ""),
        "byline": extracted.author,
        "title": title or extracted.title,
        "subtitle": subtitle or extracted.subtitle,
        "content": content,
        "language": extracted.language,
        "published_at": extracted.published_at,
        "updated_at": extracted.updated_at,
        "extractor": EXTRACTOR_NAME,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": truncated,
        "preview": "paid" if truncated and body is not None else None,
        "quality": quality,
        "quality_reason": reason,
        "http_status": http_status,
        "raw_html": html,
        "extra": {
            "site": urlsplit(canonical).hostname,
            "audience": None,
            "authors": [{"name": n} for n in names],
            "tags": extracted.tags,
            "description": extracted.description,
        },
    }
    if fetched_at is not None:
        fields["fetched_at"] = fetched_at
    return fields


def substack_fields(
    raw: str,
    url: str,
    author: str | None,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """Re-extraction of what was stored: the API's post JSON, or a post page's HTML."""
    if raw.lstrip().startswith("{"):
        return post_fields(parse_post(raw), url, author, fetched_at, raw=raw)
    return post_page_fields(raw, url, author, http_status, fetched_at)
