"""Seed files: a valid batch, or one clear error naming the file and the cause."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin_scraper.seeds import (
    LinkKind,
    SeedBatch,
    SeedFileError,
    SeedLink,
    load_seed_file,
    parse_seeds,
)

REPO = Path(__file__).parent.parent


def test_own_shape_with_sites_and_limits() -> None:
    batch = parse_seeds(
        """
author: "  Ada   Quill "
links:
  - https://ada.example/posts/one/
  - https://ada.example/posts/one/?utm_source=x   # same page: kept once
  - site: https://blog.example/
    limit: 20
  - url: https://other.example/
"""
    )
    assert batch.author == "Ada Quill"
    assert [(link.url, link.kind, link.limit) for link in batch.links] == [
        ("https://ada.example/posts/one/", LinkKind.AUTO, None),
        ("https://blog.example/", LinkKind.SITE, 20),
        ("https://other.example/", LinkKind.PAGE, None),
    ]


def test_llm_engineers_handbook_shape_is_accepted_unchanged() -> None:
    batch = parse_seeds(
        """
settings:
  docker:
    parent_image: something
parameters:
  user_full_name: Paul Iusztin # [First Name(s)] [Last Name]
  links:
    # Personal Blog
    - https://www.pauliusztin.me/posts/llm-twin
    - https://medium.com/decodingml/an-end-to-end-framework
"""
    )
    assert batch.author == "Paul Iusztin"
    assert len(batch.links) == 2


def test_shipped_example_seed_file_is_valid() -> None:
    batch = load_seed_file(REPO / "seeds" / "example.yaml")
    assert batch.author and batch.links


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("author: [unclosed", "is not valid YAML (line 1"),
        ("- just\n- a list\n", "must be a mapping"),
        ("", "must be a mapping with `author:`"),
        ("links: [https://a.example/x]", "`author` must name the author"),
        ("author: '   '\nlinks: [https://a.example/x]", "`author` must name the author"),
        ("parameters: {links: [https://a.example/x]}", "`parameters.user_full_name` must name"),
        ("parameters: [1]", "`parameters` must be a mapping"),
        ("author: Ada\nlinks: https://a.example/x", "`links` must be a non-empty list"),
        ("author: Ada\nlinks: []", "`links` must be a non-empty list"),
        ("author: Ada\nlinks: [not-a-url, 'ftp://x.example/y']", "link 1: not an http(s) URL"),
        ("author: Ada\nlinks: [42]", "link 1: expected a URL or a mapping, got a int"),
        (
            "author: Ada\nlinks: [{url: https://a.example/, site: https://a.example/}]",
            "exactly one",
        ),
        (
            "author: Ada\nlinks: [{site: https://a.example/, limit: 0}]",
            "`limit` must be a positive",
        ),
        ("author: Ada\nlinks: [{site: https://a.example/, depth: 3}]", "unknown keys ['depth']"),
    ],
)
def test_each_seed_file_error_names_the_cause(text: str, message: str) -> None:
    with pytest.raises(SeedFileError) as error:
        parse_seeds(text, "seeds/bad.yaml")
    assert message in str(error.value)
    assert "seeds/bad.yaml" in str(error.value)


def test_every_bad_link_is_listed_at_once() -> None:
    with pytest.raises(SeedFileError) as error:
        parse_seeds("author: Ada\nlinks: [https://ok.example/a, nope, https://ok.example/b, 'x y']")
    assert "link 2:" in str(error.value) and "link 4:" in str(error.value)


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match=r"seed file not found: .*missing\.yaml"):
        load_seed_file(tmp_path / "missing.yaml")
    with pytest.raises(SeedFileError, match="is a directory"):
        load_seed_file(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(SeedFileError, match="not UTF-8"):
        load_seed_file(binary)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_batch_or_a_seed_file_error(text: str) -> None:
    try:
        batch = parse_seeds(text)
    except SeedFileError:
        return
    assert isinstance(batch, SeedBatch) and batch.links


def test_every_registered_platform_route_is_a_seeds_spider_method() -> None:
    from twin_scraper.platforms import ARTICLE, EXTRACTORS, PLATFORMS
    from twin_scraper.spiders.seeds import SeedsSpider

    for platform in [ARTICLE, *PLATFORMS, *EXTRACTORS.values()]:
        assert callable(getattr(SeedsSpider, platform.route, None)), platform.name


def test_linkedin_export_entries_are_paths_next_to_the_seed_file(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "linkedin.zip").write_bytes(b"")
    seeds = tmp_path / "ada.yaml"
    seeds.write_text(
        "author: Ada Quill\nlinks:\n  - https://ada.example/\n"
        "  - linkedin_export: exports/linkedin.zip\n"
    )
    batch = load_seed_file(seeds)
    assert batch.links[1] == SeedLink(
        url=str(tmp_path / "exports" / "linkedin.zip"), kind=LinkKind.LINKEDIN_EXPORT
    )
    for entry, message in [
        ("{linkedin_export: exports/missing.zip}", "link 1: LinkedIn export not found: "),
        ("{linkedin_export: ''}", "link 1: expected a file path"),
        ("{linkedin_export: exports/linkedin.zip, limit: 3}", "takes the export's path"),
    ]:
        with pytest.raises(SeedFileError) as error:
            parse_seeds(f"author: Ada\nlinks: [{entry}]", str(seeds), base_dir=tmp_path)
        assert message in str(error.value)


# --- Medium and Substack behind an author's own domain --------------------------------
def test_the_platform_of_a_custom_domain_is_told_by_its_markup() -> None:
    from twin_scraper.platforms import MEDIUM, SUBSTACK, detect_platform

    fixtures = Path(__file__).parent / "fixtures" / "extract"
    medium = (fixtures / "medium" / "legacy_graf_custom_domain" / "page.html").read_text()
    assert detect_platform(medium) is MEDIUM  # a real 2016 story on blog.quill.dev
    real_2015 = fixtures / "medium" / "readability_medium_2015" / "page.html"
    assert detect_platform(real_2015.read_text()) is MEDIUM  # a real page, unmodified
    from tests.substack_mock import HOME_PAGE

    assert detect_platform(HOME_PAGE) is SUBSTACK
    blog = (Path(__file__).parent / "site" / "articles" / "plain-essay" / "index.html").read_text()
    assert detect_platform(blog) is None
    # An article that merely names the platforms is not served by them.
    assert detect_platform("<p>I moved from Medium (medium.com) to Substack.</p>") is None
