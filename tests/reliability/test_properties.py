"""Properties over any input: the URL canonicaliser is idempotent and never raises; the
seed-file parser gives a valid batch or a SeedFileError, never another exception."""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_scraper.seeds import SeedBatch, SeedFileError, parse_seeds
from twin_scraper.urls import canonicalize_url, is_http_url

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

URL_CHARS = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=% " + "éü中\x00\t"
hosts = st.one_of(
    st.from_regex(r"[a-zA-Z0-9.-]{1,20}", fullmatch=True),
    st.sampled_from(["[::1]", "[2001:db8::1]", "127.0.0.1", "xn--bcher-kva.example", "bücher.de"]),
    st.text(URL_CHARS, max_size=12),
)
urls = st.one_of(
    st.text(),
    st.text(URL_CHARS, max_size=80),
    st.builds(
        lambda scheme, user, host, port, path, query, fragment: (
            f"{scheme}://{user}{host}{port}{path}{query}{fragment}"
        ),
        st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript"]),
        st.sampled_from(["", "user@", "u:p@", "@"]),
        hosts,
        st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]),
        st.text(URL_CHARS, max_size=30).map(lambda p: "/" + p),
        st.lists(
            st.tuples(
                st.sampled_from(["utm_source", "a", "b", "fbclid", "q", "", "%75tm_x"]),
                st.text(URL_CHARS, max_size=8),
            ),
            max_size=4,
        ).map(lambda pairs: ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""),
        st.sampled_from(["", "#", "#frag", "#a?b"]),
    ),
)


@FAST
@given(urls)
def test_canonicalize_url_is_idempotent_and_never_raises(url: str) -> None:
    once = canonicalize_url(url)
    assert isinstance(once, str)
    assert canonicalize_url(once) == once


well_formed = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}{path}{query}{fragment}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\.[a-z]{2,5}", fullmatch=True),
    st.text(string.ascii_letters + string.digits + "-._~/%", max_size=30).map(lambda p: "/" + p),
    st.lists(
        st.tuples(
            st.sampled_from(["utm_source", "a", "fbclid", "q", "UTM_Medium"]),
            st.text(string.ascii_letters + string.digits, max_size=6),
        ),
        max_size=4,
    ).map(lambda pairs: ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""),
    st.sampled_from(["", "#", "#frag"]),
)


@FAST
@given(well_formed)
def test_canonical_urls_drop_fragments_and_tracking(url: str) -> None:
    canonical = canonicalize_url(url)
    assert is_http_url(canonical) and "#" not in canonical
    assert "utm_" not in canonical.lower() and "fbclid" not in canonical


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**20),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    urls,
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["url", "site", "limit", "links", "author"]), st.text(max_size=5)
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
seed_documents = st.fixed_dictionaries(
    {},
    optional={
        "author": st.one_of(st.text(max_size=15), yaml_scalars),
        "links": st.one_of(
            st.lists(
                st.one_of(
                    urls,
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "url": urls,
                            "site": urls,
                            "limit": yaml_scalars,
                            "extra": yaml_scalars,
                        },
                    ),
                ),
                max_size=5,
            ),
            yaml_values,
        ),
        "parameters": yaml_values,
    },
)


def check_parse(text: str) -> None:
    try:
        batch = parse_seeds(text, "prop.yaml")
    except SeedFileError as exc:
        assert "prop.yaml" in str(exc)
        return
    assert isinstance(batch, SeedBatch)
    assert batch.author.strip() and batch.links
    assert all(is_http_url(link.url) for link in batch.links)


@FAST
@given(st.text())
def test_seed_parser_gives_a_batch_or_a_seed_file_error_for_any_text(text: str) -> None:
    check_parse(text)


@FAST
@given(seed_documents)
def test_seed_parser_gives_a_batch_or_a_seed_file_error_for_any_structure(data: dict) -> None:
    check_parse(yaml.safe_dump(data, allow_unicode=True))


@FAST
@given(
    st.lists(
        st.sampled_from(
            [
                "[",
                "{",
                "- ",
                ": ",
                "&a ",
                "*a ",
                "!!python/object ",
                "\n",
                "  ",
                "author",
                "links",
                "%YAML 9\n",
                "---\n",
                '"',
                "\t",
            ]
        ),
        max_size=30,
    )
)
def test_seed_parser_survives_yaml_syntax_soup(parts: list[str]) -> None:
    check_parse("".join(parts))
