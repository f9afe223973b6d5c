"""Medium extraction: saved story pages field by field (today's markup, 2020's with lazy
images and older Apollo references, 2016's `graf` markup on a custom domain, a member-only
preview), story URLs and sources, profile lists, and hostile input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.settings import Settings

from twin_scraper.extract.medium import (
    EXTRACTOR_NAME,
    MediumSource,
    SourceError,
    extract_story,
    handle_of,
    listed_stories,
    resolve_source,
    story_fields,
    story_id,
    story_url,
)
from twin_scraper.items import Quality
from twin_scraper.platforms import EXTRACTORS, platform_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "extract" / "medium"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "page.html").exists())
FIELDS = [
    "story_id",
    "title",
    "subtitle",
    "author",
    "author_handle",
    "published_at",
    "updated_at",
    "tags",
    "reading_minutes",
    "canonical_url",
    "language",
    "publication",
    "locked",
    "truncated",
]
_FENCED = re.compile(r"^(`{3,})[^\n]*\n.*?\n\1$", re.M | re.S)


def load(case: str) -> tuple[str, str, dict]:
    folder = FIXTURES / case
    return (
        (folder / "page.html").read_text(encoding="utf-8"),
        (folder / "url.txt").read_text(encoding="utf-8").strip(),
        json.loads((folder / "expected.json").read_text(encoding="utf-8")),
    )


@pytest.mark.parametrize("case", CASES)
def test_fixture_page(case: str) -> None:
    html, url, expected = load(case)
    story = extract_story(html, url)
    for name in FIELDS:
        if name in expected:
            value = getattr(story, name)
            value = value.isoformat() if isinstance(value, datetime) else value
            assert value == expected[name], name
    assert story.markdown.startswith(expected["starts_with"])
    for snippet in expected["contains"]:
        assert snippet in story.markdown
    for snippet in expected["absent"]:
        assert snippet not in _FENCED.sub("CODE", story.markdown), snippet
    assert "\n\n\n" not in _FENCED.sub("CODE", story.markdown)


def test_member_only_preview_is_content_flagged_truncated() -> None:
    html, url, _ = load("member_only_preview")
    fields = story_fields(html, url, None)
    assert fields["quality"] == Quality.OK and fields["truncated"] is True
    assert fields["extra"]["member_only"] is True
    assert fields["author_full_name"] == "Ada Quill"  # the byline when none is given
    assert fields["url"] == url and fields["canonical_url"] == story_url(url)
    assert fields["platform"] == fields["extractor"] == EXTRACTOR_NAME == "medium"


def test_free_story_fields_for_a_document() -> None:
    html, url, _ = load("free_story_code")
    fields = story_fields(html, url, "Ada B. Quill", 200, datetime(2026, 1, 1, tzinfo=UTC))
    assert fields["author_full_name"] == "Ada B. Quill" and fields["byline"] == "Ada Quill"
    assert fields["quality"] == Quality.OK and fields["truncated"] is False
    assert fields["extra"]["tags"] == ["Python", "Reliability"]
    assert fields["fetched_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert fields["raw_html"] == html


def test_a_page_that_is_not_a_story_gives_no_content() -> None:
    challenge = (
        "<html><head><title>Just a moment...</title></head><body>"
        '<div id="challenge-platform">Checking your browser</div></body></html>'
    )
    fields = story_fields(challenge, "https://medium.com/@ada/x-1a2b3c4d5e6f", None, 403)
    assert fields["content"] == "" and fields["quality"] == Quality.CHALLENGE


def test_member_only_is_read_from_the_badge_but_not_from_a_mention() -> None:
    paragraph = '<p id="ab12" data-selectable-paragraph="">{}</p>'
    page = "<html><body><article>{}<h1 data-testid='storyTitle'>T</h1>{}</article></body></html>"
    badge = "<div><p>Member-only story</p></div>"
    locked = extract_story(page.format(badge, paragraph.format("Preview.")), "https://x.dev/a")
    assert locked.locked and locked.truncated
    mention = paragraph.format("Why I stopped writing member-only story after story.")
    free = extract_story(page.format("", mention), "https://x.dev/a")
    assert not free.locked and not free.truncated


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html>",
        "\x00\x01 not html at all",
        "<html><body><article><p id='ab12'>x</p></article></body></html>"
        "<script>window.__APOLLO_STATE__ = {broken json</script>",
        '<script>window.__APOLLO_STATE__ = {"Post:1a2b3c4d5e6f": {"creator": "User:1",'
        ' "tags": {"a": 1}, "title": 5, "content(x)": [1], "readingTime": "long",'
        ' "isLocked": "maybe"}}</script><article><p id="ab12">Body</p></article>',
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": "x",'
        ' "keywords": "a,b", "isAccessibleForFree": "False", "datePublished": "soon"}</script>',
        "<div>" * 5000 + "deep" + "</div>" * 5000,
    ],
)
def test_hostile_pages_never_raise(html: str) -> None:
    story = extract_story(html, "https://medium.com/@ada/x-1a2b3c4d5e6f")
    assert isinstance(story.markdown, str)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://medium.com/@ada/on-naming-1a2b3c4d5e6f", "1a2b3c4d5e6f"),
        ("https://medium.com/@ada/on-naming-1a2b3c4d5e6f?source=rss----2", "1a2b3c4d5e6f"),
        ("https://ada.medium.com/on-naming-1a2b3c4d5e6f/", "1a2b3c4d5e6f"),
        ("https://medium.com/p/1a2b3c4d5e6f", "1a2b3c4d5e6f"),
        ("https://blog.quill.dev/shell-scripts-7f3e2a1b9c04", "7f3e2a1b9c04"),
        ("https://medium.com/@ada", None),
        ("https://medium.com/the-pub/about", None),
        ("https://medium.com/tag/deadbeefcafe", None),
        ("https://medium.com/@ada/a-post-about-facade", None),
    ],
)
def test_story_id(url: str, expected: str | None) -> None:
    assert story_id(url) == expected


def test_story_url_drops_tracking_and_handle_of_reads_both_forms() -> None:
    assert (
        story_url("https://medium.com/@ada/x-1a2b3c4d5e6f/?source=rss-1----2#frag")
        == "https://medium.com/@ada/x-1a2b3c4d5e6f"
    )
    assert handle_of("https://medium.com/@Ada.Q?source=x") == "ada.q"
    assert handle_of("https://ada.medium.com/") == "ada"
    assert handle_of("https://www.medium.com/") is None
    assert handle_of("https://blog.quill.dev/") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("adaquill", MediumSource("B/feed/@adaquill", "B/@adaquill", "adaquill")),
        ("@AdaQuill", MediumSource("B/feed/@AdaQuill", "B/@AdaQuill", "adaquill")),
        (
            "https://medium.com/@ada/",
            MediumSource("https://medium.com/feed/@ada", "https://medium.com/@ada", "ada"),
        ),
        (
            "https://ada.medium.com",
            MediumSource("https://ada.medium.com/feed", "https://ada.medium.com/", "ada"),
        ),
        (
            "https://medium.com/the-pub/latest",
            MediumSource("https://medium.com/feed/the-pub", "https://medium.com/the-pub", None),
        ),
        (
            "https://blog.quill.dev/",
            MediumSource("https://blog.quill.dev/feed", "https://blog.quill.dev/", None),
        ),
    ],
)
def test_resolve_source(value: str, expected: MediumSource) -> None:
    base = "http://127.0.0.1:9"
    found = resolve_source(value, base)
    assert found == MediumSource(
        expected.feed_url.replace("B/", base + "/"),
        expected.list_url.replace("B/", base + "/"),
        expected.handle,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ada quill", "not a Medium handle or URL"),
        ("https://medium.com/", "Medium's home page"),
        ("https://medium.com/@ada/x-1a2b3c4d5e6f", "is a story"),
    ],
)
def test_resolve_source_refuses(value: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        resolve_source(value)


def test_listed_stories_read_previews_with_their_dates() -> None:
    page = """<html><body><nav><a href="/@ada/not-listed-9f8e7d6c5b4a">pinned elsewhere</a></nav>
    <article><a href="/@ada/one-1a2b3c4d5e6f?source=user_profile_page---1">
    <h2>One</h2></a><span>Mar 3, 2021</span><a href="/@ada/one-1a2b3c4d5e6f">Read</a></article>
    <article><a href="https://pub.example/two-2b3c4d5e6f7a?source=x"><h2>Two</h2></a>
    <span>Nov 20</span></article>
    <article><a href="/@ada/three-3c4d5e6f7a8b"><h2>On Mar 3, 2020 we shipped</h2></a>
    <a href="/tag/python">Python</a><a href="/@ada">Ada</a></article></body></html>"""
    now = datetime(2026, 11, 23, tzinfo=UTC)
    found = listed_stories(page, "https://medium.com/@ada", now)
    assert [(s.url, s.published) for s in found] == [
        ("https://medium.com/@ada/one-1a2b3c4d5e6f", datetime(2021, 3, 3, tzinfo=UTC)),
        ("https://pub.example/two-2b3c4d5e6f7a", datetime(2026, 11, 20, tzinfo=UTC)),
        ("https://medium.com/@ada/three-3c4d5e6f7a8b", None),  # a title is not a date
    ]
    # "Dec 30" seen in January is last year's.
    late = page.replace("Nov 20", "Dec 30")
    january = datetime(2027, 1, 5, tzinfo=UTC)
    assert listed_stories(late, "https://medium.com/@ada", january)[1].published == datetime(
        2026, 12, 30, tzinfo=UTC
    )


def test_medium_links_route_to_the_medium_platform() -> None:
    settings = Settings({"MEDIUM_BASE_URL": "https://medium.com"})
    for url in (
        "https://medium.com/@ada/x-1a2b3c4d5e6f",
        "https://ada.medium.com/",
        "https://medium.com/the-pub",
    ):
        assert platform_for(url, settings).name == "medium"
    assert platform_for("https://blog.example/post", settings).name == "article"
    mock = Settings({"MEDIUM_BASE_URL": "http://127.0.0.1:8123"})
    assert platform_for("http://127.0.0.1:8123/@ada", mock).name == "medium"
    assert EXTRACTORS["medium"].fields is story_fields
