"""URL canonicalisation: one identity per document whatever link led to it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin_scraper.urls import canonicalize_url, domain_of, is_http_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://WWW.Example.COM/Post/", "http://www.example.com/Post"),
        ("https://example.com/a/?utm_source=x&utm_medium=email#comments", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1&fbclid=zz&gclid=1", "https://example.com/a?a=1&b=2"),
        ("https://user:secret@example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://127.0.0.1:8080/posts/x/", "http://127.0.0.1:8080/posts/x"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_forms(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize("url", ["A:////0", "http:////x", ";/", "mailto:a@b", "x:"])
def test_hostless_urls_are_canonical_after_one_pass(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_variants_of_one_page_share_an_identity() -> None:
    variants = [
        "https://blog.example.com/posts/hello/",
        "https://BLOG.example.com/posts/hello",
        "https://blog.example.com/posts/hello/?utm_campaign=spring#intro",
        "https://blog.example.com:443/posts/hello?mc_cid=abc",
    ]
    assert len({canonicalize_url(v) for v in variants}) == 1


def test_domain_and_url_checks() -> None:
    assert domain_of("https://www.Example.com:8443/x") == "example.com"
    assert domain_of("not a url") == ""
    assert is_http_url("https://example.com/a")
    assert not is_http_url("ftp://example.com/a")
    assert not is_http_url("example.com/a")
    assert not is_http_url("http://[broken")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.from_regex(r"https?://[A-Za-z0-9.:@\[\]%/?#&=_~-]{0,60}")))
def test_canonicalize_is_idempotent_and_never_raises(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once
