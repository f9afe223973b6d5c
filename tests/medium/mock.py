"""A mock Medium for tests: pages and feeds shaped like the real service's, served from
127.0.0.1 by `SiteServer` routes.

What it reproduces (from Medium's public pages): story pages rendered on the server with
obfuscated class names, `data-testid` hooks, paragraphs named by short hex ids and
`data-selectable-paragraph`, JSON-LD, `<meta data-rh>` tags and the Apollo cache in
`window.__APOLLO_STATE__`; member-only stories served as a preview followed by the
"Create an account to read the full story" wall; the RSS feed of a user or publication
with the 10 newest stories (`dc:creator`, `pubDate`, `atom:updated`, `content:encoded`);
a profile whose story list starts with a few `<article>` previews, carries the Apollo cache
it was rendered from (`window.__APOLLO_STATE__`: `ROOT_QUERY.userResult({"username":...})`
-> `User:<id>`, whose `homepagePostsConnection:{"paging":{"limit":N},...}` lists
`Post:<id>` refs and `pagingInfo.next.from`), and loads more each time the reader scrolls to
the bottom by POSTing Medium's `UserProfileQuery` to `/_/graphql` (a JSON array of
`{operationName, variables: {homepagePostsFrom, homepagePostsLimit, id, ...}, query}`,
answered by `[{"data": {"userResult": {"homepagePostsConnection": {"posts": [...],
"pagingInfo": {"next": {"from", "limit"}}}}}}]`). The shapes are those public Medium clients
send and read (excerpts found with the search tools, listed in `docs/platforms.md`).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from string import Template

from twin_scraper.demo.server import Route, SiteServer

TEMPLATES = Path(__file__).parent / "templates"
STORY_PAGE = Template((TEMPLATES / "story.html").read_text(encoding="utf-8"))
PROFILE_PAGE = Template((TEMPLATES / "profile.html").read_text(encoding="utf-8"))
PUBLICATION_PAGE = Template((TEMPLATES / "publication.html").read_text(encoding="utf-8"))
GENERIC_BODY = Template((TEMPLATES / "generic_body.html").read_text(encoding="utf-8"))
RSS_SIZE = 10  # Medium's feeds list the newest 10 stories
FIRST_PAGE = 4  # stories a profile shows before the reader scrolls
PAGE_SIZE = 4  # stories each scroll loads


@dataclass(frozen=True)
class Author:
    name: str
    handle: str
    user_id: str


@dataclass(frozen=True)
class Story:
    id: str  # 12 hex digits, as Medium's post ids
    slug: str
    title: str
    subtitle: str
    author: Author
    published: datetime
    body: str  # the story's paragraphs, Medium markup
    tags: tuple[str, ...] = ()
    updated: datetime | None = None
    locked: bool = False  # member-only: visitors get the first paragraphs only
    publication: str | None = None  # slug of a publication on medium.com
    preview_paragraphs: int = 3

    @property
    def path(self) -> str:
        owner = self.publication or f"@{self.author.handle}"
        return f"/{owner}/{self.slug}-{self.id}"

    @property
    def last_change(self) -> datetime:
        return self.updated or self.published


@dataclass
class MockMedium:
    """Stories of one or more authors on one server (medium.com or a custom domain)."""

    server: SiteServer
    stories: list[Story] = field(default_factory=list)
    custom_domain: bool = False  # stories at /<slug>-<id>, feed at /feed, list at /
    rss_size: int = RSS_SIZE

    def url(self, story: Story) -> str:
        return self.server.url(self.path(story))

    def path(self, story: Story) -> str:
        return f"/{story.slug}-{story.id}" if self.custom_domain else story.path

    def publish(self) -> None:
        """(Re)build every route from the stories."""
        routes = self.server.routes
        for story in self.stories:
            routes[self.path(story)] = Route(story_page(self, story).encode())
        authors = {s.author for s in self.stories}
        for author in authors:
            own = self.newest([s for s in self.stories if s.author == author])
            if self.custom_domain:
                continue
            routes[f"/feed/@{author.handle}"] = Route(
                rss(self, own, f"Stories by {author.name} on Medium", f"/@{author.handle}"),
                content_type="text/xml; charset=UTF-8",
            )
            routes[f"/@{author.handle}"] = Route(profile_page(self, author, own).encode())
        self.server.post_routes["/_/graphql"] = lambda body: graphql(self, body)
        if self.custom_domain:
            every = self.newest(self.stories)
            routes["/feed"] = Route(
                rss(self, every, "The Quill Review", "/"), content_type="text/xml; charset=UTF-8"
            )
            routes["/"] = Route(publication_page(self, every).encode())

    def newest(self, stories: list[Story]) -> list[Story]:
        return sorted(stories, key=lambda s: s.published, reverse=True)

    def edit(self, story: Story, body: str, when: datetime) -> Story:
        edited = replace(story, body=body, updated=when)
        self.stories[self.stories.index(story)] = edited
        self.publish()
        return edited


# --- story pages -------------------------------------------------------------------------


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _shown_date(when: datetime) -> str:
    return f"{when:%b} {when.day}, {when.year}"


def _reading_time(story: Story) -> float:
    words = len(html.unescape(re.sub(r"<[^>]+>", " ", story.body)).split())
    return max(words / 265, 0.5)


def apollo_state(mock: MockMedium, story: Story) -> dict:
    """The slice of Medium's Apollo cache a story page carries, with a second post (the
    "More from Medium" recommendation) by someone else, as on real pages."""
    author = story.author
    state: dict = {
        "ROOT_QUERY": {
            "__typename": "Query",
            "viewer": None,
            f'postResult({{"id":"{story.id}"}})': {"__ref": f"Post:{story.id}"},
        },
        f"User:{author.user_id}": {
            "__typename": "User",
            "id": author.user_id,
            "name": author.name,
            "username": author.handle,
            "bio": "Writes about software that lasts.",
            "socialStats": {"__typename": "SocialStats", "followerCount": 1204},
        },
        f"Post:{story.id}": {
            "__typename": "Post",
            "id": story.id,
            "title": story.title,
            "mediumUrl": mock.url(story),
            "uniqueSlug": f"{story.slug}-{story.id}",
            "firstPublishedAt": _millis(story.published),
            "latestPublishedAt": _millis(story.last_change),
            "updatedAt": _millis(story.last_change) + 61_000,
            "isLocked": story.locked,
            "visibility": "LOCKED" if story.locked else "PUBLIC",
            "readingTime": _reading_time(story),
            "detectedLanguage": "en",
            "clapCount": 342,
            "creator": {"__ref": f"User:{author.user_id}"},
            "collection": {"__ref": "Collection:9a1f0c2e7d41"} if story.publication else None,
            "tags": [{"__ref": f"Tag:{t.lower().replace(' ', '-')}"} for t in story.tags],
            'content({"postMeteringOptions":{}})': {
                "__typename": "PostContent",
                "isLockedPreviewOnly": story.locked,
                "validatedShareKey": "",
            },
        },
        "Post:5e8c1d2b9a07": {
            "__typename": "Post",
            "id": "5e8c1d2b9a07",
            "title": "Ten things I learned from shipping nothing",
            "firstPublishedAt": 1589876543210,
            "isLocked": True,
            "creator": {"__ref": "User:77b0aa1d3c5e"},
        },
        "User:77b0aa1d3c5e": {
            "__typename": "User",
            "id": "77b0aa1d3c5e",
            "name": "Rex Ample",
            "username": "rexample",
        },
    }
    for tag in story.tags:
        slug = tag.lower().replace(" ", "-")
        state[f"Tag:{slug}"] = {"__typename": "Tag", "id": slug, "displayTitle": tag}
    if story.publication:
        state["Collection:9a1f0c2e7d41"] = {
            "__typename": "Collection",
            "id": "9a1f0c2e7d41",
            "name": "The Quill Review",
            "slug": story.publication,
        }
    return state


def story_page(mock: MockMedium, story: Story) -> str:
    url = mock.url(story)
    author = story.author
    profile = mock.server.url(f"/@{author.handle}")
    source = f"?source=post_page-----{story.id}--------------------------------"
    body = story.body
    if story.locked:
        body = "".join(_paragraphs(story.body)[: story.preview_paragraphs])
    keywords = ["Lite:true", *(f"Tag:{t}" for t in story.tags), "Elevated:false"]
    keywords.append(
        "LockedPostSource:LOCKED_POST_SOURCE_UGC"
        if story.locked
        else "LockedPostSource:LOCKED_POST_SOURCE_NONE"
    )
    ld = {
        "@context": "http://schema.org",
        "@type": "NewsArticle",
        "image": ["https://miro.medium.com/v2/resize:fit:1200/1*Qd3sZf0X9bJk2V1pG6hK1w.png"],
        "url": url,
        "dateCreated": _iso(story.published),
        "datePublished": _iso(story.published),
        "dateModified": _iso(story.last_change),
        "headline": f"{story.title} - Medium",
        "name": f"{story.title} - Medium",
        "description": story.subtitle,
        "identifier": story.id,
        "keywords": keywords,
        "author": {"@type": "Person", "name": author.name, "url": profile},
        "creator": [author.name],
        "publisher": {
            "@type": "Organization",
            "name": "The Quill Review" if story.publication else "Medium",
            "url": mock.server.url("/"),
        },
        "mainEntityOfPage": url,
        "isAccessibleForFree": not story.locked,
    }
    member_badge = (
        '<div class="ab q"><div class="ab q ke"><svg width="16" height="16" class="kf">'
        '<path d="M8 0l1.8 5.5H16l-5 3.6 1.9 5.9L8 11.3 3.1 15l1.9-5.9-5-3.6h6.2z"></path>'
        '</svg><p class="bf b ka z dy">Member-only story</p></div></div>'
        if story.locked
        else ""
    )
    wall = (
        '<div class="ab ca"><div class="ch bg fy fz ga gb"><div class="ml mm">'
        '<h2 class="bf mn mo">Create an account to read the full story.</h2>'
        '<p class="bf b mp">The author made this story available to Medium members only.</p>'
        '<p class="bf b mp">If you\u2019re new to Medium, create a new account to read this '
        "story on us.</p>"
        '<a class="bf b bg" href="/m/signin?operation=register">Continue in app</a>'
        '<p class="bf b mp">Or, continue in mobile web</p>'
        '<a class="bf b bg" href="/m/signin?operation=register">Sign up with Google</a>'
        '<p class="bf b mp">Already have an account? <a href="/m/signin">Sign in</a></p>'
        "</div></div></div>"
        if story.locked
        else ""
    )
    tags = "".join(
        f'<div class="ml mm ab"><a href="/tag/{t.lower().replace(" ", "-")}{source}" '
        f'class="mn ay"><div class="bf b do z dy mo mp">{html.escape(t)}</div></a></div>'
        for t in story.tags
    )
    published = _shown_date(story.published)
    minutes = max(1, -(-int(_reading_time(story) * 100) // 100))
    pub_line = (
        f'<span class="bf b bg z dy">Published in <a href="/{story.publication}{source}">'
        '<p class="bf b bg z iy">The Quill Review</p></a></span>'
        if story.publication
        else ""
    )
    apollo = json.dumps(apollo_state(mock, story)).replace("/", "\\u002F")
    return STORY_PAGE.substitute(
        apollo=apollo,
        author_name=html.escape(author.name),
        body=body,
        handle=author.handle,
        jsonld=json.dumps(ld),
        member_badge=member_badge,
        minutes=minutes,
        profile=profile,
        pub_line=pub_line,
        published=published,
        published_iso=_iso(story.published),
        source=source,
        story_id=story.id,
        subtitle=html.escape(story.subtitle),
        subtitle_id=story.id[4:8],
        tags=tags,
        title=html.escape(story.title),
        title_id=story.id[:4],
        url=url,
        user_id=author.user_id,
        wall=wall,
    )


def _paragraphs(body: str) -> list[str]:
    """Top-level blocks of a story body (one per line in the stories below)."""
    return [line for line in body.split("\n") if line.strip()]


# --- feeds and lists ---------------------------------------------------------------------


def rss(mock: MockMedium, stories: list[Story], title: str, home: str) -> bytes:
    """Medium's RSS 2.0 feed: the newest 10 stories; member-only ones as a preview."""
    base = mock.server.url("")
    items = []
    for story in stories[: mock.rss_size]:
        body = story.body
        if story.locked:
            more = f'<a href="{mock.url(story)}?source=rss">Continue reading on Medium \u00bb</a>'
            body = f"{_paragraphs(story.body)[0]}<p>{more}</p>"
        categories = "".join(f"<category><![CDATA[{t.lower()}]]></category>" for t in story.tags)
        items.append(
            f"<item><title><![CDATA[{story.title}]]></title>"
            f"<link>{mock.url(story)}?source=rss-{story.author.user_id}------2</link>"
            f'<guid isPermaLink="false">{base}/p/{story.id}</guid>{categories}'
            f"<dc:creator><![CDATA[{story.author.name}]]></dc:creator>"
            f"<pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>"
            f"<atom:updated>{_iso(story.last_change)}</atom:updated>"
            f"<content:encoded><![CDATA[<h3>{html.escape(story.title)}</h3>{body}"
            f'<img src="{base}/_/stat?event=post.clientViewed&amp;referrerSource=full_rss'
            f'&amp;postId={story.id}" width="1" height="1" alt="">]]></content:encoded></item>'
        )
    built = format_datetime(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), usegmt=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"'
        ' xmlns:cc="http://cyber.law.harvard.edu/rss/creativeCommonsRssModule.html">'
        f"<channel><title><![CDATA[{title}]]></title>"
        f"<description><![CDATA[{title}]]></description>"
        f"<link>{base}{home}?source=rss------2</link>"
        f"<image><url>https://cdn-images-1.medium.com/fit/c/150/150/1*dmbNkD5D.png</url>"
        f"<title>{html.escape(title)}</title><link>{base}{home}</link></image>"
        f"<generator>Medium</generator><lastBuildDate>{built}</lastBuildDate>"
        f'<atom:link href="{base}/feed{home}" rel="self" type="application/rss+xml"/>'
        "<webMaster><![CDATA[yourfriends@medium.com]]></webMaster>"
        '<atom:link href="http://medium.superfeedr.com" rel="hub"/>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _preview(mock: MockMedium, story: Story, position: int) -> str:
    """One story in a profile or publication list, as Medium renders it (JavaScript
    builds the same markup for the stories it loads on scroll)."""
    tracking = f"user_profile_page---------{position}-------------{story.author.user_id}"
    link = f"{mock.url(story)}?source={tracking}---------------"
    member = (
        '<div class="ab q"><p class="bf b dz z dy">Member-only story</p></div>'
        if story.locked
        else ""
    )
    return (
        f'<article class="ka kb kc kd ke kf" data-testid="post-preview"><div class="l">'
        f'<div class="l"><div class="ab q"><div class="ab q"><a href="/@{story.author.handle}">'
        f'<p class="bf b dz z dy">{html.escape(story.author.name)}</p></a></div></div>'
        f'{member}<div role="link" tabindex="0" data-href="{link}" class="kg kh ki">'
        f'<a href="{link}"><h2 class="bf gq kj ks kt ku kv bk">{html.escape(story.title)}</h2>'
        f'<div class="kw l"><h3 class="bf b hn z kx ky bk">{html.escape(story.subtitle)}</h3>'
        "</div></a></div>"
        f'<div class="ab q kz la"><span class="bf b dz z dy"><div class="lb l">'
        f"<span>{_shown_date(story.published)}</span></div></span>"
        f'<div class="ab q"><p class="bf b dz z dy">342</p></div></div></div></div></article>'
    )


