"""The medium spider end to end: a mock Medium on 127.0.0.1 (RSS feed of 10, story pages,
a member-only story, a profile whose JavaScript loads more stories on scroll, rendered by
real Chromium), Scrapy's engine, MongoDB (nx-27017) and Qdrant (local mode)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.medium.mock import (
    ADA,
    BOB,
    EXACT_CODE,
    RSS_SIZE,
    MockMedium,
    Story,
    ada_stories,
    generic_body,
)
from tests.test_crawl import qdrant_points
from twin_scraper.config import StoreConfig
from twin_scraper.demo.server import SiteServer
from twin_scraper.params import ArgumentError
from twin_scraper.spiders.medium import MediumSpider
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.urls import canonicalize_url


@pytest.fixture
def medium(tmp_path: Path) -> Iterator[MockMedium]:
    with SiteServer(tmp_path) as server:
        mock = MockMedium(server, ada_stories())
        mock.publish()
        yield mock


def medium_settings(settings: dict[str, Any], mock: MockMedium) -> dict[str, Any]:
    return {
        **settings,
        "MEDIUM_BASE_URL": mock.server.base,
        "MEDIUM_LIST_PAUSE_MS": 250,
        "MEDIUM_LIST_MAX_SECONDS": 30,
    }


def stored(mongo: MongoStore) -> dict[str, dict[str, Any]]:
    return {d["canonical_url"]: d for d in mongo.iter_documents()}


def story_hits(mock: MockMedium) -> dict[str, int]:
    return {mock.path(s): mock.server.hits.get(mock.path(s), 0) for s in mock.stories}


@deferred_f_from_coro_f
async def test_every_story_is_stored_then_a_second_run_is_a_no_op_and_an_edit_is_updated(
    medium: MockMedium, settings: dict[str, Any], mongo: MongoStore, store_config: StoreConfig
) -> None:
    crawl_settings = medium_settings(settings, medium)
    result = await run_spider(MediumSpider, crawl_settings, user="adaquill")
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    # All 14, not only the feed's 10: the older ones came from scrolling the profile.
    assert len(medium.stories) > RSS_SIZE
    assert set(docs) == {canonicalize_url(medium.url(s)) for s in medium.stories}
    assert result.dropped == []
    # The profile's script loaded three more pages in Chromium (Medium's UserProfileQuery).
    assert medium.server.hits["/_/graphql"] == 3
    assert result.stats["playwright/page_count"] == result.stats["playwright/page_count/closed"]
    for story in medium.stories:
        doc = docs[canonicalize_url(medium.url(story))]
        assert doc["platform"] == "medium" and doc["extractor"] == "medium"
        assert doc["title"] == story.title and doc["subtitle"] == story.subtitle
        assert doc["author_full_name"] == "Ada Quill" and doc["byline"] == "Ada Quill"
        assert doc["published_at"] == story.published
        assert doc["updated_at"] == story.last_change
        assert doc["extra"]["tags"] == list(story.tags)
        assert doc["extra"]["author_handle"] == "adaquill"
        assert doc["extra"]["reading_minutes"] >= 1
        assert doc["extra"]["member_only"] is story.locked
        assert doc["truncated"] is story.locked
        assert doc["url"] == medium.url(story)  # no ?source= tracking
        assert doc["embed"]["status"] == "done"
        assert "Member-only story" not in doc["content"]
        assert "Create an account" not in doc["content"]
        assert "More from Medium" not in doc["content"]
        assert story.title not in doc["content"]
    code = docs[canonicalize_url(medium.url(medium.stories[0]))]
    assert f"```python\n{EXACT_CODE}\n```" in code["content"]
    assert "- It only retries **OSError**, never a bug." in code["content"]
    assert "> A retry loop without a limit is an outage with extra steps." in code["content"]
    assert "[time module](https://docs.python.org/3/library/time.html)" in code["content"]
    assert "![Attempts against time, doubling](https://miro.medium.com/" in code["content"]
    locked = docs[canonicalize_url(medium.url(medium.stories[2]))]
    assert "This is story number 3" in locked["content"]
    assert "Closing thought 3" not in locked["content"]  # beyond the preview
    in_publication = docs[canonicalize_url(medium.url(medium.stories[11]))]
    assert in_publication["extra"]["publication"] == "The Quill Review"
    # Listing dates are kept, exact for every story: the feed's `updated` for the newest 10,
    # Medium's own `latestPublishedAt` (the profile's Apollo cache and the GraphQL pages
    # its script loaded) for the older ones, not the day the list prints.
    for story in medium.stories:
        doc = docs[canonicalize_url(medium.url(story))]
        assert doc["listed_updated_at"] == story.last_change, story.title
    points = qdrant_points(store_config)
    assert {p.payload["doc_id"] for p in points} == {d["_id"] for d in docs.values()}

    # Second run: nothing changed, so no story is fetched, written or embedded.
    before = story_hits(medium)
    stored_at = {url: d["stored_at"] for url, d in docs.items()}
    again = await run_spider(MediumSpider, crawl_settings, user="adaquill")
    assert story_hits(medium) == before
    assert again.items == [] and again.dropped == []
    assert again.stats["twin/pages/unchanged_listed"] == len(medium.stories)
    assert "twin/mongo/written" not in again.stats
    assert "twin/embed/documents" not in again.stats
    assert {u: d["stored_at"] for u, d in stored(mongo).items()} == stored_at

    # An edit: the feed's `updated` moves, only that story is fetched, and it is rewritten
    # and re-embedded.
    target = medium.stories[1]
    edited = medium.edit(
        target,
        generic_body(2, "log formats").replace("Closing thought 2", "Revised closing thought 2"),
        target.published + timedelta(days=30),
    )
    before = story_hits(medium)
    third = await run_spider(MediumSpider, crawl_settings, user="adaquill")
    after = story_hits(medium)
    assert [p for p in after if after[p] != before[p]] == [medium.path(edited)]
    assert [item.url for item in third.items] == [medium.url(edited)]
    assert third.stats["twin/items/updated"] == 1
    doc = stored(mongo)[canonicalize_url(medium.url(edited))]
    assert "Revised closing thought 2" in doc["content"]
    assert doc["updated_at"] == edited.last_change == doc["listed_updated_at"]
    chunks = [
        p.payload["text"] for p in qdrant_points(store_config) if p.payload["doc_id"] == doc["_id"]
    ]
    assert any("Revised closing thought 2" in text for text in chunks)

    # An edit to a story older than the feed's 10: only Medium's profile data shows its new
    # date, and it is enough for the story to be fetched and updated.
    old = medium.stories[12]
    assert old not in medium.stories[:RSS_SIZE]
    revised = medium.edit(
        old,
        generic_body(13, "deprecation warnings").replace("Closing thought", "Revised thought"),
        old.published + timedelta(days=400),
    )
    before = story_hits(medium)
    fourth = await run_spider(MediumSpider, crawl_settings, user="adaquill")
    after = story_hits(medium)
    assert [p for p in after if after[p] != before[p]] == [medium.path(revised)]
    assert fourth.stats["twin/items/updated"] == 1
    doc = stored(mongo)[canonicalize_url(medium.url(revised))]
    assert "Revised thought" in doc["content"] and doc["listed_updated_at"] == revised.last_change


@deferred_f_from_coro_f
async def test_a_single_member_only_story_is_stored_truncated_with_its_preview(
    medium: MockMedium, settings: dict[str, Any], mongo: MongoStore
) -> None:
    story = medium.stories[2]
    result = await run_spider(
        MediumSpider,
        {**medium_settings(settings, medium), "EMBED_ENABLED": False},
        url=medium.url(story) + "?source=friends_link",
    )
    [doc] = stored(mongo).values()
    assert doc["truncated"] is True and doc["extra"]["member_only"] is True
    assert doc["content"].startswith("This is story number 3")
    assert doc["canonical_url"] == canonicalize_url(medium.url(story))
    assert result.stats.get("playwright/page_count") is None  # no browser for a story
    [run] = mongo.latest_runs(1)
    [preview] = [p for d in run["domains"] for p in d["previews"]]
    assert preview["detail"] == f"member-only, preview only ({doc['word_count']} words)"


@deferred_f_from_coro_f
async def test_a_short_member_only_preview_is_kept_not_called_empty(
    medium: MockMedium, settings: dict[str, Any], mongo: MongoStore
) -> None:
    story = medium.stories[2]
    opening = (
        '<p id="0a1b" class="pw-post-body-paragraph" data-selectable-paragraph="">'
        "Feature flags are debts with interest.</p>"
    )
    short = replace(story, body=f"{opening}\n{story.body}", preview_paragraphs=1)
    medium.stories[2] = short
    medium.publish()
    await run_spider(
        MediumSpider,
        {**medium_settings(settings, medium), "EMBED_ENABLED": False},
        url=medium.url(short),
    )
    [doc] = stored(mongo).values()
    assert doc["content"] == "Feature flags are debts with interest."
    assert doc["truncated"] is True and doc["preview"] == "member-only"
    [run] = mongo.latest_runs(1)
    [domain] = run["domains"]
    assert domain["reasons"] == {"member-only, preview only": 1}
    assert domain["previews"][0]["detail"] == "member-only, preview only (6 words)"


@pytest.fixture
def publication(tmp_path: Path) -> Iterator[MockMedium]:
    """A publication on its own domain (`localhost`, not 127.0.0.1) with stories by Ada
    and by Bob: one of Bob's is in the feed, an older one only on the home page."""
    day = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    stories = [
        Story("aa11bb22cc33", "ada-on-naming", "On naming", "Names are interfaces", ADA,
              day, generic_body(31, "naming")),
        Story("bb22cc33dd44", "bob-on-tabs", "On tabs", "Tabs, again", BOB,
              day - timedelta(days=3), generic_body(32, "tabs")),
        Story("cc33dd44ee55", "ada-on-comments", "On comments", "Comments that age well", ADA,
              day - timedelta(days=9), generic_body(33, "comments")),
        Story("dd44ee55ff66", "bob-on-spaces", "On spaces", "Spaces, again", BOB,
              day - timedelta(days=40), generic_body(34, "spaces")),
    ]  # fmt: skip
    root = tmp_path / "pub"
    root.mkdir()
    with SiteServer(root) as server:
        server.base = server.base.replace("127.0.0.1", "localhost")
        mock = MockMedium(server, stories, custom_domain=True, rss_size=3)
        mock.publish()
        yield mock


