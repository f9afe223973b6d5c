"""A mock Substack publication on 127.0.0.1, shaped like the real service.

JSON as Substack serves it (keys and types as probed on real publications): the archive
(`/api/v1/archive?sort=new&offset=N&limit=M`, a bare array without bodies, newest first,
400 for a limit over 50), posts (`/api/v1/posts/<slug>`: the body for free posts, the
preview only for paid ones, plus `updated_at`), post pages (`/p/<slug>`), robots.txt, the
publication's `sitemap.xml` (a standard urlset: the home, archive and about pages and every
post's `/p/<slug>` with its `lastmod`) and people's profiles
(`/api/v1/user/<handle>/public_profile`, shaped like `tests/fixtures/extract/substack/
public_profile.json`). A test edits `posts` between crawls and reads `hits` to see what was
requested; `hidden` slugs are left out of the archive (the sitemap still lists them).
"""

from __future__ import annotations

import copy
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROBOTS = (
    "User-agent: *\nDisallow: /action/\nDisallow: /publish\nDisallow: /sign-in\n"
    "Disallow: /subscribe\nDisallow: /p/*/comment/*\nDisallow: /embed\n"
)
# Keys the single-post API adds to an archive item.
POST_ONLY_KEYS = ("updated_at", "is_published", "next_post_slug", "previous_post_slug")


def byline(
    user_id: int,
    name: str,
    handle: str,
    publication: dict[str, Any],
    role: str | None,
    is_guest: bool = False,
) -> dict[str, Any]:
    """An entry of `publishedBylines`: a Substack user, with their role on publications."""
    users = []
    if role is not None:
        users.append(
            {
                "id": user_id * 7,
                "user_id": user_id,
                "publication_id": publication["id"],
                "role": role,
                "public": True,
                "is_primary": role == "admin",
                "publication": publication,
            }
        )
    return {
        "id": user_id,
        "name": name,
        "handle": handle,
        "previous_name": None,
        "photo_url": f"https://substack-post-media.s3.amazonaws.com/public/images/{handle}.png",
        "bio": f"{name} writes about bread.",
        "profile_set_up_at": "2021-04-16T05:06:04.745Z",
        "reader_installed_at": None,
        "publicationUsers": users,
        "is_guest": is_guest,
        "bestseller_tier": None,
    }


def make_post(
    base: str,
    publication: dict[str, Any],
    post_id: int,
    slug: str,
    title: str,
    post_date: str,
    body_html: str,
    bylines: list[dict[str, Any]],
    subtitle: str = "",
    audience: str = "everyone",
    wordcount: int | None = None,
    tags: tuple[str, ...] = (),
    kind: str = "newsletter",
) -> dict[str, Any]:
    """A full post object, as `/api/v1/posts/<slug>` gives it (body included)."""
    words = wordcount if wordcount is not None else len(html.unescape(body_html).split())
    return {
        "id": post_id,
        "editor_v2": False,
        "publication_id": publication["id"],
        "title": title,
        "social_title": None,
        "search_engine_title": None,
        "search_engine_description": None,
        "type": kind,
        "slug": slug,
        "post_date": post_date,
        "audience": audience,
        "podcast_duration": None,
        "write_comment_permissions": "everyone",
        "should_send_free_preview": False,
        "free_unlock_required": False,
        "default_comment_sort": None,
        "canonical_url": f"{base}/p/{slug}",
        "section_id": None,
        "top_exclusions": [],
        "pins": [],
        "is_section_pinned": False,
        "section_slug": None,
        "section_name": None,
        "reactions": {"❤": 12},
        "restacks": 1,
        "subtitle": subtitle,
        "cover_image": None,
        "cover_image_is_square": False,
        "podcast_url": None,
        "videoUpload": None,
        "podcastUpload": None,
        "voiceover_upload_id": None,
        "has_voiceover": False,
        "description": subtitle or title,
        "body_json": None,
        "body_html": body_html,
        "has_dynamic_content": False,
        "truncated_body_text": html.unescape(body_html.split("</p>")[0].split(">", 1)[-1])[:280],
        "wordcount": words,
        "post_preview_limit": None,
        "language": "en",
        "postTags": [
            {"id": f"t-{i}", "publication_id": publication["id"], "name": t, "slug": t.lower()}
            for i, t in enumerate(tags)
        ],
        "teaser_post_eligible": True,
        "postCountryBlocks": [],
        "headlineTest": None,
        "publishedBylines": bylines,
        "reaction": None,
        "reaction_count": 12,
        "comment_count": 3,
        "child_comment_count": 0,
        "audio_items": [],
        "is_geoblocked": False,
        "hasCashtag": False,
        "updated_at": post_date,
        "is_published": True,
        "next_post_slug": None,
        "previous_post_slug": None,
    }


