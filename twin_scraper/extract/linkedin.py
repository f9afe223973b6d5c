"""LinkedIn: the member's data export (CSV and HTML) and rendered activity pages.

Pure functions over the export's file contents and over rendered HTML, so a test on a
fixture export, the spider and a re-extraction all read them the same way. Reading the
archive itself (`read_export`) is the one function that touches the file system.

The export ("Get a copy of your data") is a zip of CSV files at its root, such as
`Profile.csv` (First Name, Last Name, ...) and `Shares.csv`, plus one HTML page per article
(`<h1><a href=PULSE_URL>title</a></h1>`, `<p class="created">`, `<p class="published">`,
then the article's HTML). Two generations are read (docs/platforms.md has the details):

- current exports (2020 on): UTF-8 with a BOM, comma separated, columns `Date, ShareLink,
  ShareCommentary, SharedUrl, MediaUrl, Visibility`, articles in `Articles/Articles/`;
  a multi-line post's lines are joined by `"\n"` (blank lines show as `""`);
- older ones (2018): `Shares.csv` in UTF-16 with a BOM, tab separated, columns `Date,
  Share Link, Share Commentary, Shared URL, Media URL`, articles in `Articles/`, drafts
  linking to `/post/edit/...` and saying "Not published yet".

Comments, reactions, rich media and the rest are not the member's posts or articles and
are left alone.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

from twin_scraper.documents import article_fields
from twin_scraper.extract.markdown import html_to_markdown, parse_html, text_content
from twin_scraper.items import Category
from twin_scraper.urls import canonicalize_url

EXPORT_EXTRACTOR = "linkedin_export"
EXTRACTOR_VERSION = "1"
LINKEDIN = "https://www.linkedin.com"

#: Largest export file read (an article page or Shares.csv); guards against zip bombs.
MAX_EXPORT_FILE_BYTES = 200 * 1024 * 1024

_SHARES = re.compile(r"^shares(?:_\d+)?\.csv$", re.IGNORECASE)
_PROFILE = re.compile(r"^profile\.csv$", re.IGNORECASE)
_URN = re.compile(
    r"urn:li:(?:share|ugcPost|activity|article|groupPost):(?:[0-9]+-)?[0-9]+", re.IGNORECASE
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{2,4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?"
)
#: Columns a Shares.csv needs, by their names in current exports; older exports spell
#: them with spaces ("Share Link"), so names are compared without spaces or case.
SHARES_COLUMNS = ("Date", "ShareLink", "ShareCommentary")
#: A draft's page in a 2018 export: "Not published yet", its title linking to the editor.
_UNPUBLISHED = re.compile(r"not published", re.IGNORECASE)
_DRAFT_PATHS = ("/post/edit/", "/article/edit/")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


class ExportError(ValueError):
    """An export that cannot be read; the message names the path and what to do."""


@dataclass(frozen=True)
class ExportPost:
    """One row of Shares.csv: a post (or a reshare) the member wrote."""

    row: int  # line of the CSV record, for messages
    url: str  # ShareLink as exported
    urn: str | None
    text: str
    published_at: datetime | None
    date_text: str
    shared_url: str | None
    media_url: str | None
    visibility: str | None


@dataclass(frozen=True)
class ExportArticle:
    """One page of Articles/Articles/: an article, published or a draft."""

    name: str  # path inside the export
    html: str
    title: str | None
    url: str | None  # the article's public URL (linkedin.com/pulse/...), None for drafts
    created_at: datetime | None
    published_at: datetime | None
    markdown: str


@dataclass
class LinkedInExport:
    source: str
    author: str | None  # from Profile.csv
    posts: list[ExportPost] = field(default_factory=list)
    articles: list[ExportArticle] = field(default_factory=list)
    shares_file: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


# --- reading the archive --------------------------------------------------------------
def read_export(path: str | Path) -> dict[str, bytes]:
    """The export's files we use (Profile.csv, Shares.csv, article pages), by their path
    inside the export, from a .zip or the folder it was extracted to."""
    path = Path(path).expanduser()
    hint = "pass the .zip LinkedIn sent you, or the folder it extracts to"
    if not path.exists():
        raise ExportError(f"LinkedIn export not found: {path} ({hint})")
    if path.is_dir():
        names = {p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*")) if p.is_file()}
        wanted = [n for n in names if _wanted(n)]
        files = {}
        for name in wanted:
            if names[name].stat().st_size > MAX_EXPORT_FILE_BYTES:
                raise ExportError(f"LinkedIn export {path}: {name} is too large to be a real one")
            files[name] = names[name].read_bytes()
    else:
        if not zipfile.is_zipfile(path):
            raise ExportError(f"LinkedIn export {path} is not a zip archive ({hint})")
        try:
            with zipfile.ZipFile(path) as archive:
                files = {}
                for info in archive.infolist():
                    if info.is_dir() or not _wanted(info.filename):
                        continue
                    with archive.open(info) as member:  # sizes in a zip may lie
                        data = member.read(MAX_EXPORT_FILE_BYTES + 1)
                    if len(data) > MAX_EXPORT_FILE_BYTES:
                        raise ExportError(
                            f"LinkedIn export {path}: {info.filename} is too large to be a real one"
                        )
                    files[info.filename] = data
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise ExportError(f"LinkedIn export {path} is a damaged zip archive: {exc}") from None
    if not any(_SHARES.match(PurePosixPath(n).name) or _is_article(n) for n in files):
        raise ExportError(
            f"LinkedIn export {path} holds no posts or articles (neither Shares.csv nor "
            "Articles/Articles/*.html): request the archive with your posts and articles "
            "(LinkedIn: Settings, Data privacy, Get a copy of your data)"
        )
    return files


def _is_article(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return len(parts) >= 2 and parts[-2].lower() == "articles" and name.lower().endswith(".html")


def _wanted(name: str) -> bool:
    base = PurePosixPath(name).name
    return bool(_SHARES.match(base) or _PROFILE.match(base)) or _is_article(name)


def parse_export(files: Mapping[str, bytes], source: str) -> LinkedInExport:
    """Posts, articles and the member's name from the export's files."""
    export = LinkedInExport(source=source, author=None)
    shares_error: ExportError | None = None  # reported, unless nothing else can be read
    for name in sorted(files):
        base = PurePosixPath(name).name
        if _PROFILE.match(base):
            export.author = profile_name(files[name])
        elif _SHARES.match(base):
            export.shares_file = name
            try:
                posts, problems = parse_shares(files[name])
            except ExportError as exc:
                shares_error = exc
                export.problems.append((name, str(exc)))
                continue
            export.posts.extend(posts)
            export.problems.extend((f"{name} line {row}", why) for row, why in problems)
        elif _is_article(name):
            export.articles.append(parse_article(files[name], name))
    if shares_error is not None and not export.articles:
        raise shares_error  # nothing of the member's could be read
    return export


# --- CSV ------------------------------------------------------------------------------
def decode_csv(data: bytes) -> str:
    """An export CSV's text. Current exports are UTF-8 (with a BOM), 2018 ones UTF-16
    with a BOM; a UTF-16 file without one shows as NUL bytes between ASCII letters."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    head = data[:200]
    if head and head.count(b"\x00") * 3 >= len(head):
        encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # a CSV saved again by a spreadsheet


