"""Medium: stories, RSS feeds and profile story lists. Pure functions over HTML/XML.

A story page is server-rendered: its metadata sits in JSON-LD, `<meta>` tags and the
Apollo cache (`window.__APOLLO_STATE__`, the GraphQL answer the page was rendered from);
its body is a run of "paragraphs" that Medium names with a short hex id (`id="5b1c"`;
`name=` on older pages) or marks `data-selectable-paragraph`. Taking those paragraphs
(and the lists, quotes and figures holding them) in order, and nothing else, leaves out
the byline, buttons, paywall and recommendations without guessing.

Member-only stories are served to visitors as their first paragraphs only: the page
says the story is locked (Apollo `isLocked`, JSON-LD `isAccessibleForFree: false`), and
such a story is reported `truncated` unless the page proves the full text is there.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from twin_scraper.documents import canonical_for
from twin_scraper.extract.markdown import html_to_markdown, parse_html, text_content
from twin_scraper.items import Category, Quality
from twin_scraper.quality import assess
from twin_scraper.urls import domain_of

EXTRACTOR_NAME = "medium"
EXTRACTOR_VERSION = "1.0"
MEDIUM_DOMAIN = "medium.com"

_WS = re.compile(r"\s+")
# A story's URL ends in its post id: /@ada/some-title-1a2b3c4d5e6f, /p/1a2b3c4d5e6f
_STORY_ID = re.compile(r"(?:^|[-/])([0-9a-f]{8,16})$")
_PARAGRAPH_NAME = re.compile(r"^[0-9a-f]{4,5}$")
_BODY_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "ul", "ol", "figure")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BODY_CLASS = re.compile(r"\bgraf--|\bpw-post-body-paragraph\b")
_TITLE_CLASS = re.compile(r"\bpw-post-title\b|\bgraf--title\b")
_SUBTITLE_CLASS = re.compile(r"\bpw-subtitle-paragraph\b|\bgraf--subtitle\b")
_APOLLO = re.compile(r"window\.__APOLLO_STATE__\s*=\s*", re.S)
_READ_TIME = re.compile(r"(?<![\d,])(\d{1,3})\s*min read", re.I)
_HANDLE = re.compile(r"/@([\w.-]+)")
_TAG_PATH = re.compile(r"^/(?:tag|tagged)/([\w-]+)")
_MEMBER_ONLY = re.compile(r"member-only story", re.I)
# Profile and publication lists print "Mar 3, 2021" (or "Mar 3" in the current year).
_LIST_DATE = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* (\d{1,2})(?:, (\d{4}))?"
)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class MediumStory:
    """What a story page says about the story."""

    markdown: str
    story_id: str | None = None
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    author_handle: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    reading_minutes: int | None = None
    canonical_url: str | None = None
    language: str | None = None
    publication: str | None = None
    description: str | None = None
    locked: bool = False  # member-only
    truncated: bool = False  # member-only and only its preview served
    medium_url: str | None = None  # where Medium's own data says the story lives


@dataclass(frozen=True)
class ListedStory:
    """A story found on a profile or publication list, with the date the list prints, or
    with its exact dates and lock where Medium's own data (Apollo, GraphQL) gives them."""

    url: str
    published: datetime | None
    updated: datetime | None = None  # `latestPublishedAt`: moves when the story is edited
    locked: bool | None = None
    author_handle: str | None = None


# --- URLs ---------------------------------------------------------------------------------


def story_id(url: str) -> str | None:
    """The post id a story URL ends with, or None for any other Medium URL."""
    path = urlsplit(url).path.rstrip("/")
    match = _STORY_ID.search(path)
    if not match or not any(c.isdigit() for c in match.group(1)):
        return None  # a slug word such as "deadbeef" is not an id: ids mix digits in
    return match.group(1)