PROFILE_SCRIPT = """<script>
(function () {
  var next = %(next)s, loading = false;
  var QUERY = "query UserProfileQuery($id: ID, $username: ID, $homepagePostsLimit: " +
    "PaginationLimit, $homepagePostsFrom: String = null) { userResult(id: $id, username: " +
    "$username) { __typename ... on User { id homepagePostsConnection(paging: {limit: " +
    "$homepagePostsLimit, from: $homepagePostsFrom}) { posts { id title mediumUrl " +
    "firstPublishedAt latestPublishedAt isLocked creator { id name username } } " +
    "pagingInfo { next { from limit } } } } } }";
  function shown(ms) {
    var d = new Date(ms), m = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct",
      "Nov","Dec"][d.getUTCMonth()];
    return m + " " + d.getUTCDate() + ", " + d.getUTCFullYear();
  }
  function card(post) {
    var a = document.createElement("article");
    a.className = "ka kb kc kd ke kf";
    a.setAttribute("data-testid", "post-preview");
    var link = document.createElement("a");
    link.href = post.mediumUrl + "?source=user_profile_page";
    var h2 = document.createElement("h2");
    h2.textContent = post.title;
    link.appendChild(h2);
    var date = document.createElement("span");
    date.textContent = shown(post.firstPublishedAt);
    a.appendChild(link);
    a.appendChild(date);
    return a;
  }
  function more() {
    if (next === null || loading) return;
    loading = true;
    fetch("/_/graphql", {
      method: "POST",
      headers: {"content-type": "application/json", "graphql-operation": "UserProfileQuery",
                "apollographql-client-name": "lite"},
      body: JSON.stringify([{operationName: "UserProfileQuery", query: QUERY,
        variables: {homepagePostsFrom: next, homepagePostsLimit: %(limit)d,
                    includeDistributedResponses: true, id: "%(user_id)s", username: ""}}])
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var conn = body[0].data.userResult.homepagePostsConnection;
        var list = document.querySelector("[data-testid=profile-stories]");
        conn.posts.forEach(function (post) { list.appendChild(card(post)); });
        next = conn.pagingInfo.next ? conn.pagingInfo.next.from : null;
        loading = false;
      });
  }
  window.addEventListener("scroll", function () {
    if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 200) more();
  });
})();
</script>"""