def column_key(name: str) -> str:
    """A column's name as compared: "Share Link", "ShareLink" and "share_link" are one."""
    return re.sub(r"[\s_\ufeff]+", "", name).lower()


def _delimiter(text: str) -> str:
    """Tab for the 2018 exports, comma for the others: whichever the header line uses."""
    header = text.split("\n", 1)[0]
    return "\t" if header.count("\t") > header.count(",") else ","


def _csv_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (as written) and (line, row) records of an export CSV, each row keyed by
    `column_key`: encoding and delimiter detected, quoted fields may span lines, empty
    records skipped."""
    text = decode_csv(data).replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    for record in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in record]
            continue
        keys = [column_key(name) for name in header]
        rows.append((start, dict(zip(keys, record, strict=False))))
    return header or [], rows


def profile_name(data: bytes) -> str | None:
    """The member's full name from Profile.csv (First Name, Last Name)."""
    _, rows = _csv_rows(data)
    for _, row in rows:
        name = " ".join(f"{row.get('firstname', '')} {row.get('lastname', '')}".split())
        if name:
            return name
    return None


def parse_shares(data: bytes) -> tuple[list[ExportPost], list[tuple[int, str]]]:
    """Shares.csv: the posts, and (line, reason) for rows that cannot be one."""
    header, rows = _csv_rows(data)
    found = {column_key(name) for name in header}
    missing = [c for c in SHARES_COLUMNS if column_key(c) not in found]
    if missing:
        shown = ", ".join(_printable(name) for name in header) or "no header"
        raise ExportError(f"Shares.csv lacks the column(s) {', '.join(missing)} (found: {shown})")
    posts: list[ExportPost] = []
    problems: list[tuple[int, str]] = []
    for line, row in rows:
        link = (row.get("sharelink") or "").strip()
        if not link.startswith(("http://", "https://")):
            problems.append((line, "no ShareLink (the post's URL)"))
            continue
        date_text = (row.get("date") or "").strip()
        posts.append(
            ExportPost(
                row=line,
                url=link,
                urn=post_urn(link),
                text=share_text(row.get("sharecommentary") or ""),
                published_at=parse_export_date(date_text),
                date_text=date_text,
                shared_url=(row.get("sharedurl") or "").strip() or None,
                media_url=(row.get("mediaurl") or "").strip() or None,
                visibility=(row.get("visibility") or "").strip() or None,
            )
        )
    return posts, problems


