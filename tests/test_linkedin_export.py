"""LinkedIn, route 1: the member's data export (a fixture shaped like the real archive:
BOM, CRLF, multi-line quoted commentary, per-line quoting, empty rows, files to ignore)
read into posts and articles, through the spider and the pipelines into MongoDB."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import TESTS_DIR, run_spider
from twin_scraper.extract.linkedin import (
    ExportError,
    parse_article,
    parse_export,
    parse_export_date,
    parse_shares,
    post_canonical,
    read_export,
    share_text,
)
from twin_scraper.items import Document
from twin_scraper.platforms import EXTRACTORS
from twin_scraper.stores.mongo import MongoStore

EXPORT = TESTS_DIR / "fixtures" / "linkedin" / "export"
ARTICLE = "Articles/Articles/2020-04-10 09:13:21.0-Why-I-bake-at-night.html"
FIRST_POST = (
    "Sourdough starters are simpler than people think.\n\n"
    'My rule: feed it when it "smells hungry", not by the clock.\n\n'
    "#baking #sourdough"
)


def zip_export(folder: Path, target: Path) -> Path:
    """The folder as LinkedIn ships it: a zip with the files at its root."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


@pytest.fixture
def export_zip(tmp_path: Path) -> Path:
    return zip_export(EXPORT, tmp_path / "Complete_LinkedInDataExport_11-23-2026.zip")


# --- parsing ----------------------------------------------------------------------------
def test_shares_csv_quirks_give_the_posts_as_written() -> None:
    posts, problems = parse_shares((EXPORT / "Shares.csv").read_bytes())
    assert [p.text for p in posts] == [
        FIRST_POST,
        'Plain post, with a comma \U0001f35e and a "quoted" word',
        "",  # a reshare: no words of the author's
        "Our new oven arrived. It is \u201cbeautiful\u201d.",
    ]
    first = posts[0]
    assert first.published_at == datetime(2023, 5, 10, 14, 22, 1, tzinfo=UTC)
    assert first.urn == "urn:li:share:7062000000000000001"
    assert first.visibility == "MEMBER_NETWORK" and first.row == 2
    assert posts[1].shared_url == "https://ada.example/posts/bread/"
    assert posts[1].urn == "urn:li:activity:6750000000000000002"
    assert posts[3].media_url.startswith("https://media.licdn.com/")
    assert posts[3].visibility == "CONNECTIONS"
    assert problems == [(13, "no ShareLink (the post's URL)")]


@pytest.mark.parametrize(
    ("commentary", "text"),
    [
        ('"one line"', '"one line"'),  # one line has no export quoting: the author's quotes
        ('"first"\r\n""\r\n"second ""quoted"""', 'first\n\nsecond "quoted"'),
        ("not wrapped, kept as is", "not wrapped, kept as is"),
        ('"wrapped"\nnot wrapped "x"', '"wrapped"\nnot wrapped "x"'),  # mixed: left alone
        ('"a"\n\n\n\n"b"\n', "a\n\nb"),
        ("", ""),
        # Real exports (2025, 2026): lines joined by `"\n"`, blank lines `""`, the author's
        # quotes single, the post's own first and last quotes kept.
        ('the program."\n""\n"WHAT? A retreat.', "the program.\n\nWHAT? A retreat."),
        ('Asked "why"?"\n""Because," she said."', 'Asked "why"?\n"Because," she said."'),
        ('"Quoted" opening."\n" 1. indented"\n"', '"Quoted" opening.\n 1. indented'),
        ('He said "hi""\n""Yes" she said', 'He said "hi"\n"Yes" she said'),
    ],
)
def test_share_text_removes_only_the_exports_own_quoting(commentary: str, text: str) -> None:
    assert share_text(commentary) == text