def _post_entry(mock: MockMedium, story: Story) -> dict:
    """A post as Medium's profile data carries it (the Apollo cache and GraphQL alike)."""
    return {
        "__typename": "Post",
        "id": story.id,
        "title": story.title,
        "mediumUrl": mock.url(story),
        "firstPublishedAt": _millis(story.published),
        "latestPublishedAt": _millis(story.last_change),
        "isLocked": story.locked,
        "creator": {"__ref": f"User:{story.author.user_id}"},
    }


def _cursor(stories: list[Story], start: int) -> dict | None:
    """`pagingInfo.next`: Medium's cursor is an opaque string; here the next index."""
    return (
        {"__typename": "PageParams", "from": str(start), "limit": PAGE_SIZE}
        if start < len(stories)
        else None
    )


def profile_apollo(mock: MockMedium, author: Author, stories: list[Story]) -> dict:
    """The Apollo cache a rendered profile page carries: its first page of posts."""
    connection = (
        f'homepagePostsConnection:{{"paging":{{"limit":{FIRST_PAGE}}},'
        '"includeDistributedResponses":true}'
    )
    state: dict = {
        "ROOT_QUERY": {
            "__typename": "Query",
            f'userResult({{"username":"{author.handle}"}})': {"__ref": f"User:{author.user_id}"},
        },
        f"User:{author.user_id}": {
            "__typename": "User",
            "id": author.user_id,
            "name": author.name,
            "username": author.handle,
            connection: {
                "__typename": "HomepagePostsConnection",
                "posts": [{"__ref": f"Post:{s.id}"} for s in stories[:FIRST_PAGE]],
                "pagingInfo": {"__typename": "Paging", "next": _cursor(stories, FIRST_PAGE)},
            },
        },
    }
    for story in stories[:FIRST_PAGE]:
        state[f"Post:{story.id}"] = _post_entry(mock, story)
    return state