def _printable(name: str) -> str:
    """A column name fit for a message: control characters (NULs of a misread file) out."""
    return "".join(c for c in name if c.isprintable()) or "?"


def share_text(commentary: str) -> str:
    """The post's text from ShareCommentary, with the export's own line quoting undone and
    the quotes the author wrote kept.

    Real exports join a multi-line post's lines with `"\\n"` (a quote, a newline, a quote):
    the first line has no opening quote, the last no closing one, a blank line shows as
    `""`, and the author's quotes stay single. Some exports wrap every line whole instead
    (`"line"`, with the author's quotes doubled). A value in neither form is the text."""
    lines = commentary.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > 1:
        if _wrapped_lines(lines):
            lines = [ln.strip()[1:-1].replace('""', '"') for ln in lines]
        elif _joined_lines(lines):
            last = len(lines) - 1
            lines = [
                ln[1 if i > 0 else 0 : len(ln) - 1 if i < last else len(ln)]
                for i, ln in enumerate(lines)
            ]
    text = "\n".join(ln.rstrip() for ln in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _wrapped_lines(lines: list[str]) -> bool:
    """Every line written as a quoted value of its own, its inner quotes doubled."""
    filled = [ln.strip() for ln in lines if ln.strip()]
    return bool(filled) and all(
        len(ln) >= 2 and ln[0] == ln[-1] == '"' and '"' not in ln[1:-1].replace('""', "")
        for ln in filled
    )


def _joined_lines(lines: list[str]) -> bool:
    """Every line break of the value is the export's `"\\n"` joint."""
    last = len(lines) - 1
    return all(
        (i == last or ln.endswith('"'))
        and (i == 0 or ln.startswith('"'))
        and (i in (0, last) or len(ln) >= 2)  # a middle line holds both quotes
        for i, ln in enumerate(lines)
    )


def parse_export_date(text: str) -> datetime | None:
    """Export dates ("2023-05-10 14:22:01", "2020-04-10 09:13", "05/10/23, 02:22 PM"),
    in UTC as LinkedIn writes them."""
    match = _DATE.search(text)
    try:
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
        match = _US_DATE.search(text)
        if match:
            mo, d, y, h, mi, s = (int(g) if g else 0 for g in match.groups()[:6])
            y += 2000 if y < 100 else 0
            meridiem = (match.group(7) or "").lower()
            if meridiem:
                h = h % 12 + (12 if meridiem == "pm" else 0)
            return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None
    return None


# --- URLs -----------------------------------------------------------------------------
def post_urn(url: str) -> str | None:
    """`urn:li:share:123` (or ugcPost, activity) from a post URL, percent-encoded or not."""
    match = _URN.search(unquote(url))
    return match.group(0) if match else None


def post_url(urn: str, base: str = LINKEDIN) -> str:
    """The post's permanent URL, the same whichever route found it."""
    return f"{base.rstrip('/')}/feed/update/{urn}/"


def post_canonical(url: str) -> str:
    """A post's identity: its URN's feed URL on linkedin.com, else its canonical URL."""
    urn = post_urn(url)
    if urn is None:
        return canonicalize_url(url)
    parts = urlsplit(url)
    return canonicalize_url(post_url(urn, f"{parts.scheme}://{parts.netloc}"))


# --- article pages --------------------------------------------------------------------
def parse_article(data: bytes | str, name: str) -> ExportArticle:
    """An exported article page: its title, public URL, dates and text as Markdown."""
    html = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    doc = parse_html(html)
    if doc is None:
        return ExportArticle(name, html, None, None, None, None, "")
    body = doc.find("body")
    root = body if body is not None else doc
    title = url = None
    heading = root.find(".//h1")
    if heading is not None:
        title = " ".join(text_content(heading).split()) or None
        link = heading.find(".//a[@href]")
        if link is not None and link.get("href", "").startswith(("http://", "https://")):
            url = link.get("href").strip()
        heading.getparent().remove(heading)
    dates: dict[str, datetime | None] = {"created": None, "published": None}
    unpublished = False
    for kind in dates:
        for el in root.xpath(f".//p[{_has_class(kind)}]"):
            dates[kind] = dates[kind] or parse_export_date(text_content(el))
            unpublished |= kind == "published" and _UNPUBLISHED.search(text_content(el)) is not None
            el.getparent().remove(el)
    if url and (unpublished or urlsplit(url).path.startswith(_DRAFT_PATHS)):
        url = None  # a draft: 2018 exports link it to its editor, not to a public page
    return ExportArticle(
        name=name,
        html=html,
        title=title,
        url=url,
        created_at=dates["created"],
        published_at=dates["published"],
        markdown=html_to_markdown(root, url),
    )


def title_from_name(name: str) -> str | None:
    """A fallback title from the page's file name ("2020-04-10 09:13:21.0-My-Title.html")."""
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}[ T][\d:.]+-?", "", PurePosixPath(name).stem)
    return " ".join(stem.replace("-", " ").split()) or None


