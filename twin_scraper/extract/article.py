"""Generic article extraction: main content as Markdown plus the page's metadata.

The main content is found on a copy of the page's own tree by a port of the scorer of Mozilla
Readability (Apache-2.0, https://github.com/mozilla/readability): paragraph scores flow to
ancestors, siblings are merged, boilerplate is pruned.
trafilatura is a second opinion, asked only when that pick is short: if it finds a much
longer text the pick mostly lacks, its text is mapped back onto the page's own element.
Because the chosen nodes come from the original tree, `<pre>` blocks reach the Markdown
converter untouched and code survives byte for byte.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urljoin

import trafilatura
from htmldate import find_date
from lxml import etree

from twin_scraper.extract import Extracted
from twin_scraper.extract.markdown import html_to_markdown, parse_html, text_content

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "article"
EXTRACTOR_VERSION = "1.0"

_WS = re.compile(r"\s+")
_SEPARATOR = re.compile(r"\s+(?:[|\-\u2013\u2014·•»:/\\]|::)\s+")  # also en/em dashes
_ARTICLE_TYPES = re.compile(r"Article|Posting|Report|APIReference", re.I)
_DATE_SEARCH_CHARS = 1_000_000
_BY_PREFIX = re.compile(r"^(?:by|von|par|por|di|door)\s+", re.I)


def extract_article(html: str, url: str) -> Extracted:
    """Main content as Markdown plus metadata; an empty result rather than an exception."""
    try:
        return _extract(html, url)
    except Exception:  # a malformed page must never stop a crawl; the gate reports it empty
        logger.exception("Extraction failed for %s", url)
        return Extracted(markdown="")


def _extract(html: str, url: str) -> Extracted:
    doc = parse_html(html)
    if doc is None:
        return Extracted(markdown="")
    meta = _Metadata(doc, url)
    base = doc.xpath("string(//base/@href)").strip()
    base_url = urljoin(url, base) if base else url
    content, byline = find_content(doc, html, meta.title, need_byline=not meta.author)
    markdown = html_to_markdown(content, base_url) if content is not None else ""
    return Extracted(
        markdown=markdown,
        title=meta.title,
        subtitle=meta.subtitle,
        author=meta.author or _clean_author(byline),
        published_at=meta.published(html, url),
        updated_at=meta.updated,
        language=meta.language,
        canonical_url=meta.canonical,
        site_name=meta.site_name,
        description=meta.description,
        tags=meta.tags,
    )


# --- metadata -----------------------------------------------------------------------------


def _norm(text: object) -> str:
    return _WS.sub(" ", text).strip() if isinstance(text, str) else ""


class _Metadata:
    """Page metadata from JSON-LD, <meta> tags and markup, in that order of trust."""

    def __init__(self, doc: etree._Element, url: str) -> None:
        self.ld = _jsonld_article(doc)
        self.meta = _meta_tags(doc)
        ld = self.ld
        self.site_name = self._first("og:site_name", "application-name") or _ld_name(
            ld.get("publisher")
        )
        self.title = _title(doc, ld, self.meta, self.site_name)
        self.subtitle = _norm(ld.get("alternativeHeadline")) or None
        self.author = _ld_name(ld.get("author")) or _clean_author(
            self._first("author", "article:author", "dc.creator", "parsely-author", "byl")
        )
        if self.author and self.author.startswith("http"):
            self.author = None
        self.description = (
            self._first("og:description", "description", "twitter:description")
            or _norm(ld.get("description"))
            or None
        )
        self.updated = _parse_date(ld.get("dateModified")) or _parse_date(
            self._first(
                "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified"
            )
        )
        self.language = _language(doc, self.meta, ld)
        self.canonical = _canonical(doc, self.meta, ld, url)
        self.tags = _tags(doc, self.meta, ld)

    def _first(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name, []):
                if _norm(value):
                    return _norm(value)
        return None

    def published(self, html: str, url: str) -> datetime | None:
        """Declared publication date, else htmldate's guess from the markup and URL."""
        declared = _parse_date(self.ld.get("datePublished")) or _parse_date(
            self._first(
                "article:published_time",
                "og:published_time",
                "datepublished",
                "pubdate",
                "publishdate",
                "date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "sailthru.date",
                "parsely-pub-date",
            )
        )
        if declared:
            return declared
        try:
            # The date sits near the top; a huge page would only slow htmldate down.
            head = html[:_DATE_SEARCH_CHARS]
            found = find_date(head, url=url, original_date=True, extensive_search=False)
        except Exception:  # htmldate is best-effort; an odd page must not fail extraction
            return None
        return _parse_date(found)