def profile_page(mock: MockMedium, author: Author, stories: list[Story]) -> str:
    first = "".join(_preview(mock, s, i) for i, s in enumerate(stories[:FIRST_PAGE], 1))
    following = len(stories) > FIRST_PAGE
    script = PROFILE_SCRIPT % {
        "next": f'"{FIRST_PAGE}"' if following else "null",
        "limit": PAGE_SIZE,
        "user_id": author.user_id,
    }
    apollo = json.dumps(profile_apollo(mock, author, stories)).replace("/", "\\u002F")
    script = f"<script>window.__APOLLO_STATE__ = {apollo}</script>\n{script}"
    return PROFILE_PAGE.substitute(
        author_name=html.escape(author.name),
        feed_url=mock.server.url("/feed/@" + author.handle),
        first=first,
        handle=author.handle,
        profile_url=mock.server.url("/@" + author.handle),
        script=script,
    )


def graphql(mock: MockMedium, body: bytes) -> Route:
    """`POST /_/graphql`: a `UserProfileQuery` page of a user's stories, newest first."""
    try:
        (operation,) = json.loads(body)
        variables = operation["variables"]
        assert operation["operationName"] == "UserProfileQuery"
        start = int(variables["homepagePostsFrom"])
        limit = int(variables["homepagePostsLimit"])
    except (ValueError, KeyError, TypeError, AssertionError):
        error = [{"errors": [{"message": "Bad request"}], "data": None}]
        return Route(json.dumps(error).encode(), "application/json", 400)
    owner = next(a for a in {s.author for s in mock.stories} if a.user_id == variables["id"])
    own = mock.newest([s for s in mock.stories if s.author == owner])
    page = own[start : start + limit]
    posts = []
    for story in page:
        post = _post_entry(mock, story)
        post["creator"] = {"__typename": "User", "id": owner.user_id, "name": owner.name,
                           "username": owner.handle}  # fmt: skip
        posts.append(post)
    connection = {
        "__typename": "HomepagePostsConnection",
        "posts": posts,
        "pagingInfo": {"__typename": "Paging", "next": _cursor(own, start + limit)},
    }
    answer = [{"data": {"userResult": {"__typename": "User", "id": owner.user_id,
                                        "homepagePostsConnection": connection}}}]  # fmt: skip
    return Route(json.dumps(answer).encode(), "application/json")


