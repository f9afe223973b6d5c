"""A mock LinkedIn on 127.0.0.1 for the authenticated crawl's tests.

Without the expected `li_at` cookie every member page redirects to an auth wall (as
linkedin.com does). With it, `/in/<slug>/recent-activity/all/` is a JavaScript feed: it
fetches posts five at a time from a JSON endpoint (which also wants the cookie) when the
reader scrolls to the bottom, and shows long posts cut short behind a "…see more"
button. `/pulse/<slug>/` are articles; a path in `locked` redirects to a security
checkpoint instead, as LinkedIn does when it distrusts a session.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

PAGE = 5  # posts per fetch
TRUNCATE = 140  # characters shown before "see more"

FEED = """<!doctype html><html><head><meta charset="utf-8"><title>Activity | LinkedIn</title>
<style>.feed-shared-update-v2 { min-height: 500px; border-bottom: 1px solid #ccc; }</style>
</head><body><main><h2>All activity</h2><div id="feed"></div><p id="loading"></p></main>
<script>
let start = 0, done = false, busy = false;
function esc(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;"); }
function lines(s) { return esc(s).replace(/\\n/g, "<br>"); }
function card(p) {
  const long = p.text.length > TRUNCATE;
  const shown = long ? p.text.slice(0, TRUNCATE) + "…" : p.text;
  const header = p.header ? `<div class="update-components-header">${esc(p.header)}</div>` : "";
  const article = p.article ? `<article class="update-components-article">
      <a href="${p.article.href}">${esc(p.article.title)}</a></article>` : "";
  const more = long ? `<button class="feed-shared-inline-show-more-text__see-more-less-toggle"
      aria-expanded="false">…see more</button>` : "";
  const count = (name, value, tag) => value ?
    `<li class="social-details-social-counts__${name}"><${tag}
      class="social-details-social-counts__${name}-count">${value}</${tag}></li>` : "";
  const counts = `<ul class="social-details-social-counts">
    ${count("reactions", p.reactions, "span")}${count("comments", p.comments, "button")}
    ${count("reposts", p.reposts, "button")}</ul>`;
  const el = document.createElement("div");
  el.className = "feed-shared-update-v2 artdeco-card";
  el.setAttribute("data-urn", p.urn);
  el.innerHTML = `${header}<div class="update-components-actor">
      <a class="update-components-actor__meta-link" href="/in/${p.slug}?miniProfileUrn=x">
      <span class="update-components-actor__name"><span aria-hidden="true">${esc(p.name)}</span>
      <span class="visually-hidden">View ${esc(p.name)}'s profile</span></span></a>
      <span class="update-components-actor__sub-description">
      <span aria-hidden="true">${p.date} • Edited • </span>
      <span class="visually-hidden">${p.date} ago</span></span></div>
    <div class="feed-shared-update-v2__description">
      <div class="update-components-text"><span class="break-words">
      <span dir="ltr">${lines(shown)}</span></span></div>
      ${more}</div>${article}${counts}`;
  const button = el.querySelector("button[aria-expanded]");
  if (button) button.addEventListener("click", () => {
    el.querySelector(".update-components-text span[dir]").innerHTML = lines(p.text);
    button.setAttribute("aria-expanded", "true");
    button.textContent = "…see less";
  });
  return el;
}
async function more() {
  if (done || busy) return;
  busy = true;
  const answer = await fetch(`/voyager/feed?start=${start}`);
  if (answer.status === 401) { window.location = "/authwall?trk=feed"; return; }
  const posts = await answer.json();
  for (const p of posts) document.getElementById("feed").appendChild(card(p));
  start += posts.length;
  done = posts.length < PAGE;
  busy = false;
}
window.addEventListener("scroll", () => {
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) setTimeout(more, 100);
});
more();
</script></body></html>""".replace("TRUNCATE", str(TRUNCATE)).replace("PAGE", str(PAGE))

AUTHWALL = """<!doctype html><html><head><title>Sign Up | LinkedIn</title></head><body>
<h1>Join LinkedIn</h1><p>WALL-TEXT: Join your colleagues and friends on LinkedIn.</p>
<form id="join-form"><input name="session_key"><input name="session_password"></form>
<a href="/login">Sign in</a></body></html>"""

CHECKPOINT = """<!doctype html><html><head><title>Security Verification | LinkedIn</title></head>
<body><h1>Let's do a quick security check</h1><p>CHECKPOINT-TEXT: prove you are a person.</p>
<form action="/checkpoint/challenge/verify"><input name="pin"></form></body></html>"""

ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | LinkedIn</title>
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="2020-04-11T10:05:00Z">
</head><body><nav>Home My Network Jobs Messaging Notifications</nav>
<main><article class="article-main"><h1 class="pulse-title">{title}</h1>
<div class="author-info"><a href="/in/ada-quill/">Ada Quill</a> Baker, writer</div>
<div class="article-main__content">{body}</div></article></main>
<aside>More articles for you: Ten ways to proof faster</aside></body></html>"""


def activity_urn(moment: datetime) -> str:
    """An activity URN whose id holds `moment`, as LinkedIn's do (ms in the top bits)."""
    return f"urn:li:activity:{(int(moment.timestamp() * 1000) << 22) | 12345}"


@dataclass
class MockLinkedIn:
    li_at: str
    slug: str = "ada-quill"
    posts: list[dict[str, Any]] = field(default_factory=list)
    articles: dict[str, tuple[str, str]] = field(default_factory=dict)  # path: (title, html)
    locked: set[str] = field(default_factory=set)
    cookies_seen: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> MockLinkedIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        cookie = SimpleCookie(handler.headers.get("Cookie", ""))
        with self._lock:
            self.paths.append(parts.path)
            if "li_at" in cookie:
                self.cookies_seen.append(cookie["li_at"].value)
        logged_in = "li_at" in cookie and cookie["li_at"].value == self.li_at
        path = parts.path
        if path.startswith("/authwall") or path == "/login":
            return self._send(handler, 200, AUTHWALL)
        if path.startswith("/checkpoint/"):
            return self._send(handler, 200, CHECKPOINT)
        if path == "/voyager/feed":
            if not logged_in:
                return self._send(handler, 401, "{}", "application/json")
            start = int(parse_qs(parts.query).get("start", ["0"])[0])
            body = json.dumps(self.posts[start : start + PAGE])
            return self._send(handler, 200, body, "application/json")
        member_page = path.startswith(("/in/", "/pulse/", "/feed/"))
        if member_page and not logged_in:
            wall = f"/authwall?trk=bf&sessionRedirect={quote(self.url(handler.path), safe='')}"
            return self._redirect(handler, wall)
        if path in self.locked:
            return self._redirect(handler, "/checkpoint/challenge/AgFq3x?ut=1")
        if path == f"/in/{self.slug}/recent-activity/all/":
            return self._send(handler, 200, FEED)
        if path in self.articles:
            title, body = self.articles[path]
            return self._send(handler, 200, ARTICLE.format(title=title, body=body))
        return self._send(handler, 404, "<html><title>Page not found</title></html>")

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: str,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _redirect(self, handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def sample_posts(slug: str, now: datetime) -> list[dict[str, Any]]:
    """Thirteen updates: twelve of the member's (some long, one announcing an article),
    one repost of another member's post."""
    long_text = (
        "Sourdough starters are simpler than people think.\n\n"
        "My rule: feed it when it smells hungry, not by the clock. A starter that doubles "
        "in four hours is ready; one that takes twelve needs warmth, not more flour.\n\n"
        "FULL-TEXT-END #baking #sourdough"
    )
    me = {"slug": slug, "name": "Ada Quill"}
    posts: list[dict[str, Any]] = [
        {
            **me,
            "urn": activity_urn(now - timedelta(days=2, hours=3)),
            "date": "2d",
            "text": long_text,
            "reactions": "1,234",
            "comments": "56 comments",
            "reposts": "7 reposts",
        },
        {
            **me,
            "urn": "urn:li:activity:1234567",  # no time in this id: the shown "3w" counts
            "date": "3w",
            "text": "Short one: rye needs less water than you think.",
            "reactions": "12",
        },
        {
            "slug": "bob-baker",
            "name": "Bob Baker",
            "header": "Ada Quill reposted this",
            "urn": activity_urn(now - timedelta(days=30)),
            "date": "1mo",
            "text": "REPOST-TEXT: Bob's thoughts on croissants.",
            "reactions": "3",
        },
        {
            **me,
            "urn": activity_urn(now - timedelta(days=40)),
            "date": "1mo",
            "text": "I wrote down why I bake at night.",
            "article": {"href": "/pulse/why-i-bake-night-ada-quill/", "title": "Why I bake"},
            "reactions": "1.2K",
            "comments": "3 comments",
        },
    ]
    for n in range(5, 14):
        text = f"Post number {n} about bread and ovens. " + (
            f"It goes on for a while, so LinkedIn cuts it. {'More about crust. ' * 8}END-{n}"
            if n % 2
            else f"Short END-{n}"
        )
        posts.append(
            {**me, "urn": activity_urn(now - timedelta(days=7 * n)), "date": f"{n}w", "text": text}
        )
    return posts


ARTICLE_BODY = (
    "<p>The house is quiet after ten, and the oven is the only warm thing left in the "
    "kitchen. That is when the dough gets my full attention, without phones or deliveries "
    "or the radio.</p><h2>What the night gives</h2><ul><li>Cool air for a slow proof</li>"
    "<li>Time to shape by feel</li></ul><p>By morning the loaves are cooled, sliced and gone "
    "to the neighbours. ARTICLE-END</p>"
)


def mock_linkedin(li_at: str, now: datetime | None = None) -> MockLinkedIn:
    site = MockLinkedIn(li_at=li_at)
    site.posts = sample_posts(site.slug, now or datetime.now(UTC))
    site.articles["/pulse/why-i-bake-night-ada-quill/"] = ("Why I bake at night", ARTICLE_BODY)
    return site