def story_url(url: str) -> str:
    """A story URL without Medium's `?source=...` tracking or a fragment: one identity per
    story whichever list linked it."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def handle_of(url: str | None, base_domain: str = MEDIUM_DOMAIN) -> str | None:
    """The user handle a Medium profile URL names: `/@ada` or `ada.medium.com`."""
    if not url:
        return None
    match = _HANDLE.match(urlsplit(url).path)
    if match:
        return match.group(1).lower()
    host = domain_of(url)
    if host.endswith("." + base_domain) and host.count(".") == base_domain.count(".") + 1:
        return host.split(".")[0]
    return None


class SourceError(ValueError):
    """A `user=` value (or seed link) that names no Medium user or publication."""


@dataclass(frozen=True)
class MediumSource:
    """Where a user's or publication's stories are listed: its RSS feed (the newest 10)
    and the page whose story list grows as it is scrolled."""

    feed_url: str
    list_url: str
    handle: str | None  # a user's handle; None for a publication or custom domain

    @property
    def is_user(self) -> bool:
        return self.handle is not None


def resolve_source(value: str, base_url: str = "https://medium.com") -> MediumSource:
    """`ada`, `@ada`, `https://medium.com/@ada`, `https://ada.medium.com`, a publication
    (`https://medium.com/the-pub`) or a custom domain serving Medium (`https://blog.ada.dev`).
    `base_url` is Medium's own origin (a test server's in tests)."""
    text = value.strip()
    base = base_url.rstrip("/")
    if not text.startswith(("http://", "https://")):
        handle = text.removeprefix("@")
        if not re.fullmatch(r"[\w.-]+", handle):
            raise SourceError(f"not a Medium handle or URL: {value!r}")
        return MediumSource(f"{base}/feed/@{handle}", f"{base}/@{handle}", handle.lower())
    parts = urlsplit(text)
    origin = f"{parts.scheme}://{parts.netloc}"
    host = domain_of(text)
    segments = [s for s in parts.path.split("/") if s]
    if story_id(text):
        raise SourceError(f"{value} is a story, not a user or publication: use -a url=")
    if host in _medium_hosts(base):
        if not segments:
            raise SourceError(f"{value} is Medium's home page: name a user or publication")
        first = segments[0]
        if first.startswith("@"):
            handle = first[1:]
            return MediumSource(f"{origin}/feed/@{handle}", f"{origin}/@{handle}", handle.lower())
        return MediumSource(f"{origin}/feed/{first}", f"{origin}/{first}", None)
    handle = handle_of(text)
    if handle:  # ada.medium.com
        return MediumSource(f"{origin}/feed", f"{origin}/", handle)
    # A custom domain: a publication's (or a user's) own site served by Medium.
    return MediumSource(f"{origin}/feed", f"{origin}{parts.path or '/'}", None)


def _medium_hosts(base_url: str) -> set[str]:
    return {MEDIUM_DOMAIN, domain_of(base_url)}


# --- a story page -------------------------------------------------------------------------


def extract_story(html: str, url: str) -> MediumStory:
    """Fields and Markdown body of a story page; an empty body when it has none."""
    doc = parse_html(html)
    if doc is None:
        return MediumStory(markdown="")
    meta = _meta_tags(doc)
    ld = _jsonld(doc)
    sid = story_id(url) or _text(ld.get("identifier")) or None
    post, apollo = _apollo_post(html, sid)
    creator = _resolve(apollo, post.get("creator"))
    collection = _resolve(apollo, post.get("collection"))
    content = next((v for k, v in post.items() if k.startswith("content")), None)
    content = _resolve(apollo, content)

    root = _first(doc.iter("article"))
    if root is None:
        root = doc.find("body") if doc.find("body") is not None else doc
    title_el = _title_element(root)
    subtitle_el = _first(
        el for el in root.iter(*_BODY_TAGS) if _SUBTITLE_CLASS.search(el.get("class") or "")
    )

    ld_author = ld.get("author") if isinstance(ld.get("author"), dict) else {}
    author = (
        _text(creator.get("name"))
        or _text(ld_author.get("name"))
        or _meta(meta, "author")
        or _dom_author(root)
    )
    handle = (
        _text(creator.get("username")).lower()
        or handle_of(_text(ld_author.get("url")))
        or handle_of(_meta(meta, "article:author"))
        or None
    )
    # og:title and JSON-LD's headline may carry " - Publication" or " - Medium".
    title = (
        _text(post.get("title"))
        or (_text(text_content(title_el)) if title_el is not None else None)
        or _meta(meta, "twitter:title", "og:title")
        or _text(ld.get("headline"))
        or None
    )
    body = _body(root, {title_el, subtitle_el}, title, url)
    locked = post["isLocked"] is True if "isLocked" in post else _declared_locked(ld, root)
    preview_only = content.get("isLockedPreviewOnly")
    return MediumStory(
        markdown=body,
        story_id=sid,
        title=title,
        subtitle=_text(text_content(subtitle_el)) if subtitle_el is not None else None,
        author=author or None,
        author_handle=handle,
        published_at=_millis(post.get("firstPublishedAt"))
        or _iso(ld.get("datePublished"))
        or _iso(_meta(meta, "article:published_time")),
        updated_at=_iso(ld.get("dateModified"))
        or _millis(post.get("latestPublishedAt"))
        or _iso(_meta(meta, "article:modified_time")),
        tags=_tags(apollo, post, ld, doc, root),
        reading_minutes=_reading_minutes(post, meta, doc, root),
        canonical_url=_canonical(doc, meta, ld, url),
        language=_language(doc, root, post),
        publication=_text(collection.get("name")) or _publisher(ld) or None,
        description=_meta(meta, "og:description", "description"),
        locked=locked,
        # Locked and not proven whole: a preview, never presented as the full story.
        truncated=locked and preview_only is not False,
        medium_url=_text(post.get("mediumUrl")) or None,
    )


def _body(root: etree._Element, skip: set, title: str | None, url: str) -> str:
    """The story's paragraphs, in order, as Markdown. The story's title, which older
    stories repeat as their first heading, is left out: it is the `title` field."""
    container = etree.Element("div")
    taken: set[etree._Element] = set()
    for el in root.iter(*_BODY_TAGS):
        if el in skip or _inside(el, taken):
            continue
        if not _is_body_block(el) or "graf--empty" in (el.get("class") or ""):
            continue
        if title and el.tag in _HEADINGS and _text(text_content(el)).casefold() == title.casefold():
            title = None
            continue
        taken.add(el)
        container.append(_prepared(el))
    return html_to_markdown(container, url)


def _is_body_block(el: etree._Element) -> bool:
    if _is_paragraph(el):
        return True
    if el.tag in ("blockquote", "ul", "ol", "figure"):
        if any(_is_paragraph(child) for child in el.iter()):
            return True
        return el.tag == "figure" and el.find(".//img") is not None
    # Code blocks: every <pre> of the story body, with Medium's paragraph id or not (older
    # and imported stories have bare ones); dropping one would lose code silently.
    return el.tag == "pre"


def _is_paragraph(el: etree._Element) -> bool:
    if not isinstance(el.tag, str):
        return False
    name = el.get("name") or el.get("id") or ""
    return (
        el.get("data-selectable-paragraph") is not None
        or bool(_PARAGRAPH_NAME.match(name))
        or bool(_BODY_CLASS.search(el.get("class") or ""))
    )


def _prepared(el: etree._Element) -> etree._Element:
    """A copy ready for the Markdown converter: the code language Medium keeps on the
    inner span, and the real image where a blurred placeholder sits beside a noscript."""
    el = copy.deepcopy(el)
    el.tail = None
    for pre in el.iter("pre"):
        lang = next(
            (s.get("data-code-block-lang") for s in pre.iter() if s.get("data-code-block-lang")),
            None,
        )
        if lang and not pre.get("data-lang"):
            pre.set("data-lang", lang)
    for noscript in list(el.iter("noscript")):
        real = noscript.find(".//img")
        if real is None and noscript.text and "<img" in noscript.text:
            fragment = parse_html(noscript.text)
            real = fragment.find(".//img") if fragment is not None else None
        if real is not None:
            for placeholder in list(el.iter("img")):
                if placeholder is not real and not _inside(placeholder, {noscript}):
                    placeholder.getparent().remove(placeholder)
            noscript.addprevious(copy.deepcopy(real))
    return el


def _title_element(root: etree._Element) -> etree._Element | None:
    """The heading Medium marks as the story's title (none on the oldest pages)."""
    for el in root.iter("h1", "h2", "h3"):
        if el.get("data-testid") == "storyTitle" or _TITLE_CLASS.search(el.get("class") or ""):
            return el
    return None


