"""LinkedIn, route 2: the member's activity rendered by real Chromium with their own
session, against a mock LinkedIn on 127.0.0.1 (auth wall without the cookie, a feed that
loads on scroll, long posts behind "see more", a checkpoint). Secrets are canaries that
must appear nowhere: logs, stats, items, the crawl report, MongoDB, exceptions."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import CrawlResult, run_spider
from tests.linkedin_site import MockLinkedIn, mock_linkedin
from twin_scraper.extract.linkedin import (
    parse_activity,
    parse_count,
    relative_date,
    urn_time,
    wall_reason,
)
from twin_scraper.items import Document
from twin_scraper.platforms import EXTRACTORS
from twin_scraper.stores.mongo import MongoStore

CANARY = "CANARY-li-at-7f3e9b2d"
STATE_CANARY = "CANARY-jsessionid-44c1a0"


@pytest.fixture
def linkedin() -> Iterator[MockLinkedIn]:
    with mock_linkedin(CANARY) as site:
        yield site


def crawl_settings(settings: dict[str, Any], site: MockLinkedIn, **extra: Any) -> dict[str, Any]:
    return {
        **settings,
        "LINKEDIN_BASE_URL": site.base,
        "LINKEDIN_LI_AT": "",
        "LINKEDIN_STORAGE_STATE": "",
        "LINKEDIN_DOWNLOAD_DELAY": 0,
        "LINKEDIN_SCROLL_PAUSE": 0.4,
        "LINKEDIN_SCROLL_SECONDS": 60,
        "EMBED_ENABLED": False,
        **extra,
    }


def assert_no_secret(
    result: CrawlResult, mongo: MongoStore, caplog: pytest.LogCaptureFixture, *secrets: str
) -> None:
    """No secret in the log, the stats, the items, the stored documents, raw pages or
    the crawl report."""
    places = {
        "log": caplog.text,
        "stats": repr(result.stats),
        "items": repr([item.model_dump() for item in result.items]),
        "documents": repr(list(mongo.iter_documents())),
        "raw pages": repr(list(mongo.db.raw_pages.find())),
        "report": repr(mongo.latest_runs(5)),
    }
    for secret in secrets:
        for name, text in places.items():
            assert secret not in text, f"secret found in {name}"


# --- pure parts -------------------------------------------------------------------------
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("3w • Edited • ", NOW - timedelta(weeks=3), "week"),
        ("2d", NOW - timedelta(days=2), "day"),
        ("5h", NOW - timedelta(hours=5), "hour"),
        ("45m", NOW - timedelta(minutes=45), "minute"),
        ("1mo", NOW - timedelta(days=30), "month"),
        ("2yr", NOW - timedelta(days=730), "year"),
        ("now", NOW, "minute"),
        ("Promoted", None, None),
        (None, None, None),
    ],
)
def test_relative_dates(text: str | None, expected: datetime | None, precision: str | None) -> None:
    assert relative_date(text, NOW) == (expected, precision)


def test_a_post_id_holds_its_time() -> None:
    moment = datetime(2024, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)
    urn = f"urn:li:activity:{(int(moment.timestamp() * 1000) << 22) | 999}"
    assert urn_time(urn, NOW) == moment
    assert urn_time("urn:li:activity:1234567", NOW) is None  # 1970: not a time
    assert urn_time("urn:li:share:abc", NOW) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [("1,234", 1234), ("56 comments", 56), ("1.2K", 1200), ("3M", 3_000_000), ("", None)],
)
def test_counts(text: str, count: int | None) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize(
    ("url", "html", "wall"),
    [
        ("https://www.linkedin.com/authwall?trk=x", "<html></html>", True),
        ("https://www.linkedin.com/checkpoint/challenge/Ag", "<html></html>", True),
        ("https://www.linkedin.com/login", "<html></html>", True),
        ("https://www.linkedin.com/in/a/", '<form><input name="session_key"></form>', True),
        ("https://www.linkedin.com/in/a/recent-activity/all/", "<main>feed</main>", False),
    ],
)
def test_walls_are_recognised(url: str, html: str, wall: bool) -> None:
    assert (wall_reason(url, html) is not None) is wall


def test_feed_cards_are_parsed_from_a_rendered_page() -> None:
    html = """<html><body>
    <div class="feed-shared-update-v2" data-urn="urn:li:activity:7000000000000000001">
      <div class="update-components-actor"><a href="/in/ada-quill?x=1">
        <span class="update-components-actor__name"><span aria-hidden="true">Ada Quill</span>
        <span class="visually-hidden">View Ada Quill's profile</span></span></a>
        <span class="update-components-actor__sub-description">
          <span aria-hidden="true">3w • Edited</span><span class="visually-hidden">3 weeks</span>
        </span></div>
      <div class="update-components-text"><span>Line one<br>Line  two
        <a href="/feed/hashtag/bread">#bread</a></span></div>
      <a href="https://www.linkedin.com/pulse/why-ada?trk=x">Why</a>
      <span class="social-details-social-counts__reactions-count">1,234</span>
      <li class="social-details-social-counts__comments"><button>56 comments</button></li>
    </div>
    <div class="feed-shared-update-v2" data-urn="urn:li:activity:7000000000000000001"></div>
    </body></html>"""
    (post,) = parse_activity(html, "https://www.linkedin.com/in/ada-quill/recent-activity/all/")
    assert post.text == "Line one\nLine two #bread"
    assert (post.author_slug, post.author_name, post.date_text) == (
        "ada-quill",
        "Ada Quill",
        "3w • Edited",
    )
    assert (post.reactions, post.comments, post.reposts) == (1234, 56, 0)
    assert post.article_urls == ("https://www.linkedin.com/pulse/why-ada",)
    assert post.truncated is False


# --- without a session ------------------------------------------------------------------
@deferred_f_from_coro_f
async def test_without_a_session_the_spider_stops_at_start_naming_both_routes(
    settings: dict, linkedin: MockLinkedIn
) -> None:
    from twin_scraper.spiders.linkedin import SessionError

    with pytest.raises(SessionError) as error:
        await run_spider("linkedin", crawl_settings(settings, linkedin), user="ada-quill")
    message = str(error.value)
    assert "LINKEDIN_LI_AT" in message and "LINKEDIN_STORAGE_STATE" in message
    assert "scrapy crawl linkedin -a export=PATH" in message
    assert linkedin.paths == []  # nothing was fetched


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{{not json {CANARY}", "is not a Playwright storage-state JSON file"),
        (json.dumps({"cookies": [{"name": "JSESSIONID", "value": CANARY}]}), "no `li_at`"),
        (json.dumps([CANARY]), "no `li_at`"),
    ],
)
def test_bad_storage_state_is_named_without_its_content(
    tmp_path: Path, content: str, message: str
) -> None:
    from scrapy.settings import Settings

    from twin_scraper.spiders.linkedin import SessionError, session_state

    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(SessionError) as error:
        session_state(Settings({"LINKEDIN_STORAGE_STATE": str(state)}))
    assert message in str(error.value) and str(state) in str(error.value)
    assert CANARY not in str(error.value)
    with pytest.raises(SessionError, match="bare value") as error:
        session_state(Settings({"LINKEDIN_LI_AT": f"li_at={CANARY}; x"}))
    assert CANARY not in str(error.value)


# --- with a session ---------------------------------------------------------------------
@deferred_f_from_coro_f
async def test_activity_crawl_stores_every_post_in_full_and_the_articles(
    settings: dict, mongo: MongoStore, linkedin: MockLinkedIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = await run_spider(
        "linkedin",
        crawl_settings(settings, linkedin, LINKEDIN_LI_AT=CANARY),
        user="https://www.linkedin.com/in/ada-quill/",
    )
    assert result.stats["finish_reason"] == "finished"
    assert set(linkedin.cookies_seen) == {CANARY}  # the session really was used
    assert linkedin.paths.count("/voyager/feed") == 3  # 13 updates, 5 a scroll
    posts = {d["extra"]["urn"]: d for d in mongo.iter_documents({"category": "posts"})}
    assert len(posts) == 12  # the repost is not the member's
    expected = {p["urn"]: p for p in linkedin.posts if p["slug"] == "ada-quill"}
    for urn, doc in posts.items():
        assert doc["content"] == expected[urn]["text"].replace("  ", " ").strip()
        assert "…" not in doc["content"] and doc["truncated"] is False
        assert doc["author_full_name"] == "Ada Quill" and doc["platform"] == "linkedin"
        assert doc["url"] == f"{linkedin.base}/feed/update/{urn}/"
    first = posts[linkedin.posts[0]["urn"]]
    assert "FULL-TEXT-END" in first["content"]  # behind "see more"
    extra = first["extra"]
    assert (extra["reactions"], extra["comments"], extra["reposts"]) == (1234, 56, 7)
    assert extra["date_source"] == "post id" and extra["date_precision"] == "millisecond"
    fetched = first["fetched_at"].replace(tzinfo=UTC)
    published = first["published_at"].replace(tzinfo=UTC)
    assert abs(fetched - timedelta(days=2, hours=3) - published) < timedelta(minutes=2)
    relative = posts["urn:li:activity:1234567"]
    assert relative["extra"]["date_source"] == "relative date"
    assert relative["extra"]["date_precision"] == "week"
    assert relative["extra"]["date_text"].startswith("3w")
    delta = relative["fetched_at"] - relative["published_at"]
    assert abs(delta - timedelta(weeks=3)) < timedelta(minutes=1)

    # `twin reextract` rebuilds a post from its stored card alone.
    raw = mongo.raw_page(first["_id"])
    rebuilt = EXTRACTORS[first["extractor"]].fields(
        raw["html"], first["url"], "Ada Quill", 200, first["fetched_at"].replace(tzinfo=UTC)
    )
    assert Document.model_validate(rebuilt).content_hash == first["content_hash"]

    (article,) = mongo.iter_documents({"category": "articles"})
    assert article["title"] == "Why I bake at night" and article["platform"] == "linkedin"
    assert "ARTICLE-END" in article["content"] and "## What the night gives" in article["content"]
    assert "More articles for you" not in article["content"]
    assert article["extractor"] == "linkedin_article"
    everything = " ".join(d["content"] for d in mongo.iter_documents())
    assert "REPOST-TEXT" not in everything

    (run,) = mongo.latest_runs(1)
    assert run["totals"]["new"] == 13 and run["totals"]["failed"] == 0
    assert run["totals"]["skipped"] == 1
    assert_no_secret(result, mongo, caplog, CANARY)


@deferred_f_from_coro_f
async def test_a_seed_file_crawls_a_profile_with_a_storage_state_session(
    settings: dict,
    mongo: MongoStore,
    linkedin: MockLinkedIn,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    state = tmp_path / "linkedin-state.json"
    cookie = {"path": "/", "expires": -1, "httpOnly": True, "secure": False, "sameSite": "Lax"}
    state.write_text(
        json.dumps(
            {
                "cookies": [
                    {**cookie, "name": "li_at", "value": CANARY, "domain": "127.0.0.1"},
                    {**cookie, "name": "JSESSIONID", "value": STATE_CANARY, "domain": "127.0.0.1"},
                ],
                "origins": [],
            }
        )
    )
    seeds = tmp_path / "ada.yaml"
    seeds.write_text(f"author: Ada Quill\nlinks:\n  - {linkedin.url('/in/ada-quill/')}\n")
    result = await run_spider(
        "seeds",
        crawl_settings(settings, linkedin, LINKEDIN_STORAGE_STATE=str(state), LINKEDIN_MAX_POSTS=5),
        file=str(seeds),
    )
    assert result.stats["finish_reason"] == "finished"
    assert set(linkedin.cookies_seen) == {CANARY}
    counts = mongo.count_documents()
    assert counts["posts"] >= 4 and counts["articles"] == 1  # scrolling stopped at 5 updates
    assert_no_secret(result, mongo, caplog, CANARY, STATE_CANARY)


@deferred_f_from_coro_f
async def test_an_auth_wall_stops_the_crawl_and_is_never_stored(
    settings: dict, mongo: MongoStore, linkedin: MockLinkedIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    expired = "CANARY-expired-cookie-0b9d"
    result = await run_spider(
        "linkedin", crawl_settings(settings, linkedin, LINKEDIN_LI_AT=expired), user="ada-quill"
    )
    assert result.stats["finish_reason"] == "linkedin_login_wall"
    assert sum(mongo.count_documents().values()) == 0 and result.items == []
    (run,) = mongo.latest_runs(1)
    (failure,) = [f for d in run["domains"] for f in d["failures"]]
    assert failure["reason"] == "login_wall"
    assert failure["url"].endswith("/in/ada-quill/recent-activity/all/")
    assert "/authwall" in failure["detail"] and "LINKEDIN_LI_AT" in failure["detail"]
    assert "scrapy crawl linkedin -a export=PATH" in failure["detail"]
    assert "Stopping the LinkedIn crawl" in caplog.text
    assert "WALL-TEXT" not in repr(list(mongo.db.raw_pages.find()))
    assert_no_secret(result, mongo, caplog, expired)


@deferred_f_from_coro_f
async def test_a_checkpoint_mid_crawl_stops_it_keeping_what_was_read(
    settings: dict, mongo: MongoStore, linkedin: MockLinkedIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    linkedin.locked.add("/pulse/why-i-bake-night-ada-quill/")
    linkedin.posts = linkedin.posts[:4]
    result = await run_spider(
        "linkedin",
        crawl_settings(settings, linkedin, LINKEDIN_LI_AT=CANARY),
        user="ada-quill",
        author="Ada Quill",
    )
    assert result.stats["finish_reason"] == "linkedin_login_wall"
    assert mongo.count_documents()["posts"] == 3 and mongo.count_documents()["articles"] == 0
    everything = repr(list(mongo.iter_documents())) + repr(list(mongo.db.raw_pages.find()))
    assert "CHECKPOINT-TEXT" not in everything
    (run,) = mongo.latest_runs(1)
    assert run["finish_reason"] == "linkedin_login_wall"
    (failure,) = [f for d in run["domains"] for f in d["failures"]]
    assert failure["url"].endswith("/pulse/why-i-bake-night-ada-quill/")
    assert "/checkpoint/challenge" in failure["detail"]
    assert_no_secret(result, mongo, caplog, CANARY)