def _jsonld_article(doc: etree._Element) -> dict:
    """The first schema.org Article-like object in the page's JSON-LD (or {})."""
    found: list[dict] = []
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = re.sub(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$", "", script.text or "")
        try:
            stack = [json.loads(text)]
        except ValueError:
            continue
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                types = item.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and _ARTICLE_TYPES.search(t) for t in types):
                    found.append(item)
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))
    return found[0] if found else {}


def _ld_name(value: object) -> str | None:
    """Name(s) from a JSON-LD Person/Organization, a list of them, or a plain string."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if _norm(name) and _norm(name) not in names:
            names.append(_norm(name))
    return ", ".join(names) or None


def _meta_tags(doc: etree._Element) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for el in doc.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        content = el.get("content")
        if key and content:
            tags.setdefault(key.strip().lower(), []).append(content)
    return tags


def _title(doc: etree._Element, ld: dict, meta: dict, site: str | None) -> str | None:
    """The article's own title: declared metadata first, with a " | Site" part dropped when a
    heading on the page or the site name shows which part that is."""
    page_title = _norm(doc.findtext(".//title"))
    # JSON-LD "name" and "headline" sometimes differ; trust the one the <title> agrees with.
    declared = sorted(
        (_norm(ld.get(k)) for k in ("headline", "name")),
        key=lambda t: -_similarity(t, page_title) if page_title else 0,
    )
    candidates = [*declared]
    candidates += [meta.get(k, [None])[0] for k in ("og:title", "twitter:title", "dc.title")]
    candidates += [page_title]
    title = next((_norm(c) for c in candidates if _norm(c)), "")
    headings = [_norm(text_content(h)) for h in doc.iter("h1", "h2")]
    if not title:
        return next((h for h in headings if h), None)
    cuts = [m.start() for m in _SEPARATOR.finditer(title)]
    for cut in reversed(cuts):
        if title[:cut] in headings:
            return title[:cut]
    if cuts and site:
        first, last = title[: cuts[0]], _SEPARATOR.split(title)[-1]
        if last.casefold() == site.casefold():
            return title[: cuts[-1]]
        if first.casefold() == site.casefold():
            return _SEPARATOR.split(title, maxsplit=1)[1]
    return title


def _clean_author(text: str | None) -> str | None:
    text = _BY_PREFIX.sub("", _norm(text))
    return text or None


def _parse_date(value: object) -> datetime | None:
    """ISO 8601 (or its date part) as an aware datetime; UTC when no zone is given."""
    text = _norm(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
        if not match:
            return None
        try:
            parsed = datetime(*map(int, match.groups()))
        except ValueError:
            return None
    if not 1990 <= parsed.year <= datetime.now(UTC).year + 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language(doc: etree._Element, meta: dict, ld: dict) -> str | None:
    for value in (
        doc.get("lang"),
        doc.get("xml:lang"),
        *meta.get("content-language", []),
        *meta.get("og:locale", []),
        ld.get("inLanguage"),
    ):
        match = re.match(
            r"\s*([a-zA-Z]{2,3})(?:[-_]|\s*$)", value if isinstance(value, str) else ""
        )
        if match:
            return match.group(1).lower()
    return None


def _canonical(doc: etree._Element, meta: dict, ld: dict, url: str) -> str | None:
    links = [el.get("href") for el in doc.iter("link") if "canonical" in (el.get("rel") or "")]
    page = ld.get("mainEntityOfPage")
    page = page.get("@id") if isinstance(page, dict) else page
    for value in [*links, *meta.get("og:url", []), ld.get("url"), page]:
        value = value.strip() if isinstance(value, str) else ""
        if value:
            absolute = urljoin(url, value)
            if absolute.startswith(("http://", "https://")):
                return absolute
    return None


def _tags(doc: etree._Element, meta: dict, ld: dict) -> list[str]:
    """Article tags: article:tag, JSON-LD keywords, rel=tag links; meta keywords as a last
    resort because they are often SEO noise."""
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    values = list(meta.get("article:tag", []))
    values += [k for k in keywords or [] if isinstance(k, str)]
    values += [text_content(a) for a in doc.iter("a") if "tag" in (a.get("rel") or "").split()]
    if not values:
        for key in ("news_keywords", "keywords"):
            values += [k for v in meta.get(key, []) for k in v.split(",")]
    tags: list[str] = []
    for value in values:
        tag = _norm(value)
        if tag and len(tag) <= 60 and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    return tags[:30]


# --- main content: a Readability-style scorer on the page's own tree -----------------------

_UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|"
    r"gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|"
    r"sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    re.I,
)
_MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
_POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.I
)
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|"
    r"masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|"
    r"sponsor|shopping|tags|widget",
    re.I,
)
_BYLINE = re.compile(r"byline|author|dateline|writtenby|p-author", re.I)
_SHARE = re.compile(r"(\b|_)(share|sharedaddy)(\b|_)", re.I)
_AD_OR_LOADING = re.compile(
    r"^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|anzeige|广告|Реклама|Anuncio|"
    r"(loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$",
    re.I,
)
# "About the author" boxes that themes put inside the article element, after the text.
_AUTHOR_BOX = re.compile(
    r"author[-_]?(bio|box|info|card|profile|description)|about[-_](the[-_])?author|"
    r"(^|\s)bio[-_]?box|post[-_]author[-_]bio",
    re.I,
)
_AD_CLASSES = {"ad", "ads", "advert", "advertisement", "adsbygoogle", "ad-slot", "ad-container"}
_COMMAS = re.compile("[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]")
_UNLIKELY_ROLES = {
    "menu",
    "menubar",
    "complementary",
    "navigation",
    "alert",
    "alertdialog",
    "dialog",
}
_DIV_TO_P = ("blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul")
_TAGS_TO_SCORE = {"section", "h2", "h3", "h4", "h5", "h6", "p", "td", "pre"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_PHRASING = set(
    (
        "abbr audio b bdo br button cite code data datalist dfn em embed i img input kbd "
        "label mark math meter noscript object output progress q ruby samp script select "
        "small span strong sub sup textarea time var wbr"
    ).split()
)
_KEEP_TAG_ON_MERGE = {"div", "article", "section", "p", "ol", "ul", "table", "pre", "blockquote"}
_KEEP_TAG_ON_MERGE |= {"figure", "dl", *_HEADINGS}
_CHAR_THRESHOLD = 500


def _text(el: etree._Element) -> str:
    return " ".join(text_content(el).split())


def _in_code(el: etree._Element) -> bool:
    """Inside (or being) a code element, whose markup we must never rearrange."""
    return el.tag in ("pre", "code") or any(True for _ in el.iterancestors("pre", "code"))


def _remove(el: etree._Element) -> None:
    """Detach an element but leave its tail text in place, as removing a DOM node does."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is None:
            parent.text = (parent.text or "") + el.tail
        else:
            prev.tail = (prev.tail or "") + el.tail
    el.tail = None
    parent.remove(el)


