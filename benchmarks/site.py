"""A generated blog for the benchmarks: N posts of realistic size, an index, RSS, a sitemap.

Every post is 30 to 80 KB of HTML: a header with navigation, the article (800 to 3,000
words, headings, lists, code blocks in some posts), share widgets, a comment thread and a
sidebar, like a WordPress or Ghost theme. Text is made of common English words so it
tokenises like prose. Generation is deterministic (post `i` is the same in every run) and
written to a directory that `SiteServer` serves (`{{BASE}}` becomes the server's origin).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

AUTHOR = "Ada Quill"
SITE_NAME = "Ada Quill's notes"
NEWEST = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FEED_ITEMS = 20
WORDS = """
the of and to in is that it for was on are as with his they at be this from have or by
one had not but what all were when we there can an your which their said if do will each
about how up out them then she many some so these would other into has more her two like
him see time could no make than first been its who now people my made over did down only
way find use may water long little very after words called just where most know get
through back much before go good new write our used me man too any day same right look
think also around another came come work three word must because does part even place
well such here take why things help put years different away again off went old number
great tell men say small every found still between name should home big give air line set
own under read last never us left end along while might next sound below saw something
thought both few those always looked show large often together asked house world going want
school important until form food keep children feet land side without boy once animals life
enough took sometimes four head above kind began almost live page got earth need far hand
high year mother light parts country father let night following picture being study second
eyes soon times story boys since white days ever paper hard near sentence better best across
during today others however sure means knew try told young miles sun ways thing whole hear
example heard several change answer room sea against top turned learn point city play toward
five using himself usually money seen car morning given body family later order move
system data server request response cache memory query index thread process network design
build test deploy error value function module library version release feature code review
""".split()
CODE_LINES = [
    "def {name}({arg}):",
    '    """{doc}"""',
    "    result = []",
    "    for item in {arg}:",
    "        if item.{attr} is None:",
    "            continue",
    "        result.append(item.{attr} * {n})",
    "    return sorted(result, key=lambda x: -x)",
    "",
    "class {cls}:",
    "    def __init__(self, {arg}):",
    "        self.{attr} = {arg}",
    "\tif self.{attr}:  # a tab, kept as is",
    "\t\treturn {n}",
]


class _Writer:
    """Random prose and markup for one post, from its own seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def words(self, n: int) -> list[str]:
        return self.rng.choices(WORDS, k=n)

    def sentence(self) -> str:
        words = self.words(self.rng.randint(8, 24))
        words[0] = words[0].capitalize()
        return " ".join(words) + self.rng.choice(".....?!")

    def paragraph(self, words: int) -> str:
        out: list[str] = []
        while sum(len(s.split()) for s in out) < words:
            out.append(self.sentence())
        return " ".join(out)

    def title(self) -> str:
        return " ".join(w.capitalize() for w in self.words(self.rng.randint(3, 7)))

    def code(self) -> str:
        lines = self.rng.sample(CODE_LINES, k=self.rng.randint(5, len(CODE_LINES)))
        fields = {
            "name": "_".join(self.words(2)),
            "arg": self.rng.choice(WORDS),
            "attr": self.rng.choice(WORDS),
            "cls": "".join(w.capitalize() for w in self.words(2)),
            "doc": self.sentence(),
            "n": self.rng.randint(2, 99),
        }
        return "\n".join(line.format(**fields) for line in lines)


def post_slug(index: int) -> str:
    return f"post-{index:05d}"


def post_date(index: int) -> datetime:
    """Post 0 is the newest; one post every 7 hours before it."""
    return NEWEST - timedelta(hours=7 * index)


def _links(writer: _Writer, count: int, prefix: str) -> str:
    return "".join(
        f'<li class="menu-item"><a href="{{{{BASE}}}}/{prefix}/{"-".join(writer.words(2))}/">'
        f"{escape(writer.title())}</a></li>"
        for _ in range(count)
    )


STYLE = (
    "<style>"
    + "".join(
        f".c{i}{{margin:{i % 7}px {i % 5}px;padding:{i % 3}em;color:#{i * 2357 % 0xFFFFFF:06x};"
        f"font:{12 + i % 6}px/1.{i % 9} system-ui,sans-serif}}"
        for i in range(60)
    )
    + "</style>"
)