def archive_item(post: dict[str, Any]) -> dict[str, Any]:
    """The archive's form of a post: no body, none of the single-post keys."""
    item = {k: v for k, v in post.items() if k not in POST_ONLY_KEYS}
    item["body_html"] = None
    return item


def post_page(post: dict[str, Any]) -> str:
    """A post page as a browser gets it (without `_preloads`: the markup path)."""
    authors = [{"@type": "Person", "name": b["name"]} for b in post["publishedBylines"]]
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "url": post["canonical_url"],
        "mainEntityOfPage": post["canonical_url"],
        "headline": post["title"],
        "description": post["subtitle"],
        "datePublished": post["post_date"],
        "dateModified": post["updated_at"],
        "isAccessibleForFree": post["audience"] == "everyone",
        "author": authors,
    }
    names = ", ".join(a["name"] for a in authors)
    paywall = (
        ""
        if post["audience"] == "everyone"
        else '<div class="paywall"><h2>This post is for paid subscribers</h2></div>'
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="Substack">
<link rel="preconnect" href="https://substackcdn.com">
<title>{html.escape(post["title"])} - by {html.escape(names)}</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(post["title"])}">
<meta property="og:description" content="{html.escape(post["subtitle"])}">
<meta name="author" content="{html.escape(names)}">
<link rel="canonical" href="{post["canonical_url"]}">
<script type="application/ld+json">{json.dumps(ld)}</script>
</head><body><div id="entry"><div class="main-menu"><a href="/">Home</a>
<a href="/archive">Archive</a><a href="/about">About</a></div>
<article class="typography newsletter-post post">
<div class="post-header"><h1 class="post-title published">{html.escape(post["title"])}</h1>
<h3 class="subtitle">{html.escape(post["subtitle"])}</h3>
<div class="byline-wrapper"><a href="https://substack.com/@x">{html.escape(names)}</a>
<div class="post-date">{post["post_date"][:10]}</div></div></div>
<div class="available-content"><div dir="auto" class="body markup">{post["body_html"]}</div>
</div>{paywall}
<div class="post-footer"><button class="like-button">Like</button>
<a href="/subscribe">Subscribe</a></div></article>
<div class="comments-section">Comments</div></div></body></html>"""


#: A publication's home page as Substack serves it on any domain (markers as on real
#: pages: the generator meta, assets on substackcdn.com, `window._preloads`).
HOME_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="Substack">
<title>Ada Bakes | Ada Quill | Substack</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="Ada Bakes">
<link rel="preconnect" href="https://substackcdn.com">
<link rel="alternate" type="application/rss+xml" href="{{BASE}}/feed" title="Ada Bakes">
<link rel="stylesheet" href="https://substackcdn.com/bundle/theme/main.css">
</head><body><div id="entry"><div class="main-menu"><a href="/">Home</a>
<a href="/archive">Archive</a><a href="/about">About</a></div>
<div class="homepage"><h1>Ada Bakes</h1><p>Notes from a home bakery.</p></div></div>
<script>window._preloads = JSON.parse("{\\"base_url\\":\\"{{BASE}}\\"}")</script>
<script src="https://substackcdn.com/bundle/static/js/main.js" defer></script>
</body></html>"""