def _dom_author(root: etree._Element) -> str:
    for el in root.iter("a"):
        classes = el.get("class") or ""
        if el.get("data-testid") == "authorName" or "postMetaInline--author" in classes:
            return _text(text_content(el))
    return ""


def _declared_locked(ld: dict, root: etree._Element) -> bool:
    """Member-only, as JSON-LD declares it, or by the badge printed above the title (a
    text of its own, so a story merely mentioning member-only stories is not one)."""
    free = ld.get("isAccessibleForFree")
    if free is not None:
        return free is False or str(free).lower() == "false"
    keywords = ld.get("keywords") if isinstance(ld.get("keywords"), list) else []
    for keyword in keywords:
        if isinstance(keyword, str) and keyword.startswith("LockedPostSource:"):
            return not keyword.endswith("_NONE")
    return any(_MEMBER_ONLY.fullmatch(_text(t)) for t in root.itertext())


def _tags(
    apollo: dict, post: dict, ld: dict, doc: etree._Element, root: etree._Element
) -> list[str]:
    """Display names of the story's tags: the Apollo cache, JSON-LD `Tag:` keywords, or
    the tag links at the end of the story (after its `<article>` on 2019-2022 pages; the
    previews of other stories, `<article>`s of their own, are not looked into)."""
    names = [
        _text(tag.get("displayTitle") or tag.get("id"))
        for tag in (_resolve(apollo, t) for t in post.get("tags") or [])
    ]
    if not any(names):
        keywords = ld.get("keywords") if isinstance(ld.get("keywords"), list) else []
        names = [k[4:] for k in keywords if isinstance(k, str) and k.startswith("Tag:")]
    if not any(names):
        names = _tag_links(root.iter("a"))
    if not any(names) and root is not doc:
        outside = [
            a for a in doc.iter("a") if not any(anc.tag == "article" for anc in a.iterancestors())
        ]
        names = _tag_links(outside)
    tags: list[str] = []
    for name in names:
        if name and name.casefold() not in {t.casefold() for t in tags}:
            tags.append(name)
    return tags