@deferred_f_from_coro_f
async def test_a_publication_on_a_custom_domain_keeps_only_the_authors_stories(
    publication: MockMedium, settings: dict[str, Any], mongo: MongoStore
) -> None:
    # The feed is trimmed to the newest 3 so Bob's oldest story is only on the home page.
    result = await run_spider(
        MediumSpider,
        {**settings, "EMBED_ENABLED": False, "MEDIUM_LIST_PAUSE_MS": 100},
        user=publication.server.url("/"),
        author="Ada Quill",
    )
    docs = stored(mongo)
    ada = [s for s in publication.stories if s.author == ADA]
    assert set(docs) == {canonicalize_url(publication.url(s)) for s in ada}
    assert all(d["author_full_name"] == "Ada Quill" for d in docs.values())
    hits = publication.server.hits
    bob_in_feed, bob_older = publication.stories[1], publication.stories[3]
    assert publication.path(bob_in_feed) not in hits  # the feed's dc:creator says Bob
    assert hits[publication.path(bob_older)] == 1  # fetched, then its byline says Bob
    assert result.stats["finish_reason"] == "finished"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either -a user=HANDLE_OR_URL or -a url=STORY_URL"),
        ({"user": "ada", "url": "https://medium.com/@ada/x-1a2b3c4d5e6f"}, "give either"),
        ({"user": "a b"}, "not a Medium handle or URL"),
        ({"user": "https://medium.com/@ada/x-1a2b3c4d5e6f"}, "is a story"),
        ({"user": "https://medium.com/the-pub"}, "-a author="),
        ({"user": "ada", "limit": "0"}, "-a limit: must be a positive number"),
        ({"url": "medium.com/@ada/x"}, "not an http(s) URL"),
        ({"user": "ada", "pages": "3"}, "-a pages: unknown argument"),
    ],
)
def test_bad_arguments_fail_at_once(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError, match="medium spider") as caught:
        MediumSpider(**kwargs)
    assert message in str(caught.value)