class MockSubstack:
    """`with MockSubstack(publication, posts) as site: site.base ...`; `posts` are full
    post objects by slug (a paid one holding its preview); `no_api` slugs answer 404 on
    the API, as on a site that does not serve it."""

    def __init__(self) -> None:
        self.posts: dict[str, dict[str, Any]] = {}
        self.no_api: set[str] = set()
        self.hidden: set[str] = set()
        self.profiles: dict[str, dict[str, Any]] = {}
        self.hits: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> MockSubstack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, post: dict[str, Any]) -> None:
        self.posts[post["slug"]] = post

    def post_hits(self) -> list[str]:
        """Requests for single posts (API or page), in order."""
        return [h for h in self.hits if h.startswith(("/api/v1/posts/", "/p/"))]

    def archive(self, offset: int, limit: int) -> list[dict[str, Any]]:
        newest = sorted(self.posts.values(), key=lambda p: p["post_date"], reverse=True)
        listed = [p for p in newest if p["slug"] not in self.hidden]
        return [archive_item(p) for p in listed[offset : offset + limit]]

    def sitemap(self) -> str:
        """The publication's sitemap: its pages, then every post with its lastmod."""
        pages = [f"<url><loc>{self.base}/{p}</loc><changefreq>daily</changefreq></url>"
                 for p in ("", "archive", "about")]  # fmt: skip
        for post in sorted(self.posts.values(), key=lambda p: p["post_date"], reverse=True):
            pages.append(
                f"<url><loc>{self.base}/p/{post['slug']}</loc>"
                f"<lastmod>{post['updated_at'][:10]}</lastmod><changefreq>monthly</changefreq>"
                "</url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(pages)
            + "</urlset>"
        )

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.hits.append(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/robots.txt":
            self._send(handler, 200, ROBOTS, "text/plain")
        elif path == "/api/v1/archive":
            try:
                offset, limit = int(query.get("offset", "0")), int(query.get("limit", "12"))
            except ValueError:
                offset, limit = -1, -1
            if not (offset >= 0 and 1 <= limit <= 50):
                value = query.get("limit", query.get("offset"))
                error = {"location": "query", "param": "limit", "value": value}
                self._send_json(handler, 400, {"errors": [error | {"msg": "Invalid value"}]})
            else:
                self._send_json(handler, 200, self.archive(offset, limit))
        elif path == "/sitemap.xml":
            self._send(handler, 200, self.sitemap(), "application/xml")
        elif path.startswith("/api/v1/user/") and path.endswith("/public_profile"):
            handle = path.removeprefix("/api/v1/user/").removesuffix("/public_profile")
            if handle in self.profiles:
                self._send_json(handler, 200, self.profiles[handle])
            else:
                self._send_json(handler, 404, {"error": "User not found"})
        elif path.startswith("/api/v1/posts/"):
            slug = path.removeprefix("/api/v1/posts/")
            if slug in self.posts and slug not in self.no_api:
                self._send_json(handler, 200, copy.deepcopy(self.posts[slug]))
            else:
                self._send(handler, 404, "<html><title>Not Found</title>Not Found</html>")
        elif path.startswith("/p/") and path.removeprefix("/p/").strip("/") in self.posts:
            self._send(handler, 200, post_page(self.posts[path.removeprefix("/p/").strip("/")]))
        elif path == "/":
            self._send(handler, 200, HOME_PAGE.replace("{{BASE}}", self.base))
        else:
            self._send(handler, 404, "<html><title>Not Found</title>Not Found</html>")

    def _send_json(self, handler: BaseHTTPRequestHandler, status: int, data: Any) -> None:
        self._send(handler, status, json.dumps(data), "application/json; charset=utf-8")

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: str,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


# --- the publications the tests crawl -------------------------------------------------------

ADA = "Ada Quill"
BEN = "Ben Okafor"
FEED_CODE = '''def feed(starter, flour=50, water=50):
    """Feed 1:1:1 by weight."""
    ratio = (flour + water) / starter
    if ratio &lt; 1:
\treturn "too little"
    return f"{ratio:.1f}x"'''
RICH_BODY = f"""<p>Most of what I know about sourdough I learned by getting it wrong. This is the \
short version, with the code I use to time my feeds and a few <a href="https://en.wikipedia.org/\
wiki/Sourdough" rel="">notes on the chemistry</a>.</p>
<div class="subscription-widget-wrap-editor" \
data-attrs="{{&quot;url&quot;:&quot;/subscribe?&quot;}}" data-component-name=\
"SubscribeWidgetToDOM"><div class="subscription-widget show-subscribe">\
<div class="preamble"><p class="cta-caption">Thanks for reading! Subscribe for free to receive \
new posts.</p></div><form class="subscription-widget-subscribe"><input type="email" \
class="email-input" name="email" placeholder="Type your email…"><input type="submit" \
class="button primary" value="Subscribe"></form></div></div>
<h2 class="header-anchor-post">Why a starter fails</h2>
<p>A starter fails for three reasons<a class="footnote-anchor" data-component-name=\
"FootnoteAnchorToDOM" id="footnote-anchor-1" href="#footnote-1" target="_self">1</a>:</p>
<ul><li><p>the flour is too fresh or too bleached,</p></li><li><p>the kitchen is too cold,</p>\
</li><li><p>the feeds are too far apart.</p></li></ul>
<div class="captioned-image-container"><figure><a class="image-link image2 is-viewable-img" \
target="_blank" href="https://substackcdn.com/image/fetch/f_auto/https%3A%2F%2Fsubstack-post-\
media.s3.amazonaws.com%2Fpublic%2Fimages%2Fstarter_1600x900.jpeg" data-component-name=\
"Image2ToDOM"><div class="image2-inset"><picture><source type="image/webp" srcset=\
"https://substackcdn.com/image/fetch/w_424,f_webp/starter.webp 424w"><img src=\
"https://substack-post-media.s3.amazonaws.com/public/images/starter_1600x900.jpeg" width="1456" \
height="819" class="sizing-normal" alt="A jar of bubbling starter" loading="lazy"></picture>\
<div class="image-link-expand"><div class="pencraft pc-display-flex"><button tabindex="0" \
type="button" class="restack-image"><svg role="img" width="20" height="20"><path d="M1 1"/>\
</svg></button></div></div></div></a><figcaption class="image-caption">My starter on day four.\
</figcaption></figure></div>
<h3 class="header-anchor-post">Timing the feeds</h3>
<p>I keep the arithmetic in a tiny function:</p>
<pre><code>{FEED_CODE}</code></pre>
<blockquote><p>Bread is a clock you can eat.</p></blockquote>
<ol><li><p>Feed at night.</p></li><li><p>Bake in the morning.</p></li></ol>
<p class="button-wrapper" data-component-name="ButtonCreateButton"><a class="button primary" \
href="/subscribe?"><span>Subscribe now</span></a></p>
<div class="footnote" data-component-name="FootnoteToDOM"><a id="footnote-1" href=\
"#footnote-anchor-1" class="footnote-number" contenteditable="false" target="_self">1</a>\
<div class="footnote-content"><p>Rye flour ferments faster than wheat.</p></div></div>"""
PAID_PREVIEW = """<p>Every baker I know has an opinion on what a loaf should cost. Here is mine, \
worked out from flour prices, oven time and the hours that nobody counts when they buy bread at \
a market stall on a Saturday morning, and why I think a fair price is higher than you expect.</p>"""


def filler(number: int) -> str:
    """A plain weekly note: enough words to be an article."""
    return (
        f"<p>Week {number}: the starter rose by half in six hours and the crumb was open. "
        "I changed one thing at a time, as always, and wrote each change in the notebook "
        "beside the flour bin, because memory lies about bread more than about anything "
        f"else I know.</p><p>Next week I will try a longer cold proof, note {number}.</p>"
    )


def publication(site: MockSubstack, name: str, pub_id: int) -> dict[str, Any]:
    return {
        "id": pub_id,
        "name": name,
        "subdomain": name.lower().replace(" ", ""),
        "custom_domain": None,
        "custom_domain_optional": False,
        "hero_text": "Notes from a home bakery.",
        "author_id": 101,
        "payments_state": "enabled",
        "homepage_type": "newspaper",
    }


def fill_ada(site: MockSubstack, weekly: int) -> None:
    """Ada's publication: `weekly` short free posts, one long free post, one paid post,
    one guest post, one co-written post and one post whose API is not served."""
    pub = publication(site, "Ada Bakes", 1001)
    ada = byline(101, ADA, "adaquill", pub, "admin")
    ben = byline(202, BEN, "benokafor", pub, "contributor", is_guest=True)
    for n in range(1, weekly + 1):
        day = f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}T08:00:00.000Z"
        site.add(
            make_post(site.base, pub, 5000 + n, f"week-{n}", f"Week {n}", day, filler(n), [ada])
        )
    site.add(
        make_post(
            site.base,
            pub,
            6001,
            "sourdough-timing",
            "Timing a sourdough starter",
            "2026-03-02T09:30:00.000Z",
            RICH_BODY,
            [ada],
            subtitle="What I learned by getting it wrong",
            tags=("Sourdough", "Code"),
        )
    )
    site.add(
        make_post(
            site.base,
            pub,
            6002,
            "pricing-a-loaf",
            "What a loaf should cost",
            "2026-03-09T09:30:00.000Z",
            PAID_PREVIEW,
            [ada],
            subtitle="For paid subscribers",
            audience="only_paid",
            wordcount=1859,
        )
    )
    site.add(
        make_post(
            site.base,
            pub,
            6003,
            "guest-fermentation",
            "A guest on fermentation",
            "2026-03-16T09:30:00.000Z",
            filler(900),
            [ben],
        )
    )
    site.add(
        make_post(
            site.base,
            pub,
            6004,
            "bread-science-together",
            "Bread science, together",
            "2026-03-23T09:30:00.000Z",
            filler(901),
            [ada, ben],
        )
    )
    site.add(
        make_post(
            site.base,
            pub,
            6005,
            "from-the-page",
            "A post read from its page",
            "2026-03-30T09:30:00.000Z",
            filler(902),
            [ada],
            subtitle="The API does not serve this one",
        )
    )
    site.no_api.add("from-the-page")


def fill_custom_domain(site: MockSubstack) -> None:
    """Ada's second publication, on its own domain: three free posts."""
    pub = publication(site, "Ada Kitchen Notes", 2002) | {"custom_domain": "notes.ada.example"}
    ada = byline(101, ADA, "adaquill", pub, "admin")
    for n in range(1, 4):
        day = f"2026-0{n}-15T12:00:00.000Z"
        site.add(
            make_post(
                site.base, pub, 7000 + n, f"kitchen-{n}", f"Kitchen {n}", day, filler(n), [ada]
            )
        )