def _tag_links(links: Any) -> list[str]:
    return [
        _text(text_content(a)) for a in links if _TAG_PATH.match(urlsplit(a.get("href") or "").path)
    ]


def _reading_minutes(
    post: dict, meta: dict, doc: etree._Element, root: etree._Element
) -> int | None:
    """Minutes as Medium prints them: the Apollo cache, the `twitter:data1` meta, else the
    "7 min read" of the byline (in the story, or above it on pages whose `<article>` holds
    the body only). Texts of separate elements are read apart: "Feb 1, 2015" and "7 min
    read" side by side are not 20157 minutes."""
    minutes = post.get("readingTime")
    if isinstance(minutes, int | float) and minutes > 0:
        return max(1, math.ceil(minutes))  # as Medium prints it
    match = _READ_TIME.search(_meta(meta, "twitter:data1") or "")
    if match:
        return int(match.group(1))
    for scope in (root, doc):
        for el in scope.iter():
            if not isinstance(el.tag, str) or not _owns_text(el, "min read"):
                continue
            match = _READ_TIME.search(" ".join(el.itertext()))
            if match:
                return int(match.group(1))
    return None


def _owns_text(el: etree._Element, needle: str) -> bool:
    """The element's own text (not its children's) holds `needle`."""
    own = [el.text or ""] + [child.tail or "" for child in el]
    return any(needle in text for text in own)


def _canonical(doc: etree._Element, meta: dict, ld: dict, url: str) -> str:
    declared = (
        next(
            (el.get("href") for el in doc.iter("link") if "canonical" in (el.get("rel") or "")),
            None,
        )
        or _meta(meta, "og:url")
        or _text(ld.get("url"))
    )
    return canonical_for(story_url(url), urljoin(url, declared) if declared else None)


def _language(doc: etree._Element, root: etree._Element, post: dict) -> str | None:
    for value in (post.get("detectedLanguage"), root.get("lang"), doc.get("lang")):
        value = value if isinstance(value, str) else ""
        match = re.match(r"\s*([a-zA-Z]{2,3})(?:[-_]|\s*$)", value)
        if match:
            return match.group(1).lower()
    return None


def _publisher(ld: dict) -> str:
    publisher = ld.get("publisher")
    name = _text(publisher.get("name")) if isinstance(publisher, dict) else ""
    return "" if name.lower() == "medium" else name


# --- story fields for a Document ------------------------------------------------------------