# --- Document fields ------------------------------------------------------------------
def export_post_fields(post: ExportPost, author: str) -> dict[str, Any]:
    """A post from Shares.csv as the fields of a `Document`."""
    return {
        "platform": "linkedin",
        "category": Category.POSTS,
        "url": post.url,
        "canonical_url": post_canonical(post.url),
        "author_full_name": author,
        "content": post.text,
        "published_at": post.published_at,
        "extractor": EXPORT_EXTRACTOR,
        "extractor_version": EXTRACTOR_VERSION,
        "authoritative": True,  # the member's own text, as LinkedIn exported it
        "extra": {
            "source": "export",
            "urn": post.urn,
            "visibility": post.visibility,
            "shared_url": post.shared_url,
            "media_url": post.media_url,
            "date_precision": "second" if post.published_at else None,
            "date_text": post.date_text,
        },
    }


def export_article_fields(
    html: str,
    url: str,
    author: str,
    http_status: int = 200,
    fetched_at: datetime | None = None,
    name: str = "",
) -> dict[str, Any]:
    """An exported article page as the fields of a `Document`; also what `twin
    reextract` calls on the stored page."""
    article = parse_article(html, name)
    fields: dict[str, Any] = {
        "platform": "linkedin",
        "category": Category.ARTICLES,
        "url": url,
        "canonical_url": canonicalize_url(url),
        "author_full_name": author,
        "title": article.title or title_from_name(name),
        "content": article.markdown,
        "published_at": article.published_at,
        "extractor": EXPORT_EXTRACTOR,
        "extractor_version": EXTRACTOR_VERSION,
        "authoritative": True,  # the article page LinkedIn exported, nothing around it
        "raw_html": html,
        "extra": {
            "source": "export",
            "created_at": article.created_at.isoformat() if article.created_at else None,
            "date_precision": "minute" if article.published_at else None,
        },
    }
    if name:
        fields["extra"]["export_file"] = name
    if fetched_at is not None:
        fields["fetched_at"] = fetched_at
    return fields


# --- the rendered activity feed (authenticated crawl) --------------------------------
#: One update (post, repost, article announcement) of an activity feed.
CARD_SELECTOR = "div.feed-shared-update-v2[data-urn]"
#: The "…see more" toggle of a truncated post, before it is expanded.
SEE_MORE_SELECTOR = (
    "button.feed-shared-inline-show-more-text__see-more-less-toggle:not([aria-expanded=true])"
)
CRAWL_EXTRACTOR = "linkedin"
PULSE_EXTRACTOR = "linkedin_article"

