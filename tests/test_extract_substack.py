"""Substack extraction: saved post JSON, archive pages and post pages, field by field, and
the helpers that place publications and posts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from twin_scraper.extract.substack import (
    ARCHIVE_MAX_LIMIT,
    EXTRACTOR_NAME,
    SubstackError,
    archive_url,
    attribution,
    body_markdown,
    owner_of,
    parse_archive,
    parse_post,
    post_location,
    preloaded_post,
    publication_base,
    substack_fields,
)
from twin_scraper.items import Document

FIXTURES = Path(__file__).parent / "fixtures" / "extract" / "substack"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").exists())
TEMPLATE = "https://{name}.substack.com"


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    folder = FIXTURES / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    raw = next(folder.glob("post.json"), folder / "page.html").read_text(encoding="utf-8")
    url = (folder / "url.txt").read_text(encoding="utf-8").strip()
    fields = substack_fields(raw, url, None)
    for name in (
        "canonical_url",
        "url",
        "author_full_name",
        "byline",
        "title",
        "subtitle",
        "published_at",
        "updated_at",
        "language",
        "truncated",
        "quality",
        "content",
    ):
        if name in expected:
            assert _value(fields[name]) == expected[name], name
    for name, value in expected.get("extra", {}).items():
        assert fields["extra"][name] == value, f"extra.{name}"
    if "authors" in expected:
        assert [a["name"] for a in fields["extra"]["authors"]] == expected["authors"]
    for snippet in expected.get("contains", []):
        assert snippet in fields["content"]
    for snippet in expected.get("absent", []):
        assert snippet not in fields["content"]
    assert fields["platform"] == "substack" and fields["extractor"] == EXTRACTOR_NAME
    assert fields["raw_html"] == raw  # what re-extraction starts from
    document = Document.model_validate(fields)  # every fixture is a valid document
    assert document.id and document.word_count > 0


def test_archive_page_lists_posts_with_bylines_and_dates() -> None:
    items = parse_archive((FIXTURES / "archive.json").read_text(encoding="utf-8"))
    assert [i.slug for i in items] == [
        "from-the-page",
        "bread-science-together",
        "guest-fermentation",
        "pricing-a-loaf",
        "sourdough-timing",
        "week-2",
        "week-1",
    ]
    by_slug = {i.slug: i for i in items}
    assert by_slug["week-1"].url == "https://adabakes.substack.com/p/week-1"
    assert by_slug["week-1"].listed_at.isoformat() == "2025-01-02T08:00:00+00:00"
    assert by_slug["pricing-a-loaf"].audience == "only_paid"
    assert by_slug["pricing-a-loaf"].signature == {
        "title": "What a loaf should cost",
        "subtitle": "For paid subscribers",
        "audience": "only_paid",
        "wordcount": 1859,
    }
    verdicts = {i.slug: attribution(i.bylines, "Ada Quill") for i in items}
    assert verdicts["guest-fermentation"] == "guest"
    assert verdicts["bread-science-together"] == "coauthored"
    assert {v for s, v in verdicts.items() if s not in ("guest-fermentation",
        "bread-science-together")} == {"own"}  # fmt: skip
    guest = by_slug["guest-fermentation"].bylines[0]
    assert (guest.name, guest.role, guest.is_guest) == ("Ben Okafor", "contributor", True)
    assert owner_of(by_slug["bread-science-together"].bylines) == "Ada Quill"
    assert owner_of(by_slug["guest-fermentation"].bylines) is None


def test_attribution_matches_names_loosely_and_needs_a_byline() -> None:
    items = parse_archive((FIXTURES / "archive.json").read_text(encoding="utf-8"))
    own = items[0].bylines
    assert attribution(own, "ada  QUILL") == "own"
    assert attribution(own, "Ben Okafor") == "guest"
    assert attribution((), "Ada Quill") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html>Not Found</html>", "archive page is not JSON"),
        ('{"errors": []}', "archive page is a JSON dict, not a list of posts"),
        ('[{"title": "no slug"}]', "entry without a slug"),
    ],
)
def test_bad_archive_pages_are_named(text: str, message: str) -> None:
    with pytest.raises(SubstackError, match=message):
        parse_archive(text)


def test_an_empty_archive_page_ends_paging() -> None:
    assert parse_archive("[]") == []


@pytest.mark.parametrize("text", ["{", "[]", '{"slug": "x"}', '"post"'])
def test_what_is_not_a_post_is_refused(text: str) -> None:
    with pytest.raises(SubstackError):
        parse_post(text)


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("adabakes", "https://adabakes.substack.com"),
        ("AdaBakes", "https://adabakes.substack.com"),
        ("https://adabakes.substack.com/archive?sort=new", "https://adabakes.substack.com"),
        ("https://Notes.Ada.Example/p/week-2", "https://notes.ada.example"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
    ],
)
def test_publication_base(value: str, base: str) -> None:
    assert publication_base(value, TEMPLATE) == base


@pytest.mark.parametrize("value", ["ada bakes", "", "-ada", "ada.substack.com/"])
def test_bad_publication_names_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a Substack publication name or URL"):
        publication_base(value, TEMPLATE)


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("https://adabakes.substack.com/p/week-2", ("https://adabakes.substack.com", "week-2")),
        (
            "https://notes.ada.example/p/week-2/?utm_source=x",
            ("https://notes.ada.example", "week-2"),
        ),
        (
            "https://open.substack.com/pub/adabakes/p/week-2",
            ("https://adabakes.substack.com", "week-2"),
        ),
        ("https://adabakes.substack.com/", None),
        ("https://adabakes.substack.com/p/week-2/comments", None),
        ("https://substack.com/@adaquill", None),
    ],
)
def test_post_location(url: str, location: tuple[str, str] | None) -> None:
    assert post_location(url) == location


def test_archive_pages_never_ask_for_more_than_50() -> None:
    url = archive_url("https://adabakes.substack.com", 100, ARCHIVE_MAX_LIMIT)
    assert url == "https://adabakes.substack.com/api/v1/archive?sort=new&offset=100&limit=50"
    with pytest.raises(ValueError, match="1 to 50"):
        archive_url("https://adabakes.substack.com", 0, 51)


def test_body_markup_keeps_text_and_drops_widgets() -> None:
    html = (
        '<p>Before<a class="footnote-anchor" href="#footnote-1">1</a> after.</p>'
        '<p class="button-wrapper"><a class="button primary" href="/subscribe"><span>'
        "Subscribe now</span></a></p>"
        '<div class="captioned-image-container"><figure><a class="image-link" href="/big.png">'
        '<picture><source srcset="/s.webp"><img src="/small.png" alt="Oven"></picture>'
        '<div class="image-link-expand"><button>View</button></div></a></figure></div>'
        "<pre><code>  two spaces\n\ttab\n</code></pre>"
    )
    markdown = body_markdown(html, "https://adabakes.substack.com/p/x")
    assert markdown == (
        "Before[^1] after.\n\n![Oven](https://adabakes.substack.com/small.png)\n\n"
        "```\n  two spaces\n\ttab\n```"
    )


def test_preloads_with_escaped_markup_are_read() -> None:
    inner = json.dumps({"post": {"slug": "x", "body_html": "<p>Hi</p>"}}).replace("<", "\\u003c")
    html = f"<script>window._preloads = JSON.parse({json.dumps(inner)})</script>"
    assert preloaded_post(html) == {"slug": "x", "body_html": "<p>Hi</p>"}
    assert preloaded_post('<script>window._preloads = JSON.parse("{oops")</script>') is None
    assert preloaded_post("<html></html>") is None


def test_a_page_that_is_no_post_gets_a_verdict() -> None:
    html = "<html><head><title>Just a moment...</title></head><body>Checking</body></html>"
    fields = substack_fields(html, "https://adabakes.substack.com/p/x", "Ada Quill", 403)
    assert fields["quality"] == "challenge"