def _next_node(node: etree._Element, skip_children: bool = False) -> etree._Element | None:
    """Next element in document order (depth first)."""
    if not skip_children and len(node):
        return node[0]
    while node is not None:
        sibling = node.getnext()
        if sibling is not None:
            return sibling
        node = node.getparent()
    return None


def _length(el: etree._Element) -> int:
    return len(_text(el))


class _Lengths(dict):
    """Memoised text lengths: nested boxes would otherwise be re-measured for each ancestor.
    Removing a node must `forget` its ancestors."""

    def __missing__(self, el: etree._Element) -> int:
        self[el] = _length(el)
        return self[el]

    def __call__(self, el: etree._Element) -> int:
        return self[el]

    def forget(self, el: etree._Element) -> None:
        for ancestor in el.iterancestors():
            self.pop(ancestor, None)


def _link_density(el: etree._Element, length: Callable = _length) -> float:
    total = length(el)
    if not total:
        return 0.0
    links = 0.0
    for a in el.iter("a"):
        href = a.get("href") or ""
        links += length(a) * (0.3 if len(href) > 1 and href.startswith("#") else 1)
    return links / total


def _text_density(el: etree._Element, tags: tuple[str, ...], length: Callable = _length) -> float:
    total = length(el)
    if not total:
        return 0.0
    return sum(length(child) for child in el.iterdescendants(*tags)) / total