def test_shares_csv_without_its_columns_is_named() -> None:
    with pytest.raises(ExportError, match=r"lacks the column\(s\) ShareLink, ShareCommentary"):
        parse_shares(b"Date,Link,Message\n2020-01-01,https://x.example/,hi\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-10 14:22:01", datetime(2023, 5, 10, 14, 22, 1, tzinfo=UTC)),
        ("Published on 2020-04-11 10:05", datetime(2020, 4, 11, 10, 5, tzinfo=UTC)),
        ("05/15/25, 04:57 PM", datetime(2025, 5, 15, 16, 57, tzinfo=UTC)),
        ("2023-02-30 10:00:00", None),
        ("yesterday", None),
    ],
)
def test_export_dates(text: str, expected: datetime | None) -> None:
    assert parse_export_date(text) == expected


def test_article_page_gives_title_url_dates_and_markdown() -> None:
    article = parse_article((EXPORT / ARTICLE).read_bytes(), ARTICLE)
    assert article.title == "Why I bake at night"
    assert article.url == "https://www.linkedin.com/pulse/why-i-bake-night-ada-quill"
    assert article.created_at == datetime(2020, 4, 10, 9, 13, tzinfo=UTC)
    assert article.published_at == datetime(2020, 4, 11, 10, 5, tzinfo=UTC)
    md = article.markdown
    assert "## What the night gives" in md and "- Time to **shape** by feel" in md
    assert "[recipe](https://ada.example/posts/bread/)" in md
    assert "```\nlevain 100 g\nwater  350 g\n```" in md
    assert "Created on" not in md and "Published on" not in md and "# Why I bake" not in md


def test_a_draft_has_no_url() -> None:
    name = "Articles/Articles/2021-02-01 18:30:00.0-Rye-notes.html"
    draft = parse_article((EXPORT / name).read_bytes(), name)
    assert draft.title == "Rye notes" and draft.url is None and draft.published_at is None


def test_zip_and_folder_give_the_same_export(export_zip: Path) -> None:
    from_zip, from_folder = read_export(export_zip), read_export(EXPORT)
    assert from_zip == from_folder
    # Only what we read: no comments, reactions or rich media.
    draft = "Articles/Articles/2021-02-01 18:30:00.0-Rye-notes.html"
    assert sorted(from_zip) == sorted([ARTICLE, draft, "Profile.csv", "Shares.csv"])
    export = parse_export(from_zip, str(export_zip))
    assert export.author == "Ada Quill" and len(export.posts) == 4 and len(export.articles) == 2