_RELATIVE = re.compile(r"^\s*(?:(now|just now)|(\d+)\s*(mo|yr|y|w|d|h|m|s)\b)", re.IGNORECASE)
_UNITS = {  # LinkedIn's short units: "m" is minutes, "mo" months
    "s": ("second", 1),
    "m": ("minute", 60),
    "h": ("hour", 3600),
    "d": ("day", 86400),
    "w": ("week", 7 * 86400),
    "mo": ("month", 30 * 86400),
    "y": ("year", 365 * 86400),
    "yr": ("year", 365 * 86400),
}
_COUNT = re.compile(r"(\d[\d,.\s]*)\s*([KkMm])?")
#: LinkedIn's first day; a URN time before it (or in the future) is not a time.
LINKEDIN_LAUNCH = datetime(2003, 5, 5, tzinfo=UTC)
WALL_PATHS = ("/authwall", "/login", "/uas/login", "/checkpoint", "/signup", "/uas/")
#: Forms only a logged-out visitor sees (the sign-in and join forms).
WALL_MARKUP = ('name="session_key"', 'id="join-form"')


@dataclass(frozen=True)
class FeedPost:
    """One card of a rendered activity feed."""

    urn: str
    html: str  # the card's own HTML, kept for re-extraction
    text: str
    date_text: str | None
    author_slug: str | None  # whose card: /in/<slug> of its actor
    author_name: str | None
    reactions: int | None
    comments: int | None
    reposts: int | None
    truncated: bool  # a "see more" was left unexpanded
    article_urls: tuple[str, ...]


def relative_date(text: str | None, now: datetime) -> tuple[datetime | None, str | None]:
    """("3w", now) -> (now - 3 weeks, "week"): LinkedIn shows only how long ago; the
    precision says how far off the absolute date may be."""
    match = _RELATIVE.match(text or "")
    if not match:
        return None, None
    if match.group(1):
        return now, "minute"
    unit, seconds = _UNITS[match.group(3).lower()]
    return now - timedelta(seconds=int(match.group(2)) * seconds), unit


def urn_time(urn: str | None, now: datetime) -> datetime | None:
    """When a post was made, from its id (the top 41 bits are Unix milliseconds)."""
    match = re.search(r":(\d{15,20})$", urn or "")
    if not match:
        return None
    moment = datetime.fromtimestamp((int(match.group(1)) >> 22) / 1000, tz=UTC)
    return moment if LINKEDIN_LAUNCH <= moment <= now else None


def parse_count(text: str | None) -> int | None:
    """ "1,234" -> 1234, "1.2K" -> 1200, "56 comments" -> 56."""
    match = _COUNT.search(text or "")
    if not match:
        return None
    digits, scale = match.group(1).replace(" ", "").rstrip(",."), (match.group(2) or "").upper()
    if scale:
        try:
            return round(float(digits.replace(",", ".")) * (1000 if scale == "K" else 1_000_000))
        except ValueError:
            return None
    number = digits.replace(",", "").replace(".", "")
    return int(number) if number.isdigit() else None


def wall_reason(url: str, html: str) -> str | None:
    """Why a rendered page is LinkedIn's login, auth wall or security checkpoint instead
    of what was asked for; None when it is not one."""
    path = urlsplit(url).path.lower()
    if path.startswith(WALL_PATHS):
        return f"LinkedIn sent {path.split('?')[0]} (a login, auth wall or checkpoint page)"
    head = html[:200_000].lower()
    found = next((m for m in WALL_MARKUP if m in head), None)
    if found and "feed-shared-update-v2" not in head and "article-main" not in head:
        return f"LinkedIn showed a login or checkpoint form ({found!r} in the page)"
    return None


