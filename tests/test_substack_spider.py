"""The substack spider through Scrapy's engine against mock Substack publications on
127.0.0.1: documents in MongoDB (nx-27017), chunks in Qdrant (local mode)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.substack_mock import (
    ADA,
    BEN,
    FEED_CODE,
    MockSubstack,
    fill_ada,
    fill_custom_domain,
)
from tests.test_cli import environment, run, twin
from tests.test_crawl import qdrant_points, stored
from twin_scraper.config import StoreConfig
from twin_scraper.demo.server import SiteServer
from twin_scraper.params import ArgumentError
from twin_scraper.spiders.substack import SubstackSpider
from twin_scraper.stores.mongo import MongoStore

WEEKLY = 48  # with the 5 special posts: 53 posts, more than one archive page of 50
OWN = WEEKLY + 3  # weekly notes, the long post, the paid post, the post read from its page


@pytest.fixture
def ada() -> Iterator[MockSubstack]:
    with MockSubstack() as site:
        fill_ada(site, WEEKLY)
        yield site


@pytest.fixture
def kitchen() -> Iterator[MockSubstack]:
    """Ada's second publication, on a custom domain (a second server)."""
    with MockSubstack() as site:
        fill_custom_domain(site)
        yield site


def with_base(settings: dict[str, Any], site: MockSubstack) -> dict[str, Any]:
    """NAME.substack.com resolved to the mock (every name is the same server)."""
    return settings | {"SUBSTACK_BASE_URL": site.base}


def no_embed(settings: dict[str, Any]) -> dict[str, Any]:
    """For tests about discovery only: every crawl that embeds loads the model again,
    which costs time and memory (documents stay pending for `twin embed`)."""
    return settings | {"EMBED_ENABLED": False}


def archive_queries(site: MockSubstack) -> list[dict[str, str]]:
    return [
        {k: v[-1] for k, v in parse_qs(urlsplit(hit).query).items()}
        for hit in site.hits
        if hit.startswith("/api/v1/archive")
    ]


def test_the_mock_refuses_archive_pages_over_50(ada: MockSubstack) -> None:
    url = f"{ada.base}/api/v1/archive?sort=new&offset=0&limit=51"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["errors"][0]["param"] == "limit"
    with urllib.request.urlopen(url.replace("limit=51", "limit=50")) as page:
        assert len(json.loads(page.read())) == 50