def publication_page(mock: MockMedium, stories: list[Story]) -> str:
    """A publication's home on its custom domain: every story listed, no scrolling."""
    previews = "".join(_preview(mock, s, i) for i, s in enumerate(stories, 1))
    return PUBLICATION_PAGE.substitute(
        feed_url=mock.server.url("/feed"),
        previews=previews,
    )


# --- the stories -------------------------------------------------------------------------

ADA = Author("Ada Quill", "adaquill", "c0ffee12ab34")
BOB = Author("Bob Marginalia", "bobm", "b0b0b0b0b0b0")


def _text(i: int, topic: str) -> str:
    return (
        f"This is story number {i} about {topic}. It begins with a plain observation that "
        f"anyone who has maintained {topic} for a few years will recognise, and it goes on "
        f"to show, with examples from real projects, why the boring choice keeps winning. "
        f"The argument is simple: {topic} that can be explained in one page can be fixed "
        f"by the next person, at three in the morning, without a meeting."
    )


TOPICS = [
    "build systems", "log formats", "feature flags", "database migrations", "retry loops",
    "cron jobs", "config files", "error messages", "release notes", "code review",
    "on-call rotations", "test fixtures", "deprecation warnings", "backups",
]  # fmt: skip


def generic_body(i: int, topic: str) -> str:
    p = _text(i, topic)
    return GENERIC_BODY.substitute(hex=f"{i:02x}", text=p, topic=topic, number=i).strip()