@deferred_f_from_coro_f
async def test_seed_file_links_go_to_the_medium_routes(
    medium: MockMedium, settings: dict[str, Any], mongo: MongoStore, tmp_path: Path
) -> None:
    older = medium.stories[12]
    seed = tmp_path / "ada.yaml"
    seed.write_text(
        "author: Ada Quill\n"
        "links:\n"
        f"  - site: {medium.server.url('/@adaquill')}\n"
        "    limit: 3\n"
        f"  - {medium.url(older)}?source=user_profile_page\n"
        f"  - {medium.server.url('/')}\n",
        encoding="utf-8",
    )
    crawl_settings = {**medium_settings(settings, medium), "EMBED_ENABLED": False}
    result = await run_spider("seeds", crawl_settings, file=str(seed))
    newest = medium.stories[:3]
    assert set(stored(mongo)) == {canonicalize_url(medium.url(s)) for s in [*newest, older]}
    # The limit was met by the feed, so the profile was never rendered.
    assert "playwright/page_count" not in result.stats
    [run] = mongo.latest_runs(1)
    failures = [f for d in run["domains"] for f in d["failures"]]
    assert [f["reason"] for f in failures] == ["not a Medium user or publication"]


@deferred_f_from_coro_f
async def test_without_a_feed_the_profile_list_alone_finds_every_story(
    medium: MockMedium, settings: dict[str, Any], mongo: MongoStore
) -> None:
    medium.server.routes.pop("/feed/@adaquill")
    crawl_settings = {**medium_settings(settings, medium), "EMBED_ENABLED": False}
    result = await run_spider(MediumSpider, crawl_settings, user="adaquill")
    assert set(stored(mongo)) == {canonicalize_url(medium.url(s)) for s in medium.stories}
    assert result.stats["finish_reason"] == "finished"


@deferred_f_from_coro_f
async def test_a_medium_publication_on_its_own_domain_in_a_seed_file_is_read_as_medium(
    publication: MockMedium, settings: dict[str, Any], mongo: MongoStore, tmp_path: Path
) -> None:
    # MEDIUM_BASE_URL left at medium.com: `localhost` is an unknown domain, sent to the
    # generic extractor until its home page's markup shows it is served by Medium.
    seed = tmp_path / "ada.yaml"
    seed.write_text(f"author: Ada Quill\nlinks:\n  - {publication.server.url('/')}\n")
    result = await run_spider(
        "seeds",
        {**settings, "EMBED_ENABLED": False, "MEDIUM_LIST_PAUSE_MS": 100},
        file=str(seed),
    )
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    ada = [s for s in publication.stories if s.author == ADA]
    assert set(docs) == {canonicalize_url(publication.url(s)) for s in ada}
    assert {(d["platform"], d["extractor"]) for d in docs.values()} == {("medium", "medium")}
    assert all(d["extra"]["story_id"] for d in docs.values())