@deferred_f_from_coro_f
async def test_every_post_of_a_publication_is_stored_with_its_fields(
    ada: MockSubstack, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    result = await run_spider("substack", with_base(settings, ada), publication="ada", author=ADA)
    assert result.stats["finish_reason"] == "finished"
    # Paged with offsets until an empty page, never asking for more than 50.
    queries = archive_queries(ada)
    assert [(q["offset"], q["limit"], q["sort"]) for q in queries] == [
        ("0", "50", "new"),
        ("50", "50", "new"),
        ("53", "50", "new"),
    ]
    docs = stored(mongo)
    assert len(docs) == OWN and len(result.items) == OWN
    base = ada.base
    assert set(docs) == {f"{base}/p/{slug}" for slug in ada.posts} - {
        f"{base}/p/guest-fermentation",
        f"{base}/p/bread-science-together",
    }

    rich = docs[f"{base}/p/sourdough-timing"]
    assert rich["platform"] == "substack" and rich["extractor"] == "substack"
    assert rich["title"] == "Timing a sourdough starter"
    assert rich["subtitle"] == "What I learned by getting it wrong"
    assert rich["author_full_name"] == ADA and rich["byline"] == ADA
    assert rich["published_at"].isoformat() == "2026-03-02T09:30:00+00:00"
    assert rich["url"] == f"{base}/p/sourdough-timing"
    assert rich["truncated"] is False and rich["language"] == "en"
    assert rich["extra"]["audience"] == "everyone"
    assert rich["extra"]["wordcount"] == ada.posts["sourdough-timing"]["wordcount"]
    assert rich["extra"]["tags"] == ["Sourdough", "Code"]
    assert (
        rich["extra"]["authors"][0]["name"] == ADA
        and rich["extra"]["authors"][0]["role"] == "admin"
    )
    assert rich["listed_updated_at"].isoformat() == "2026-03-02T09:30:00+00:00"
    content = rich["content"]
    assert "## Why a starter fails" in content and "### Timing the feeds" in content
    assert FEED_CODE.replace("&lt;", "<") in content  # whitespace (a tab too) kept exactly
    assert "> Bread is a clock you can eat." in content
    assert "- the kitchen is too cold," in content and "2. Bake in the morning." in content
    assert "[notes on the chemistry](https://en.wikipedia.org/wiki/Sourdough)" in content
    assert "![A jar of bubbling starter](https://substack-post-media.s3" in content
    assert "Subscribe" not in content and "Thanks for reading" not in content
    assert rich["embed"]["status"] == "done"

    paid = docs[f"{base}/p/pricing-a-loaf"]
    assert paid["truncated"] is True and paid["extra"]["audience"] == "only_paid"
    assert paid["content"].startswith("Every baker I know has an opinion")
    assert paid["extra"]["wordcount"] == 1859  # the whole post's, not the preview's

    from_page = docs[f"{base}/p/from-the-page"]
    assert from_page["title"] == "A post read from its page"
    assert from_page["subtitle"] == "The API does not serve this one"
    assert from_page["byline"] == ADA and from_page["truncated"] is False
    assert from_page["published_at"].isoformat() == "2026-03-30T09:30:00+00:00"
    assert "Week 902: the starter rose by half" in from_page["content"]
    assert "Comments" not in from_page["content"] and "Archive" not in from_page["content"]
    assert "/api/v1/posts/from-the-page" in ada.hits and "/p/from-the-page" in ada.hits

    # The guest post and the co-written one are reported, with their real authors.
    run = mongo.latest_runs(1)[0]
    failures = {f["url"]: f for d in run["domains"] for f in d["failures"]}
    assert failures == {}
    domain = next(d for d in run["domains"] if d["domain"] == "127.0.0.1")
    assert domain["reasons"] == {
        f"written by {BEN}, not {ADA}": 1,
        f"co-written by {ADA}, {BEN} (include_coauthored=true to keep it)": 1,
        "paid, preview only": 1,  # stored, and named as what it is
    }
    (preview,) = domain["previews"]
    assert preview["url"] == f"{base}/p/pricing-a-loaf"
    assert preview["detail"] == f"paid, preview only ({paid['word_count']} words)"
    assert not any("guest-fermentation" in h or "bread-science" in h for h in ada.post_hits())
    points = qdrant_points(store_config)
    assert {p.payload["doc_id"] for p in points} == {d["_id"] for d in docs.values()}


@deferred_f_from_coro_f
async def test_a_recrawl_is_a_no_op_and_an_edited_post_is_updated(
    ada: MockSubstack, settings: dict, mongo: MongoStore, store_config: StoreConfig
) -> None:
    settings = with_base(settings, ada)
    await run_spider("substack", settings, publication="ada", author=ADA)
    before = stored(mongo)
    points_before = {p.id: p.payload for p in qdrant_points(store_config)}
    assert len(before) == OWN

    ada.hits.clear()
    again = await run_spider("substack", settings, publication="ada", author=ADA)
    assert ada.post_hits() == []  # not one post requested, the page-only one included
    assert again.stats["twin/pages/unchanged_listed"] == OWN
    assert "twin/mongo/written" not in again.stats and "twin/qdrant/points" not in again.stats
    assert again.items == []
    assert stored(mongo) == before
    assert {p.id: p.payload for p in qdrant_points(store_config)} == points_before
    assert mongo.latest_runs(1)[0]["totals"]["unchanged"] == OWN

    # Edited: the archive keeps the post date (it has no update date), but the word
    # count it lists changes, so only that post is fetched, rewritten and re-embedded.
    post = ada.posts["week-7"]
    post["body_html"] += "<p>Edit: the cold proof won, by a mile, every single time.</p>"
    post["wordcount"] += 11
    post["updated_at"] = "2026-11-20T10:00:00.000Z"
    ada.hits.clear()
    third = await run_spider("substack", settings, publication="ada", author=ADA)
    assert ada.post_hits() == ["/api/v1/posts/week-7"]
    assert third.stats["twin/items/updated"] == 1 and third.stats["twin/mongo/written"] == 1
    key = f"{ada.base}/p/week-7"
    doc = stored(mongo)[key]
    assert "the cold proof won" in doc["content"] and doc["_id"] == before[key]["_id"]
    assert doc["updated_at"].isoformat() == "2026-11-20T10:00:00+00:00"
    assert doc["embed"]["status"] == "done"
    week_points = [p for p in qdrant_points(store_config) if p.payload["doc_id"] == doc["_id"]]
    assert len(week_points) == doc["embed"]["chunks"]
    assert any("the cold proof won" in p.payload["text"] for p in week_points)
    others = {k: v for k, v in stored(mongo).items() if k != key}
    assert others == {k: v for k, v in before.items() if k != key}


@deferred_f_from_coro_f
async def test_a_new_post_date_is_fetched_again(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    settings = no_embed(with_base(settings, ada))
    await run_spider("substack", settings, publication="ada", author=ADA, limit=3)
    ada.posts["from-the-page"]["post_date"] = "2026-04-01T09:30:00.000Z"  # republished
    ada.hits.clear()
    again = await run_spider("substack", settings, publication="ada", author=ADA, limit=3)
    assert ada.post_hits() == ["/api/v1/posts/from-the-page", "/p/from-the-page"]
    assert again.stats["twin/items/updated"] == 1


@deferred_f_from_coro_f
async def test_limit_and_owner_without_author(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    """Without `author`, the publication's owner (its admin byline) is the author."""
    settings = no_embed(with_base(settings, ada))
    result = await run_spider("substack", settings, publication="ada", limit=4)
    docs = stored(mongo)
    # The four newest own posts: the guest and co-written ones are skipped on the way.
    assert sorted(urlsplit(u).path for u in docs) == [
        "/p/from-the-page",
        "/p/pricing-a-loaf",
        "/p/sourdough-timing",
        "/p/week-48",
    ]
    assert {d["author_full_name"] for d in docs.values()} == {ADA}
    assert len(archive_queries(ada)) == 1  # the limit stopped discovery
    assert result.stats["finish_reason"] == "finished"


@deferred_f_from_coro_f
async def test_coauthored_posts_can_be_included(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    await run_spider(
        "substack",
        no_embed(with_base(settings, ada)),
        publication="ada",
        author=ADA,
        limit=3,
        include_coauthored="true",
    )
    docs = stored(mongo)
    together = docs[f"{ada.base}/p/bread-science-together"]
    assert together["author_full_name"] == ADA and together["byline"] == f"{ADA}, {BEN}"
    assert [a["name"] for a in together["extra"]["authors"]] == [ADA, BEN]
    assert f"{ada.base}/p/guest-fermentation" not in docs  # a guest post stays out


@deferred_f_from_coro_f
async def test_a_custom_domain_publication_and_single_post_urls(
    ada: MockSubstack, kitchen: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    settings = no_embed(settings)
    await run_spider("substack", settings, publication=kitchen.base + "/archive", author=ADA)
    docs = stored(mongo)
    assert set(docs) == {f"{kitchen.base}/p/kitchen-{n}" for n in (1, 2, 3)}
    assert docs[f"{kitchen.base}/p/kitchen-2"]["title"] == "Kitchen 2"

    urls = f"{ada.base}/p/sourdough-timing,{ada.base}/p/from-the-page/"
    result = await run_spider("substack", settings, url=urls, author=ADA)
    assert len(result.items) == 2
    assert stored(mongo)[f"{ada.base}/p/sourdough-timing"]["title"] == "Timing a sourdough starter"


@deferred_f_from_coro_f
async def test_a_site_that_is_not_substack_is_reported(
    site: SiteServer, settings: dict, mongo: MongoStore
) -> None:
    await run_spider("substack", no_embed(settings), publication=site.base, author=ADA)
    run = mongo.latest_runs(1)[0]
    reasons = {r for d in run["domains"] for r in d["reasons"]}
    assert reasons == {"HTTP 404"}
    assert stored(mongo) == {}


@deferred_f_from_coro_f
async def test_seed_file_routes_substack_links_to_the_substack_spider(
    ada: MockSubstack, site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    local = ada.base.replace("127.0.0.1", "localhost")
    seed = tmp_path / "ada.yaml"
    seed.write_text(
        f"author: {ADA}\n"
        "links:\n"
        f"  - site: {local}/\n"
        "    limit: 2\n"
        f"  - {local}/p/week-3\n"
        f"  - {site.url('/articles/code-heavy/')}\n"
    )
    result = await run_spider(
        "seeds", no_embed(settings) | {"SUBSTACK_BASE_URL": local}, file=str(seed)
    )
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    platforms = {urlsplit(u).path: d["platform"] for u, d in docs.items()}
    assert platforms == {
        "/p/from-the-page": "substack",
        "/p/pricing-a-loaf": "substack",
        "/p/week-3": "substack",
        "/articles/code-heavy": "article",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either -a publication=NAME_OR_URL, -a user=HANDLE or -a url=POST_URL"),
        ({"publication": "ada", "user": "ada"}, "(one of them)"),
        ({"user": "not a handle!"}, "not a Substack handle"),
        ({"publication": "ada", "url": "https://ada.substack.com/p/x"}, "give either"),
        ({"publication": "not a name!"}, "not a Substack publication name or URL"),
        ({"url": "https://ada.substack.com/about"}, "not a Substack post URL"),
        ({"publication": "ada", "limit": "0"}, "-a limit: must be a positive number"),
        ({"publication": "ada", "colour": "x"}, "-a colour: unknown argument"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict, message: str) -> None:
    with pytest.raises(ArgumentError) as error:
        SubstackSpider(**kwargs)
    assert message in str(error.value)


def test_command_line_crawl_then_reextract_from_the_stored_json(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    env = environment(settings)
    crawl = run(
        ["scrapy", "crawl", "substack", "-a", "publication=ada", "-a", "limit=3",
         "-s", f"SUBSTACK_BASE_URL={ada.base}"],
        env,
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert "Crawl report: substack (finished)" in crawl.stderr
    docs = stored(mongo)
    assert len(docs) == 3
    key = f"{ada.base}/p/sourdough-timing"
    good = docs[key]["content"]
    mongo.db.articles.update_one(
        {"_id": docs[key]["_id"]}, {"$set": {"content": "stale", "content_hash": "old"}}
    )
    hits = len(ada.hits)
    result = twin(["reextract"], env)
    assert result.returncode == 0, result.stderr
    assert "1 changed, 2 unchanged" in result.stdout  # the JSON post and the page one alike
    assert stored(mongo)[key]["content"] == good
    assert len(ada.hits) == hits  # nothing fetched


@deferred_f_from_coro_f
async def test_untrusted_listing_dates_fetch_every_post_but_write_nothing_unchanged(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    settings = no_embed(with_base(settings, ada))
    await run_spider("substack", settings, publication="ada", author=ADA, limit=3)
    before = stored(mongo)
    ada.hits.clear()
    settings = settings | {"SUBSTACK_TRUST_LISTING_DATES": False}
    again = await run_spider("substack", settings, publication="ada", author=ADA, limit=3)
    assert len([h for h in ada.post_hits() if h.startswith("/api/")]) == 3
    assert again.stats["twin/items/unchanged"] == 3 and "twin/mongo/written" not in again.stats
    assert stored(mongo) == before


# --- discovery beyond the archive: the sitemap, a person's profile ---------------------
PROFILE = Path(__file__).parent / "fixtures" / "extract" / "substack" / "public_profile.json"


def test_a_profile_lists_the_persons_publications_not_what_they_read() -> None:
    from twin_scraper.extract.substack import parse_profile, profile_handle

    profile = parse_profile(PROFILE.read_text(encoding="utf-8"))
    assert profile.name == ADA and profile.handle == "adaquill"
    # Owned first, then where they contribute; not the private membership, not the reads.
    assert profile.publications == (("adabakes", "admin"), ("crumbscience", "contributor"))
    assert profile_handle("https://substack.com/@AdaQuill") == "adaquill"
    assert profile_handle("https://substack.com/@adaquill/") == "adaquill"
    assert profile_handle("https://adabakes.substack.com/p/x") is None


@deferred_f_from_coro_f
async def test_the_sitemap_finds_edits_and_posts_the_archive_does_not_list(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    settings = no_embed(with_base(settings, ada))
    ada.hidden.add("week-5")  # listed by the sitemap only
    await run_spider("substack", settings, publication="ada", author=ADA)
    docs = stored(mongo)
    assert len(docs) == OWN and f"{ada.base}/p/week-5" in docs
    assert "/sitemap.xml" in ada.hits

    # A typo fixed in an old post: same title, subtitle, audience and word count in the
    # archive; only the sitemap's lastmod moves. That post alone is fetched again.
    post = ada.posts["week-9"]
    post["body_html"] = post["body_html"].replace("open", "airy")
    post["updated_at"] = "2026-11-20T10:00:00.000Z"
    ada.hits.clear()
    again = await run_spider("substack", settings, publication="ada", author=ADA)
    assert ada.post_hits() == ["/api/v1/posts/week-9"]
    assert again.stats["twin/items/updated"] == 1
    assert "the crumb was airy" in stored(mongo)[f"{ada.base}/p/week-9"]["content"]
    assert again.stats["twin/pages/unchanged_listed"] == OWN - 1


@deferred_f_from_coro_f
async def test_one_handle_gives_every_publication_of_the_person(
    ada: MockSubstack, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    ada.profiles["adaquill"] = json.loads(PROFILE.read_text(encoding="utf-8"))
    settings = no_embed(with_base(settings, ada)) | {"SUBSTACK_PROFILE_URL": ada.base}
    result = await run_spider("substack", settings, user="https://substack.com/@adaquill")
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    assert len(docs) == OWN  # without -a author: the profile's name is the author
    assert {d["author_full_name"] for d in docs.values()} == {ADA}
    assert "/api/v1/user/adaquill/public_profile" in ada.hits

    # The same from a seed file's `substack.com/@handle` link.
    mongo.client.drop_database(mongo.db.name)
    seed = tmp_path / "ada.yaml"
    seed.write_text(f"author: {ADA}\nlinks:\n  - {ada.base}/@adaquill\n")
    seeded = await run_spider("seeds", settings, file=str(seed))
    assert seeded.stats["finish_reason"] == "finished"
    assert len(stored(mongo)) == OWN
    run = mongo.latest_runs(1)[0]
    assert not any(d["failures"] for d in run["domains"])


@deferred_f_from_coro_f
async def test_short_posts_and_paid_previews_are_kept_and_named(
    ada: MockSubstack, settings: dict, mongo: MongoStore
) -> None:
    from tests.substack_mock import byline, make_post, publication

    pub = publication(ada, "Ada Bakes", 1001)
    me = byline(101, ADA, "adaquill", pub, "admin")
    short = " ".join(["Thirty", "words", "on", "why", "I", "salt", "late"] * 4) + " and bake."
    members = "A twelve word preview of a post for paying members only, here."
    for slug, body, audience in (
        ("short-note", f"<p>{short}</p>", "everyone"),
        ("members-note", f"<p>{members}</p>", "only_paid"),
        ("nothing-free", "", "only_paid"),
    ):
        post = make_post(ada.base, pub, hash(slug) % 10**6, slug, slug, "2026-04-02T08:00:00.000Z",
                         body, [me], audience=audience, wordcount=900)  # fmt: skip
        post["truncated_body_text"] = post["description"] = "" if not body else post["description"]
        ada.add(post)
    settings = no_embed(with_base(settings, ada))
    await run_spider("substack", settings, publication="ada", author=ADA)
    docs = stored(mongo)
    note = docs[f"{ada.base}/p/short-note"]
    assert note["word_count"] == 30 and note["truncated"] is False  # not "empty"
    paid = docs[f"{ada.base}/p/members-note"]
    assert paid["truncated"] is True and paid["preview"] == "paid" and paid["word_count"] == 12
    assert f"{ada.base}/p/nothing-free" not in docs
    (run,) = mongo.latest_runs(1)
    domain = next(d for d in run["domains"] if d["domain"] == "127.0.0.1")
    previews = {p["url"]: p["detail"] for p in domain["previews"]}
    assert previews[f"{ada.base}/p/members-note"] == "paid, preview only (12 words)"
    (failure,) = domain["failures"]
    assert failure["url"] == f"{ada.base}/p/nothing-free"
    assert failure["reason"] == "paid, preview only"  # what it is, not "empty"

    ada.hits.clear()
    await run_spider("substack", settings, publication="ada", author=ADA)
    # Stored previews are unchanged listings now: not fetched again.
    assert "/api/v1/posts/members-note" not in ada.hits
    assert "/api/v1/posts/short-note" not in ada.hits


@deferred_f_from_coro_f
async def test_a_substack_on_its_own_domain_in_a_seed_file_is_read_as_substack(
    ada: MockSubstack, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    # SUBSTACK_BASE_URL left at *.substack.com: the mock's host is an unknown domain, sent
    # to the generic extractor until its first page shows it is Substack.
    seed = tmp_path / "ada.yaml"
    seed.write_text(f"author: {ADA}\nlinks:\n  - {ada.base}/\n  - url: {ada.base}/p/week-3\n")
    result = await run_spider("seeds", no_embed(settings), file=str(seed))
    assert result.stats["finish_reason"] == "finished"
    docs = stored(mongo)
    assert len(docs) == OWN
    assert {d["platform"] for d in docs.values()} == {"substack"}
    assert {d["extractor"] for d in docs.values()} == {"substack"}
    assert "/api/v1/archive" in "".join(ada.hits) and "/api/v1/posts/week-3" in ada.hits
    assert "/feed" not in ada.hits  # never discovered as a generic blog
    run = mongo.latest_runs(1)[0]
    assert not any(d["failures"] for d in run["domains"])