CODE_BODY = (TEMPLATES / "code_body.html").read_text(encoding="utf-8").strip()

EXACT_CODE = (
    "def retry(call, attempts=3):\n"
    "    for n in range(attempts):\n"
    "        try:\n"
    "            return call()\n"
    "\n"
    "        except OSError:\n"
    "\ttime.sleep(2 ** n)  # back off\n"
    '    raise RuntimeError("gave up")'
)

BASE_DAY = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)


def ada_stories() -> list[Story]:
    """14 stories by Ada, a week apart, newest first: the RSS window holds the first 10.
    The newest is the code story; the third is member-only; the twelfth (outside the RSS
    window) was published in a publication."""
    stories = []
    for i in range(14):
        topic = TOPICS[i]
        published = BASE_DAY - timedelta(days=7 * i)
        stories.append(
            Story(
                id=f"{i + 1:02d}a9c3e5f7b1",
                slug="retries-that-give-up" if i == 0 else f"on-{topic.replace(' ', '-')}",
                title="Retries that give up" if i == 0 else f"On {topic}",
                subtitle=f"A short note on {topic}",
                author=ADA,
                published=published,
                updated=published + timedelta(hours=5) if i % 3 == 0 else None,
                body=CODE_BODY if i == 0 else generic_body(i + 1, topic),
                tags=("Python", "Reliability") if i == 0 else ("Software", topic.title()),
                locked=i == 2,
                publication="the-quill-review" if i == 11 else None,
            )
        )
    return stories