def _is_phrasing(el: etree._Element) -> bool:
    if el.tag in _PHRASING:
        return True
    return el.tag in ("a", "del", "ins") and all(
        d.tag in _PHRASING or d.tag in ("a", "del", "ins") for d in el.iterdescendants()
    )


def _visible(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None:
        return False
    return el.get("aria-hidden") != "true" or "fallback-image" in (el.get("class") or "")


def _similarity(a: str, b: str) -> float:
    """Share of b's words (by length) that also occur in a."""
    tokens_a = re.findall(r"\w+", a.lower())
    tokens_b = re.findall(r"\w+", b.lower())
    if not tokens_a or not tokens_b:
        return 0.0
    unique_b = [t for t in tokens_b if t not in tokens_a]
    return 1 - len(" ".join(unique_b)) / len(" ".join(tokens_b))


def _prepare(doc: etree._Element) -> etree._Element | None:
    """A cleaned copy of the body: scripts/styles gone, <br><br> runs made into paragraphs."""
    body = copy.deepcopy(doc).find("body")
    if body is None:
        return None
    for noscript in list(body.iter("noscript")):
        _unwrap_noscript_image(noscript)
    etree.strip_elements(body, "script", "noscript", "style", "template", with_tail=False)
    for font in body.iter("font"):
        font.tag = "span"
    for br in list(body.iter("br")):
        if br.getparent() is not None and not _in_code(br):
            _replace_br_chain(br)
    return body


def _unwrap_noscript_image(noscript: etree._Element) -> None:
    """Lazy-loading pages put the real <img> in <noscript> after a placeholder: swap it in."""
    images = list(noscript.iter("img"))
    prev = noscript.getprevious()
    if len(images) != 1 or prev is None:
        return
    placeholder = prev if prev.tag == "img" else next(prev.iter("img"), None)
    if placeholder is not None and len(_text(prev)) == 0:
        image = copy.deepcopy(images[0])
        image.tail = placeholder.tail
        placeholder.getparent().replace(placeholder, image)


def _replace_br_chain(br: etree._Element) -> None:
    """Two or more <br>s in a row start a new paragraph holding the phrasing that follows."""
    parent = br.getparent()
    replaced = False
    while not (br.tail or "").strip():
        nxt = br.getnext()
        if nxt is None or nxt.tag != "br":
            break
        br.tail = (br.tail or "") + (nxt.tail or "")
        parent.remove(nxt)
        replaced = True
    if not replaced:
        return
    p = etree.Element("p")
    p.text, p.tail = br.tail, None
    parent.replace(br, p)
    while (sibling := p.getnext()) is not None:
        after = sibling.getnext()
        chain = not (sibling.tail or "").strip() and after is not None and after.tag == "br"
        if (sibling.tag == "br" and chain) or not _is_phrasing(sibling):
            break
        p.append(sibling)
    last = p[-1] if len(p) else None
    if last is not None:
        last.tail = (last.tail or "").rstrip() or None
    else:
        p.text = (p.text or "").rstrip() or None
    if parent.tag == "p":
        parent.tag = "div"


class _Readability:
    """The core of Mozilla Readability (`_grabArticle` + `_prepArticle`) on an lxml tree.

    Flags are dropped one by one (a sieve) while the result stays under 500 characters.
    """

    def __init__(self, title: str | None, need_byline: bool) -> None:
        self.title = title or ""
        self.need_byline = need_byline
        self.byline: str | None = None
        self.strip_unlikely = self.weight_classes = self.clean_conditionally = True
        self.data_tables: set = set()

    def run(self, doc: etree._Element) -> etree._Element | None:
        attempts = []
        for flag in ("strip_unlikely", "weight_classes", "clean_conditionally", None):
            body = _prepare(doc)
            if body is None:
                return None
            content = self._grab(body)
            length = len(_text(content))
            if length >= _CHAR_THRESHOLD:
                return content
            attempts.append((length, content))
            if flag:
                setattr(self, flag, False)
        length, content = max(attempts, key=lambda a: a[0])
        return content if length else None

    def _class_weight(self, el: etree._Element) -> int:
        if not self.weight_classes:
            return 0
        weight = 0
        for value in (el.get("class"), el.get("id")):
            if value:
                weight += -25 if _NEGATIVE.search(value) else 0
                weight += 25 if _POSITIVE.search(value) else 0
        return weight

    def _initial_score(self, el: etree._Element) -> float:
        base = {"div": 5, "pre": 3, "td": 3, "blockquote": 3, "th": -5}
        base |= dict.fromkeys(("address", "ol", "ul", "dl", "dd", "dt", "li", "form"), -3)
        base |= dict.fromkeys(_HEADINGS, -5)
        return base.get(el.tag, 0) + self._class_weight(el)

    def _grab(self, body: etree._Element) -> etree._Element:
        to_score = self._walk(body)
        scores: dict[etree._Element, float] = {}
        for el in to_score:
            ancestors = list(el.iterancestors())
            if not ancestors or ancestors[-1].tag != "html":
                continue  # removed together with an ancestor
            text = _text(el)
            if len(text) < 25:
                continue
            score = 1 + len(_COMMAS.split(text)) + min(len(text) // 100, 3)
            for level, ancestor in enumerate(ancestors[:5]):
                if ancestor.getparent() is None:
                    continue
                if ancestor not in scores:
                    scores[ancestor] = self._initial_score(ancestor)
                scores[ancestor] += score / (1 if level == 0 else 2 if level == 1 else level * 3)
        length = _Lengths()
        for el in scores:
            scores[el] *= 1 - _link_density(el, length)
        top = self._top_candidate(body, scores)
        article = self._merge_siblings(top, scores)
        self.clean(article)
        return article

    def _walk(self, body: etree._Element) -> list[etree._Element]:
        """Remove hidden/unlikely/empty nodes, note the byline, turn text divs into <p>s, and
        return the nodes to score."""
        to_score = []
        title_header_seen = False
        node = body
        while node is not None:
            match = f"{node.get('class') or ''} {node.get('id') or ''}"
            tag = node.tag
            if not _visible(node) or (
                node.get("aria-modal") == "true" and node.get("role") == "dialog"
            ):
                node = self._drop_and_next(node)
                continue
            if self.need_byline and self.byline is None and self._is_byline(node, match):
                name = next((d for d in node.iter() if "name" in (d.get("itemprop") or "")), node)
                self.byline = _text(name)
                node = self._drop_and_next(node)
                continue
            if (
                not title_header_seen
                and tag in ("h1", "h2")
                and _similarity(self.title, _text(node)) > 0.75
            ):
                title_header_seen = True
                node = self._drop_and_next(node)
                continue
            if self.strip_unlikely and tag not in ("body", "a"):
                unlikely = _UNLIKELY.search(match) and not _MAYBE_CANDIDATE.search(match)
                if (unlikely and not any(True for _ in node.iterancestors("table", "code"))) or (
                    node.get("role") in _UNLIKELY_ROLES
                ):
                    node = self._drop_and_next(node)
                    continue
            if tag in ("div", "section", "header", *_HEADINGS) and self._empty(node):
                node = self._drop_and_next(node)
                continue
            if tag in _TAGS_TO_SCORE:
                to_score.append(node)
            if tag in ("pre", "code"):
                node = _next_node(node, skip_children=True)
                continue
            if tag == "div":
                _wrap_phrasing(node)
                child = node[0] if len(node) == 1 else None
                if (
                    child is not None
                    and child.tag == "p"
                    and not (node.text or "").strip()
                    and not (child.tail or "").strip()
                    and _link_density(node) < 0.25
                ):
                    child.tail = node.tail
                    node.getparent().replace(node, child)
                    node = child
                    to_score.append(node)
                elif next(node.iterdescendants(*_DIV_TO_P), None) is None:
                    node.tag = "p"
                    to_score.append(node)
            node = _next_node(node)
        return to_score

    @staticmethod
    def _drop_and_next(node: etree._Element) -> etree._Element | None:
        nxt = _next_node(node, skip_children=True)
        _remove(node)
        return nxt

    @staticmethod
    def _is_byline(node: etree._Element, match: str) -> bool:
        if not (
            node.get("rel") == "author"
            or "author" in (node.get("itemprop") or "")
            or _BYLINE.search(match)
        ):
            return False
        return 0 < len(text_content(node).strip()) < 100

    @staticmethod
    def _empty(node: etree._Element) -> bool:
        if text_content(node).strip():
            return False
        return len(node) == sum(1 for _ in node.iterdescendants("br", "hr"))

    def _top_candidate(self, body: etree._Element, scores: dict) -> etree._Element:
        ranked = sorted(scores, key=scores.get, reverse=True)[:5]
        if not ranked or ranked[0].tag == "body":
            wrapper = etree.Element("div")
            wrapper.text, body.text = body.text, None
            wrapper.extend(list(body))
            body.append(wrapper)
            scores[wrapper] = self._initial_score(wrapper)
            return wrapper
        top = ranked[0]
        # Several near-top candidates sharing an ancestor: the content is that ancestor.
        close = [list(c.iterancestors()) for c in ranked[1:] if scores[c] >= 0.75 * scores[top]]
        if len(close) >= 3:
            for parent in top.iterancestors():
                if parent.tag == "body":
                    break
                if sum(parent in ancestors for ancestors in close) >= 3:
                    top = parent
                    break
        scores.setdefault(top, self._initial_score(top))
        # A parent scoring higher than its child probably holds more of the article.
        last, threshold = scores[top], scores[top] / 3
        for parent in top.iterancestors():
            if parent.tag == "body":
                break
            if parent not in scores:
                continue
            if scores[parent] < threshold:
                break
            if scores[parent] > last:
                top = parent
                break
            last = scores[parent]
        parent = top.getparent()
        while parent is not None and parent.tag != "body" and len(parent) == 1:
            top, parent = parent, parent.getparent()
        scores.setdefault(top, self._initial_score(top))
        return top

    def _merge_siblings(self, top: etree._Element, scores: dict) -> etree._Element:
        """Gather the top candidate plus siblings that look like part of the same article."""
        article = etree.Element("div")
        parent = top.getparent()
        if parent is None:
            article.append(top)
            return article
        threshold = max(10.0, scores[top] * 0.2)
        top_class = top.get("class") or ""
        for sibling in list(parent):
            append = sibling is top
            if not append:
                bonus = scores[top] * 0.2 if top_class and sibling.get("class") == top_class else 0
                if sibling in scores and scores[sibling] + bonus >= threshold:
                    append = True
                elif sibling.tag == "p":
                    density, text = _link_density(sibling), _text(sibling)
                    append = (len(text) > 80 and density < 0.25) or (
                        0 < len(text) < 80 and density == 0 and re.search(r"\.( |$)", text)
                    )
            if append:
                if sibling.tag not in _KEEP_TAG_ON_MERGE:
                    sibling.tag = "div"
                _remove(sibling)
                article.append(sibling)
        return article

    def clean(self, article: etree._Element) -> None:
        """Readability's `_prepArticle`: drop forms, asides, share boxes, link lists..."""
        self._mark_data_tables(article)
        self._clean_conditionally(article, "form", "fieldset")
        for el in list(article.iter("object", "embed", "footer", "link", "aside")):
            _remove(el)
        # Ad slots: a box labelled only "Advertisement"/"Anzeige", or classed as an ad.
        for el in list(article.iter("p", "div", "span", "section", "figure")):
            classes = set(f"{el.get('class') or ''} {el.get('id') or ''}".lower().split())
            is_ad = bool(classes & _AD_CLASSES) or _AD_OR_LOADING.match(_text(el)[:40])
            if is_ad and _length(el) < 40 and not _in_code(el):
                _remove(el)
        for el in list(article.iter("div", "section", "aside", "footer")):
            match = f"{el.get('class') or ''} {el.get('id') or ''}"
            if _AUTHOR_BOX.search(match) and _length(el) < 1000 and not _in_code(el):
                _remove(el)
        # Tag and category links are metadata (they become `tags`), not article text.
        for el in list(article.iter("a")):
            if "tag" in (el.get("rel") or "").split() and not _in_code(el):
                _remove(el)
        for child in list(article):
            for el in list(child.iterdescendants()):
                match = f"{el.get('class') or ''} {el.get('id') or ''}"
                small = len(text_content(el)) < _CHAR_THRESHOLD
                if _SHARE.search(match) and small and not _in_code(el):
                    _remove(el)
        for el in list(article.iter("iframe", "input", "textarea", "select", "button")):
            if not _in_code(el):
                _remove(el)
        for el in list(article.iter("h1", "h2")):
            if self._class_weight(el) < 0:
                _remove(el)
        self._clean_conditionally(article, "table", "ul", "div")
        for el in article.iter("h1"):
            el.tag = "h2"
        for p in list(article.iter("p")):
            media = next(p.iter("img", "embed", "object", "iframe"), None)
            if not _text(p) and media is None and not _in_code(p):
                _remove(p)
        for br in list(article.iter("br")):
            nxt = br.getnext()
            before_p = nxt is not None and nxt.tag == "p" and not (br.tail or "").strip()
            if before_p and not _in_code(br):
                _remove(br)

    def _mark_data_tables(self, article: etree._Element) -> None:
        for table in article.iter("table"):
            if table.get("role") == "presentation" or table.get("datatable") == "0":
                continue
            caption = table.find("caption")
            if (
                table.get("summary")
                or (caption is not None and len(caption))
                or next(table.iterdescendants("col", "colgroup", "tfoot", "thead", "th"), None)
                is not None
            ):
                self.data_tables.add(table)
                continue
            if next(table.iterdescendants("table"), None) is not None:
                continue
            rows = list(table.iter("tr"))
            columns = max(
                (sum(_int(c.get("colspan")) for c in r if c.tag in ("td", "th")) for r in rows),
                default=0,
            )
            rowspan = sum(_int(r.get("rowspan")) for r in rows)
            if rowspan >= 10 or columns > 4 or rowspan * columns > 10:
                self.data_tables.add(table)

    def _clean_conditionally(self, article: etree._Element, *tags: str) -> None:
        """Remove link lists, image galleries, forms and the like that fail content checks."""
        if not self.clean_conditionally:
            return
        length = _Lengths()
        for tag in tags:
            for node in reversed(list(article.iter(tag))):
                if node.getparent() is not None and self._should_remove(node, tag, length):
                    length.forget(node)
                    _remove(node)

    def _should_remove(self, node: etree._Element, tag: str, length: Callable) -> bool:
        if node in self.data_tables or _in_code(node):
            return False
        ancestors = list(node.iterancestors())
        if any(a in self.data_tables for a in ancestors):
            return False
        if any(t in self.data_tables for t in node.iterdescendants("table")):
            return False
        text_length = length(node)
        is_list = tag in ("ul", "ol")
        if not is_list and text_length:
            list_length = sum(length(lst) for lst in node.iterdescendants("ul", "ol"))
            is_list = list_length / text_length > 0.9
        weight = self._class_weight(node)
        if weight < 0:
            return True
        if text_content(node).count(",") >= 10:
            return False
        p = sum(1 for _ in node.iterdescendants("p"))
        img = sum(1 for _ in node.iterdescendants("img"))
        li = sum(1 for _ in node.iterdescendants("li")) - 100
        inputs = sum(1 for _ in node.iterdescendants("input"))
        embeds = sum(1 for _ in node.iterdescendants("object", "embed", "iframe"))
        if text_length < 40 and _AD_OR_LOADING.match(_text(node)):
            return True
        density = _link_density(node, length)
        heading_density = _text_density(node, _HEADINGS, length)
        text_density = _text_density(node, ("span", "li", "td", *_DIV_TO_P), length)
        in_figure = any(a.tag == "figure" for a in ancestors)
        remove = (
            (not in_figure and img > 1 and p / img < 0.5)
            or (not is_list and li > p)
            or inputs > p // 3
            or (
                not is_list
                and not in_figure
                and heading_density < 0.9
                and text_length < 25
                and (img == 0 or img > 2)
                and density > 0
            )
            or (not is_list and weight < 25 and density > 0.2)
            or (weight >= 25 and density > 0.5)
            or (embeds == 1 and text_length < 75)
            or embeds > 1
            or (img == 0 and text_density == 0)
        )
        # Keep simple image lists: every item holds exactly one image.
        image_list = is_list and all(len(child) <= 1 for child in node) and img == li + 100
        return remove and not image_list


def _int(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def _wrap_phrasing(div: etree._Element) -> None:
    """Put runs of inline content directly inside a <div> into <p>s, as Readability does."""
    items: list[etree._Element | str] = [div.text or ""]
    for child in div:
        items += [child, child.tail or ""]
    if not any(i.strip() if isinstance(i, str) else _is_phrasing(i) for i in items):
        return
    div.text = None
    for child in list(div):
        child.tail = None
        div.remove(child)
    run: list[etree._Element | str] = []

    def flush() -> None:
        if any((isinstance(i, str) and i.strip()) or not isinstance(i, str) for i in run):
            p = etree.Element("p")
            for item in run:
                _append(p, item)
            _append(div, p)
        run.clear()

    for item in items:
        if isinstance(item, str) or _is_phrasing(item):
            run.append(item)
        else:
            flush()
            _append(div, item)
    flush()


def _append(parent: etree._Element, item: etree._Element | str) -> None:
    if not isinstance(item, str):
        parent.append(item)
    elif len(parent):
        parent[-1].tail = (parent[-1].tail or "") + item
    else:
        parent.text = (parent.text or "") + item


def find_content(
    doc: etree._Element, html: str, title: str | None, need_byline: bool
) -> tuple[etree._Element | None, str | None]:
    """The main-content element (a detached copy of original nodes) and any byline seen.

    The Readability-style scorer decides; trafilatura is consulted only when the scorer's
    pick is short, and wins when it found a much longer text the pick mostly lacks (a teaser
    or caption box chosen instead of the article).
    """
    scorer = _Readability(title, need_byline)
    content = scorer.run(doc)
    ours = _words(_text(content)) if content is not None else Counter()
    if ours.total() < _SHORT_WORDS and _count_elements(doc) <= _TRAFILATURA_MAX_ELEMENTS:
        fallback = _trafilatura_content(html, doc, ours, title)
        content = content if fallback is None else fallback
    return content, scorer.byline


_SHORT_WORDS = 200
# trafilatura slows down badly on element-dense pages (minutes for 100k nested nodes).
_TRAFILATURA_MAX_ELEMENTS = 30_000


def _count_elements(doc: etree._Element) -> int:
    return sum(1 for _ in doc.iter())


_BLOCKS = ("div", "article", "main", "section", "td", "body", "blockquote", "ul", "ol")


def _words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def _overlap_f1(a: Counter, b: Counter) -> float:
    common = (a & b).total()
    return 2 * common / (a.total() + b.total()) if common else 0.0


def _trafilatura_content(
    html: str, doc: etree._Element, ours: Counter, title: str | None
) -> etree._Element | None:
    """trafilatura's main text, mapped back onto the page's own element when one matches it
    well (so code stays exact); None when it does not clearly beat the scorer's pick."""
    options = {"include_tables": True, "include_comments": False}
    theirs = _words(trafilatura.extract(html, **options) or "")
    if theirs.total() < 2 * ours.total() or (ours & theirs).total() >= theirs.total() / 2:
        return None
    size = len(" ".join(theirs.elements()))
    best, best_f1 = None, 0.5
    body = _prepare(doc)
    for el in body.iter(_BLOCKS) if body is not None else ():
        text = _text(el)
        if (
            size / 2 <= len(text) <= size * 3
            and (f1 := _overlap_f1(_words(text), theirs)) > best_f1
        ):
            best, best_f1 = el, f1
    if best is not None:
        article = etree.Element("div")
        article.append(copy.deepcopy(best))
        heading = next((h for h in article.iter("h1", "h2")), None)
        if heading is not None and title and _similarity(title, _text(heading)) > 0.75:
            _remove(heading)  # the title is a field of its own
        _Readability(None, need_byline=False).clean(article)
        return article
    rendered = trafilatura.extract(
        html,
        output_format="html",
        include_links=True,
        include_images=True,
        include_formatting=True,
        **options,
    )
    tree = parse_html(rendered or "")
    if tree is None:
        return None
    _restore_code(tree, doc)
    return tree.find("body")


def _restore_code(tree: etree._Element, doc: etree._Element) -> None:
    """Swap each code block trafilatura re-rendered for the page's original `<pre>`."""
    originals = [pre for pre in doc.iter("pre") if not any(pre.iterancestors("pre"))]
    for pre in [p for p in tree.iter("pre") if not any(p.iterancestors("pre"))]:
        words = _words(text_content(pre))
        scored = [(_overlap_f1(words, _words(text_content(o))), o) for o in originals]
        f1, original = max(scored, key=lambda s: s[0], default=(0.0, None))
        if original is not None and f1 >= 0.5:
            replacement = copy.deepcopy(original)
            replacement.tail = pre.tail
            pre.getparent().replace(pre, replacement)