def test_export_errors_name_the_path_and_the_cause(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(ExportError, match=r"LinkedIn export not found: .*nowhere\.zip"):
        read_export(missing)
    text = tmp_path / "Shares.txt"
    text.write_text("Date,ShareLink\n")
    with pytest.raises(ExportError, match=r"Shares\.txt is not a zip archive"):
        read_export(text)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("Connections.csv", "First Name,Last Name\n")
        archive.writestr("Comments.csv", "Date,Link,Message\n")
    with pytest.raises(ExportError, match=r"other\.zip holds no posts or articles"):
        read_export(other)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(zip_export(EXPORT, tmp_path / "whole.zip").read_bytes()[:-40])
    with pytest.raises(ExportError, match=r"damaged\.zip"):
        read_export(damaged)


def test_post_identity_is_its_urn() -> None:
    encoded = "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A123?utm_source=share"
    plain = "https://www.linkedin.com/feed/update/urn:li:share:123/"
    assert post_canonical(encoded) == post_canonical(plain)
    assert post_canonical(plain) == "https://www.linkedin.com/feed/update/urn:li:share:123"


# --- the spider, end to end -------------------------------------------------------------
@deferred_f_from_coro_f
async def test_export_crawl_stores_posts_and_articles(
    settings: dict, mongo: MongoStore, export_zip: Path
) -> None:
    result = await run_spider("linkedin", settings, export=str(export_zip))
    assert result.stats["finish_reason"] == "finished"
    docs = {d["canonical_url"]: d for d in mongo.iter_documents()}
    assert mongo.count_documents() == {"articles": 1, "posts": 3, "repositories": 0}

    first = docs["https://www.linkedin.com/feed/update/urn:li:share:7062000000000000001"]
    assert first["content"] == FIRST_POST
    assert first["category"] == "posts" and first["platform"] == "linkedin"
    assert first["author_full_name"] == "Ada Quill"  # from Profile.csv
    assert first["published_at"].replace(tzinfo=UTC) == datetime(2023, 5, 10, 14, 22, 1, tzinfo=UTC)
    assert first["url"].startswith("https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A")
    assert first["extra"]["visibility"] == "MEMBER_NETWORK"
    assert first["extra"]["source"] == "export"
    image = docs["https://www.linkedin.com/feed/update/urn:li:ugcPost:6950000000000000004"]
    assert image["extra"]["visibility"] == "CONNECTIONS"
    assert image["extra"]["media_url"].startswith("https://media.licdn.com/")

    article = docs["https://www.linkedin.com/pulse/why-i-bake-night-ada-quill"]
    assert article["category"] == "articles" and article["title"] == "Why I bake at night"
    assert article["published_at"].replace(tzinfo=UTC) == datetime(2020, 4, 11, 10, 5, tzinfo=UTC)
    assert "## What the night gives" in article["content"]
    assert article["extractor"] == "linkedin_export"
    raw = mongo.raw_page(article["_id"])
    assert raw is not None and "Why I bake at night" in raw["html"]
    # `twin reextract` rebuilds the article from its stored page alone.
    rebuilt = EXTRACTORS[article["extractor"]].fields(
        raw["html"], article["url"], "Ada Quill", 200, article["fetched_at"]
    )
    assert Document.model_validate(rebuilt).content_hash == article["content_hash"]

    everything = " ".join(d["content"] for d in docs.values())
    for absent in ("COMMENT-ON-SOMEONE-ELSE", "RICH-MEDIA-DESCRIPTION", "DRAFT-TEXT", "Orphan"):
        assert absent not in everything

    (run,) = mongo.latest_runs(1)
    archive, site = run["domains"]  # rows by host: the archive's name, linkedin.com
    assert site["domain"] == "linkedin.com" and site["outcomes"] == {"new": 4, "skipped": 1}
    assert site["reasons"] == {"no text of the author's (a reshare or media alone)": 1}
    assert archive["domain"] == export_zip.name.lower()
    assert archive["outcomes"] == {"skipped": 1, "failed": 1}
    assert archive["reasons"] == {
        "an unpublished draft (no public URL in the export)": 1,
        "no ShareLink (the post's URL)": 1,
    }
    assert archive["failures"][0]["url"].endswith(f"{export_zip.name}/Shares.csv line 13")

    again = await run_spider("linkedin", settings, export=str(EXPORT), author="Ada Quill")
    assert again.items == [] and again.stats.get("twin/items/unchanged") == 4
    assert sum(mongo.count_documents().values()) == 4


def test_spider_refuses_bad_exports_at_construction(tmp_path: Path) -> None:
    from twin_scraper.params import ArgumentError
    from twin_scraper.spiders.linkedin import LinkedInSpider

    for arguments in ({}, {"export": str(EXPORT), "user": "ada-quill"}):
        with pytest.raises(ArgumentError, match=r"give either -a export=PATH .* or -a user="):
            LinkedInSpider(**arguments)
    with pytest.raises(ArgumentError, match="-a user: not a profile slug"):
        LinkedInSpider(user="no spaces please")
    assert LinkedInSpider(user="https://www.linkedin.com/in/Ada-Quill/").params.user == "ada-quill"
    with pytest.raises(ArgumentError, match="-a colour: unknown argument"):
        LinkedInSpider(export=str(EXPORT), colour="blue")
    with pytest.raises(ExportError, match="LinkedIn export not found"):
        LinkedInSpider(export=str(tmp_path / "missing.zip"))
    no_profile = tmp_path / "no-profile"
    (no_profile / "Articles" / "Articles").mkdir(parents=True)
    (no_profile / "Shares.csv").write_bytes((EXPORT / "Shares.csv").read_bytes())
    with pytest.raises(ExportError, match=r"names no member .*-a author="):
        LinkedInSpider(export=str(no_profile))
    assert LinkedInSpider(export=str(no_profile), author="Ada Quill").export.posts


@deferred_f_from_coro_f
async def test_seed_file_with_a_linkedin_export(
    settings: dict, mongo: MongoStore, export_zip: Path, tmp_path: Path
) -> None:
    seeds = tmp_path / "ada.yaml"
    seeds.write_text(f"author: Ada Quill\nlinks:\n  - linkedin_export: {export_zip.name}\n")
    result = await run_spider("seeds", settings, file=str(seeds))
    assert result.stats["finish_reason"] == "finished"
    assert mongo.count_documents() == {"articles": 1, "posts": 3, "repositories": 0}
    assert {d["author_full_name"] for d in mongo.iter_documents()} == {"Ada Quill"}


def test_an_oversized_member_is_refused_by_its_real_size(
    export_zip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("twin_scraper.extract.linkedin.MAX_EXPORT_FILE_BYTES", 900)
    for export in (export_zip, EXPORT):
        with pytest.raises(ExportError, match=r"\.(csv|html) is too large to be a real one"):
            read_export(export)


# --- real export formats: 2025-2026 and 2018 (see each fixture's README) ---------------
EXPORT_2025 = TESTS_DIR / "fixtures" / "linkedin" / "export_2025"
EXPORT_2018 = TESTS_DIR / "fixtures" / "linkedin" / "export_2018"
# Bold letters as LinkedIn posts carry them (Unicode mathematical bold: WHAT, WHY, SURE).
WHAT, WHY, SURE = (
    "\U0001d5ea\U0001d5db\U0001d5d4\U0001d5e7",
    "\U0001d5ea\U0001d5db\U0001d5ec",
    ("\U0001d5e6\U0001d5e8\U0001d5e5\U0001d5d8"),
)
RETREAT = (
    "I'm off for a week-long baking retreat in the hills.\n\n"
    f"{WHAT}? Seven days of bread. No phone, laptop, or oven timer.\n"
    f'{WHY}? A friend called it "the best week of the year".\n'
    f"{SURE}? I've never been away from my starter for this long. Let's see!\n\n"
    "I've scheduled posts, so you'll still see stuff. But I won't be replying."
)


def test_a_2025_export_reads_posts_as_the_member_wrote_them() -> None:
    posts, problems = parse_shares((EXPORT_2025 / "Shares.csv").read_bytes())
    assert problems == []
    texts = [p.text for p in posts]
    assert texts[0] == RETREAT
    assert texts[1] == (
        "Here's my mid-year baking bingo:\n\n 1. Bake every day. 183/183 so far!\n"
        " 2. Teach 50 people to shape a loaf. At 31/50\n\nHow are your goals going?"
    )
    assert texts[2].startswith('"Is rye flour really that different?" a baker asked')
    assert texts[2].endswith('I wrote up the details "for the impatient".')
    assert texts[3] == '"Bread is a clock you can eat." \u2014 my grandmother'
    assert texts[4:] == ["", "Proofed."]
    for text in texts:  # no export quoting left anywhere
        assert '"\n"' not in text and '\n""\n' not in text and not text.endswith('"\n')
    assert posts[2].urn == "urn:li:groupPost:9015002-7342411010995081217"
    assert posts[1].shared_url == "https://ada.example/posts/bingo/" and posts[0].shared_url is None


def test_a_2018_export_in_utf16_with_tabs_and_spaced_columns() -> None:
    data = (EXPORT_2018 / "Shares.csv").read_bytes()
    assert data.startswith(b"\xff\xfe") and b"\t\x00" in data  # the fixture is the real form
    posts, problems = parse_shares(data)
    assert problems == []
    assert [p.text for p in posts] == [
        "Our bakery turns ten today.\n\n"
        "Thank you to every early riser who ever queued in the rain.",
        'New post on the blog: why I "feed" my starter by smell.',
        "",
    ]
    assert posts[0].published_at == datetime(2018, 10, 30, 14, 22, 17, tzinfo=UTC)
    assert posts[0].urn == "urn:li:activity:6462000000000000001"
    assert posts[1].shared_url == "https://ada.example/posts/starter/"
    assert posts[0].visibility is None  # a column 2018 exports did not have
    export = parse_export(read_export(EXPORT_2018), str(EXPORT_2018))
    assert export.author == "Ada Quill"
    published, draft = sorted(export.articles, key=lambda a: a.url is None)
    assert published.url == "https://www.linkedin.com/pulse/ten-years-early-mornings-ada-quill"
    assert published.published_at == datetime(2018, 3, 2, 10, 15, tzinfo=UTC)
    assert "```\nlevain 100 g\nwater  350 g\n```" in published.markdown
    assert draft.url is None  # "Not published yet", its title linking to the editor


def test_unknown_columns_are_named_without_nul_characters() -> None:
    header = "Datum\tLink\tText\r\n2018-01-01\thttps://www.linkedin.com/feed/\thi\r\n"
    data = b"\xff\xfe" + header.encode("utf-16-le")
    with pytest.raises(ExportError) as caught:
        parse_shares(data)
    message = str(caught.value)
    assert "\x00" not in message
    assert message.endswith("(found: Datum, Link, Text)")
    assert "lacks the column(s) Date, ShareLink, ShareCommentary" in message


def test_an_unreadable_shares_csv_is_reported_and_the_articles_still_read(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "Articles").mkdir(parents=True)
    for page in (EXPORT_2018 / "Articles").iterdir():
        (export / "Articles" / page.name).write_bytes(page.read_bytes())
    (export / "Shares.csv").write_text("Datum,Link\n2018-01-01,https://x.example/\n")
    parsed = parse_export(read_export(export), str(export))
    assert len(parsed.articles) == 2 and parsed.posts == []
    ((where, why),) = parsed.problems
    assert where == "Shares.csv" and "found: Datum, Link" in why


@pytest.mark.parametrize(
    ("folder", "posts", "articles"),
    [(EXPORT_2025, 5, 1), (EXPORT_2018, 2, 1)],
    ids=["2025", "2018"],
)
@deferred_f_from_coro_f
async def test_scrapy_crawl_linkedin_reads_both_generations(
    settings: dict, mongo: MongoStore, tmp_path: Path, folder: Path, posts: int, articles: int
) -> None:
    export_zip = zip_export(folder, tmp_path / "Complete_LinkedInDataExport.zip")
    result = await run_spider("linkedin", settings, export=str(export_zip))
    assert result.stats["finish_reason"] == "finished"
    assert mongo.count_documents() == {"articles": articles, "posts": posts, "repositories": 0}
    docs = list(mongo.iter_documents())
    assert {d["author_full_name"] for d in docs} == {"Ada Quill"}
    everything = "\n".join(d["content"] for d in docs)
    assert '"\n"' not in everything and "\x00" not in everything and "DRAFT-TEXT" not in everything
    (run,) = mongo.latest_runs(1)
    reasons = {r for domain in run["domains"] for r in domain["reasons"]}
    assert reasons == {"no text of the author's (a reshare or media alone)"} | (
        {"an unpublished draft (no public URL in the export)"} if folder == EXPORT_2018 else set()
    )
    if folder == EXPORT_2025:
        # A 25-word article and a one-word post are the member's writing: kept, not "empty".
        (article,) = [d for d in docs if d["category"] == "articles"]
        assert article["word_count"] < 40 and article["title"] == "Twenty minutes of rye"
        assert any(d["content"] == "Proofed." for d in docs)
        retreat = next(d for d in docs if d["content"].startswith("I'm off"))
        assert retreat["content"] == RETREAT