def _lines(el: Any) -> str:
    """An element's text with `<br>` and paragraphs as line breaks, spaces normalised
    (line breaks in the HTML source are spaces, as a browser shows them)."""
    for node in el.iter():
        node.text = re.sub(r"\s+", " ", node.text) if node.text else node.text
        if node is not el and node.tail:
            node.tail = re.sub(r"\s+", " ", node.tail)
    for br in el.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in el.iter("p", "li", "div"):
        block.tail = "\n" + (block.tail or "")
    lines = [" ".join(line.split()) for line in text_content(el).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _first(card: Any, xpath: str) -> Any:
    found = card.xpath(xpath)
    return found[0] if found else None


def _shown_text(card: Any, css_class: str) -> str | None:
    """Text of the first element with this class, as shown: LinkedIn doubles texts in
    an `aria-hidden` copy and a visually hidden one for screen readers."""
    el = _first(card, f".//*[{_has_class(css_class)}]")
    if el is None:
        return None
    shown = _first(el, ".//*[@aria-hidden='true']")
    return " ".join(text_content(shown if shown is not None else el).split()) or None


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def parse_activity(html: str, page_url: str) -> list[FeedPost]:
    """Every card of a rendered activity page, in page order, each post once."""
    doc = parse_html(html)
    if doc is None:
        return []
    posts: list[FeedPost] = []
    seen: set[str] = set()
    for card in doc.xpath(f"//div[{_has_class('feed-shared-update-v2')}][@data-urn]"):
        urn = post_urn(card.get("data-urn", ""))
        if urn is None or urn in seen:
            continue
        seen.add(urn)
        card_html = etree.tostring(card, encoding=str, method="html", with_tail=False)
        actor = _first(card, f".//*[{_has_class('update-components-actor')}]//a[@href]")
        slug = None
        if actor is not None:
            match = re.search(r"/in/([^/?#]+)", actor.get("href", ""))
            slug = unquote(match.group(1)).lower() if match else None
        date_text = _shown_text(card, "update-components-actor__sub-description")
        name = _shown_text(card, "update-components-actor__name")
        body = _first(card, f".//*[{_has_class('update-components-text')}]")
        reactions = _first(
            card, f".//*[{_has_class('social-details-social-counts__reactions-count')}]"
        )
        comments = _first(card, f".//*[{_has_class('social-details-social-counts__comments')}]")
        reposts = _first(card, f".//*[{_has_class('social-details-social-counts__reposts')}]")
        articles = tuple(
            dict.fromkeys(
                urljoin(page_url, a.get("href")).split("?")[0]
                for a in card.xpath(".//a[contains(@href, '/pulse/')]")
            )
        )
        posts.append(
            FeedPost(
                urn=urn,
                html=card_html,
                text=_lines(body) if body is not None else "",
                date_text=date_text,
                author_slug=slug,
                author_name=name,
                reactions=parse_count(text_content(reactions)) if reactions is not None else 0,
                comments=parse_count(text_content(comments)) if comments is not None else 0,
                reposts=parse_count(text_content(reposts)) if reposts is not None else 0,
                truncated=bool(
                    card.xpath(
                        ".//button[contains(@class, 'see-more-less-toggle')]"
                        "[not(@aria-expanded='true')]"
                    )
                ),
                article_urls=articles,
            )
        )
    return posts


def feed_post_fields(post: FeedPost, author: str, fetched_at: datetime, base: str) -> dict:
    """A feed card as the fields of a `Document`. Its date comes from the post's id when
    that holds one, else from the relative date shown ("3w"), with its precision."""
    exact = urn_time(post.urn, fetched_at)
    relative, unit = relative_date(post.date_text, fetched_at)
    url = post_url(post.urn, base)
    return {
        "platform": "linkedin",
        "category": Category.POSTS,
        "url": url,
        "canonical_url": post_canonical(url),
        "author_full_name": author,
        "content": post.text,
        "published_at": exact or relative,
        "fetched_at": fetched_at,
        "extractor": CRAWL_EXTRACTOR,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": post.truncated,
        "raw_html": post.html,
        "extra": {
            "source": "crawl",
            "urn": post.urn,
            "date_text": post.date_text,
            "date_source": "post id" if exact else ("relative date" if relative else None),
            "date_precision": "millisecond" if exact else unit,
            "reactions": post.reactions,
            "comments": post.comments,
            "reposts": post.reposts,
            "articles": list(post.article_urls),
        },
    }


def crawled_post_fields(
    html: str,
    url: str,
    author: str,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """A stored feed card, re-extracted (`twin reextract`); relative dates count from
    when it was fetched."""
    parts = urlsplit(url)
    empty = FeedPost(post_urn(url) or "", html, "", None, None, None, None, None, None, False, ())
    card = next(iter(parse_activity(html, url)), empty)  # empty: refused by the quality gate
    fetched = fetched_at or datetime.now(UTC)
    return feed_post_fields(card, author, fetched, f"{parts.scheme}://{parts.netloc}")


def pulse_article_fields(
    html: str,
    url: str,
    author: str | None,
    http_status: int = 200,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """A rendered article page (linkedin.com/pulse/...) as the fields of a `Document`:
    the generic article extractor and quality verdict, as a LinkedIn article."""
    fields = article_fields(html, url, author, http_status, fetched_at)
    fields.update(platform="linkedin", extractor=PULSE_EXTRACTOR)
    fields["extra"] = {**fields["extra"], "source": "crawl"}
    return fields