def story_fields(
    html: str,
    url: str,
    author: str | None,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """A story page as the fields of a `Document` (validated later by the pipeline)."""
    story = extract_story(html, url)
    quality, reason = assess(html, story.markdown, story.title, http_status)
    found = bool(story.markdown.strip()) and http_status < 400
    if found and (
        quality == Quality.CHALLENGE or (quality == Quality.LOGIN_WALL and story.truncated)
    ):
        # Medium's own paragraphs are there, so this is the story (or the preview of a
        # member-only one, flagged truncated), not a wall: challenge pages have none, and
        # the paywall after a preview or a CDN's script on every page only look like one.
        quality, reason = Quality.OK, None
    fields = {
        "platform": "medium",
        "category": Category.ARTICLES,
        "url": url,
        "canonical_url": story.canonical_url or canonical_for(url, None),
        "author_full_name": author or story.author or "",
        "byline": story.author,
        "title": story.title,
        "subtitle": story.subtitle,
        "content": story.markdown,
        "language": story.language,
        "published_at": story.published_at,
        "updated_at": story.updated_at,
        "extractor": EXTRACTOR_NAME,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": story.truncated,
        "preview": "member-only" if story.truncated else None,
        "quality": quality,
        "quality_reason": reason,
        "http_status": http_status,
        "raw_html": html,
        "extra": {
            "site": "Medium",
            "story_id": story.story_id,
            "author_handle": story.author_handle,
            "publication": story.publication,
            "tags": story.tags,
            "reading_minutes": story.reading_minutes,
            "member_only": story.locked,
            "description": story.description,
            # Medium's word for the story's home (a custom domain's, say): vouches for a
            # canonical URL on another host (twin_scraper.pipelines.canonical).
            "platform_url": story.medium_url,
        },
    }
    if fetched_at is not None:
        fields["fetched_at"] = fetched_at
    return fields


# --- profile and publication lists --------------------------------------------------------


def listed_stories(html: str, page_url: str, now: datetime | None = None) -> list[ListedStory]:
    """Stories a rendered profile or publication page lists, in page order, each with the
    date printed beside it. Links to other pages (tags, lists, profiles) are ignored."""
    doc = parse_html(html)
    if doc is None:
        return []
    found: dict[str, ListedStory] = {}
    previews = list(doc.iter("article")) or [doc]
    for preview in previews:
        date = _list_date(preview, now) if preview is not doc else None
        for link in preview.iter("a"):
            href = (link.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:")):
                continue
            absolute = story_url(urljoin(page_url, href))
            if story_id(absolute) and absolute not in found:
                found[absolute] = ListedStory(absolute, date)
    return list(found.values())


def profile_stories(html: str) -> tuple[list[ListedStory], str | None]:
    """The stories a rendered profile's Apollo cache holds (`window.__APOLLO_STATE__`: the
    user's `homepagePostsConnection` page of `Post:<id>` entries with `mediumUrl`,
    `firstPublishedAt`, `latestPublishedAt`, `isLocked`), and the `from` cursor of the next
    page; ([], None) for a page without one."""
    _, cache = _apollo_post(html, None)
    stories: dict[str, ListedStory] = {}
    cursor = None
    for key, value in cache.items():
        if not (key.startswith("User:") and isinstance(value, dict)):
            continue
        for field_name, connection in value.items():
            if not field_name.startswith("homepagePostsConnection") or not isinstance(
                connection, dict
            ):
                continue
            for ref in connection.get("posts") or []:
                story = _listed_post(_resolve(cache, ref), cache)
                if story is not None:
                    stories.setdefault(story.url, story)
            cursor = cursor or _next_from(connection)
    return list(stories.values()), cursor


def graphql_stories(text: str) -> tuple[list[ListedStory], str | None]:
    """The stories of one `UserProfileQuery` answer (`[{"data": {"userResult": {
    "homepagePostsConnection": {"posts": [...], "pagingInfo": {"next": {"from": ...}}}}}}]`,
    the JSON Medium's web app pages a profile with), and the next page's cursor."""
    try:
        data = json.loads(text)
    except ValueError:
        return [], None
    stories: list[ListedStory] = []
    cursor = None
    for answer in data if isinstance(data, list) else [data]:
        user = (
            ((answer or {}).get("data") or {}).get("userResult")
            if isinstance(answer, dict)
            else None
        )
        connection = (user or {}).get("homepagePostsConnection") if isinstance(user, dict) else None
        if not isinstance(connection, dict):
            continue
        for post in connection.get("posts") or []:
            story = _listed_post(post if isinstance(post, dict) else {}, {})
            if story is not None:
                stories.append(story)
        cursor = cursor or _next_from(connection)
    return stories, cursor


def _listed_post(post: dict, cache: dict) -> ListedStory | None:
    url = _text(post.get("mediumUrl"))
    if not url or not story_id(url):
        return None
    creator = _resolve(cache, post.get("creator")) if cache else post.get("creator") or {}
    handle = _text(creator.get("username")).lower() if isinstance(creator, dict) else ""
    locked = post.get("isLocked")
    return ListedStory(
        url=story_url(url),
        published=_millis(post.get("firstPublishedAt")),
        updated=_millis(post.get("latestPublishedAt")),
        locked=locked if isinstance(locked, bool) else None,
        author_handle=handle or None,
    )


def _next_from(connection: dict) -> str | None:
    paging = connection.get("pagingInfo")
    following = paging.get("next") if isinstance(paging, dict) else None
    cursor = following.get("from") if isinstance(following, dict) else None
    return str(cursor) if cursor not in (None, "") else None


def _list_date(preview: etree._Element, now: datetime | None = None) -> datetime | None:
    """The date a list prints on its own beside a story: "Mar 3, 2021", or "Mar 3" for
    this year (last year's when that day is still ahead)."""
    match = next(
        (m for t in preview.itertext() if (m := _LIST_DATE.fullmatch(" ".join(t.split())))),
        None,
    )
    if not match:
        return None
    now = now or datetime.now(UTC)
    month, day = _MONTHS.index(match.group(1)) + 1, int(match.group(2))
    year = int(match.group(3)) if match.group(3) else now.year
    try:
        date = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    if not match.group(3) and date > now:
        date = date.replace(year=year - 1)
    return date


# --- small helpers ------------------------------------------------------------------------


def _first(items: Any) -> Any:
    return next(iter(items), None)


def _inside(el: etree._Element, containers: set) -> bool:
    return any(ancestor in containers for ancestor in el.iterancestors())


def _text(value: object) -> str:
    return _WS.sub(" ", value).strip() if isinstance(value, str) else ""


def _meta_tags(doc: etree._Element) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for el in doc.iter("meta"):
        key = el.get("property") or el.get("name")
        content = el.get("content") or el.get("value")
        if key and content:
            tags.setdefault(key.strip().lower(), []).append(content)
    return tags


def _meta(meta: dict[str, list[str]], *names: str) -> str | None:
    return next((_text(v) for n in names for v in meta.get(n, []) if _text(v)), None)


def _jsonld(doc: etree._Element) -> dict:
    """The page's schema.org article object (Medium wraps it in CDATA), or {}."""
    for script in doc.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json":
            continue
        text = re.sub(r"^\s*<!\[CDATA\[|\]\]>\s*$", "", script.text or "")
        try:
            data = json.loads(text)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and re.search(r"Article|Posting", str(item.get("@type"))):
                return item
    return {}


def _apollo_post(html: str, sid: str | None) -> tuple[dict, dict]:
    """The story's `Post:<id>` entry of the Apollo cache and the whole cache ({} if none)."""
    match = _APOLLO.search(html)
    if not match:
        return {}, {}
    try:
        cache, _ = json.JSONDecoder().raw_decode(html, match.end())
    except ValueError:
        return {}, {}
    if not isinstance(cache, dict):
        return {}, {}
    post = cache.get(f"Post:{sid}") if sid else None
    return (post if isinstance(post, dict) else {}), cache


def _resolve(cache: dict, value: object) -> dict:
    """Follow an Apollo reference (`{"__ref": "User:1"}`, or the older `{"id": ...}`)."""
    if isinstance(value, dict):
        ref = value.get("__ref") or (value.get("id") if value.get("type") == "id" else None)
        if isinstance(ref, str):
            target = cache.get(ref)
            return target if isinstance(target, dict) else {}
        return value
    return {}


def _millis(value: object) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


def _iso(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