def render_post(index: int, total: int) -> str:
    """The HTML of post `index`: 30 to 80 KB, 800 to 3,000 words of article text."""
    w = _Writer(index)
    title = f"{w.title()} (part {index})"
    published = post_date(index).isoformat()
    target_bytes = w.rng.randint(30_000, 80_000)
    article_words = w.rng.randint(800, 3_000)
    body: list[str] = []
    written = 0
    while written < article_words:
        if body and w.rng.random() < 0.18:
            body.append(f"<h2>{escape(w.title())}</h2>")
        roll = w.rng.random()
        if roll < 0.08:
            items = "".join(f"<li>{w.sentence()}</li>" for _ in range(w.rng.randint(3, 6)))
            body.append(f"<ul>{items}</ul>")
            written += 50
        elif roll < 0.13 and index % 3 == 0:
            body.append(f'<pre><code class="language-python">{escape(w.code())}</code></pre>')
        else:
            n = w.rng.randint(40, 140)
            body.append(f"<p>{w.paragraph(n)}</p>")
            written += n
    head = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | {SITE_NAME}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="description" content="{escape(w.sentence())}">'
        f'<meta name="author" content="{AUTHOR}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{escape(title)}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<link rel="canonical" href="{{{{BASE}}}}/posts/{post_slug(index)}/">'
        f'<link rel="alternate" type="application/rss+xml" href="{{{{BASE}}}}/feed.xml">'
        f"{STYLE}"
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        f'"@type":"BlogPosting","headline":"{escape(title)}","datePublished":"{published}",'
        f'"author":{{"@type":"Person","name":"{AUTHOR}"}}}}</script>'
        "</head>"
    )
    header = (
        '<body class="post-template"><header class="site-header"><a class="logo" '
        f'href="{{{{BASE}}}}/">{SITE_NAME}</a><nav class="main-nav"><ul>'
        f"{_links(w, 30, 'topics')}</ul></nav></header>"
    )
    article = (
        '<div class="layout"><main id="main"><article class="post h-entry">'
        f'<h1 class="p-name">{escape(title)}</h1><p class="byline">By '
        f'<a rel="author" class="p-author" href="{{{{BASE}}}}/about/">{AUTHOR}</a> · '
        f'<time class="dt-published" datetime="{published}">{published[:10]}</time></p>'
        f'<div class="post-content e-content">{"".join(body)}</div>'
        '<div class="share">Share: <a href="#">Twitter</a> <a href="#">LinkedIn</a> '
        '<a href="#">Email</a></div></article>'
    )
    sidebar = (
        '<aside class="sidebar"><section class="widget about"><h3>About</h3>'
        f"<p>{w.paragraph(40)}</p></section><section class='widget recent'>"
        f"<h3>Recent posts</h3><ul>{_links(w, 15, 'posts')}</ul></section>"
        f"<section class='widget tags'><h3>Tags</h3><ul>{_links(w, 40, 'tag')}</ul></section>"
        "</aside></div>"
    )
    footer = (
        '<footer class="site-footer"><p>© 2026 Ada Quill · <a href="/privacy/">Privacy</a>'
        "</p></footer><script>window.dataLayer=window.dataLayer||[];function gtag(){"
        "dataLayer.push(arguments)}gtag('js',new Date());gtag('config','G-XXXX');</script>"
        "</body></html>"
    )
    size = len(head) + len(header) + len(article) + len(sidebar) + len(footer)
    comments: list[str] = []
    while size < target_bytes - 200:
        name = " ".join(x.capitalize() for x in w.words(2))
        comment = (
            f'<li class="comment"><article><footer class="comment-meta"><b class="fn">{name}'
            f'</b> <time datetime="{published}">{published[:10]}</time></footer>'
            f'<div class="comment-content"><p>{w.paragraph(w.rng.randint(15, 80))}</p></div>'
            '<a class="reply" href="#respond">Reply</a></article></li>'
        )
        comments.append(comment)
        size += len(comment)
    thread = (
        f'<section id="comments" class="comments"><h2>{len(comments)} comments</h2>'
        f'<ol class="comment-list">{"".join(comments)}</ol></section></main>'
    )
    return head + header + article + thread + sidebar + footer


def render_index(total: int) -> str:
    recent = "".join(
        f'<li><a href="{{{{BASE}}}}/posts/{post_slug(i)}/">Post {i}</a></li>'
        for i in range(min(total, FEED_ITEMS))
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{SITE_NAME}'
        '</title><meta property="og:type" content="website">'
        '<link rel="alternate" type="application/rss+xml" title="RSS" '
        'href="{{BASE}}/feed.xml"></head>'
        f"<body><h1>{SITE_NAME}</h1><ul>{recent}</ul></body></html>"
    )


def render_feed(total: int) -> str:
    items = "".join(
        f"<item><title>Post {i}</title><link>{{{{BASE}}}}/posts/{post_slug(i)}/</link>"
        f"<guid>{{{{BASE}}}}/posts/{post_slug(i)}/</guid><author>{AUTHOR}</author>"
        f"<pubDate>{post_date(i).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i in range(min(total, FEED_ITEMS))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{SITE_NAME}</title><link>{{{{BASE}}}}/</link>{items}</channel></rss>"
    )


def render_sitemap(total: int) -> str:
    urls = "".join(
        f"<url><loc>{{{{BASE}}}}/posts/{post_slug(i)}/</loc>"
        f"<lastmod>{post_date(i).isoformat()}</lastmod></url>"
        for i in range(total)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )


def generate_site(root: Path, posts: int) -> Path:
    """Write the site to `root` (reused when it already holds this many posts)."""
    marker = root / ".posts"
    if marker.is_file() and marker.read_text() == str(posts):
        return root
    (root / "posts").mkdir(parents=True, exist_ok=True)
    for index in range(posts):
        page = root / "posts" / post_slug(index) / "index.html"
        page.parent.mkdir(exist_ok=True)
        page.write_text(render_post(index, posts), encoding="utf-8")
    (root / "index.html").write_text(render_index(posts), encoding="utf-8")
    (root / "feed.xml").write_text(render_feed(posts), encoding="utf-8")
    (root / "sitemap.xml").write_text(render_sitemap(posts), encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\nSitemap: {{BASE}}/sitemap.xml\n")
    marker.write_text(str(posts))
    return root
