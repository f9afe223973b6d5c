"""Seed files: which author, which links. Validated on load, so a batch either starts
whole or fails at once with a message naming the file and the bad entry.

Two shapes are accepted:

    author: Ada Quill                 # twin_scraper's own
    links:
      - https://ada.example/posts/sourdough/
      - site: https://ada.example/   # discover every post of this blog
        limit: 100
      - linkedin_export: exports/linkedin.zip   # the member's LinkedIn data export

    parameters:                       # LLM-Engineers-Handbook's, unchanged
      user_full_name: Paul Iusztin
      links: [https://..., ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from twin_scraper.items import full_name
from twin_scraper.params import MAX_LIMIT
from twin_scraper.urls import canonicalize_url, is_http_url, strip_credentials

#: A seed file is a list of links: 10 MB is tens of thousands of them. Larger files are
#: refused before they are read (YAML takes minutes and gigabytes over 100 MB).
MAX_SEED_FILE_BYTES = 10_000_000


class SeedFileError(ValueError):
    """A seed file that cannot be used; the message says which file and why."""


class LinkKind(StrEnum):
    AUTO = "auto"  # a page, or a site when the URL is a site's root
    SITE = "site"  # discover every post of the site
    PAGE = "page"  # exactly this page
    LINKEDIN_EXPORT = "linkedin_export"  # a LinkedIn data export (url holds its path)


@dataclass(frozen=True)
class SeedLink:
    url: str
    kind: LinkKind = LinkKind.AUTO
    limit: int | None = None


@dataclass(frozen=True)
class SeedBatch:
    author: str | None  # None: each platform's own (a byline, a profile's name)
    links: tuple[SeedLink, ...]
    source: str


def url_batch(urls: list[str], author: str | None = None, limit: int | None = None) -> SeedBatch:
    """Links given without a seed file (`twin crawl URL...`), routed like a seed file's."""
    links = {canonicalize_url(u): SeedLink(u.strip(), limit=limit) for u in urls}
    return SeedBatch(author=author, links=tuple(links.values()), source="-a url")


def load_seed_file(path: str | Path) -> SeedBatch:
    """Read and validate a seed file. Parsed once per process while it is unchanged:
    `twin crawl` validates it, then its seeds spider takes the same batch."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SeedFileError(f"seed file not found: {path}") from None
    except OSError as exc:
        raise SeedFileError(f"cannot read seed file {path}: {exc.strerror}") from None
    if path.is_dir():
        raise SeedFileError(f"seed file is a directory, not a file: {path}")
    if info.st_size > MAX_SEED_FILE_BYTES:
        raise SeedFileError(_too_big(str(path), info.st_size))
    return _load(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, size: int) -> SeedBatch:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SeedFileError(f"seed file {path} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise SeedFileError(f"cannot read seed file {path}: {exc.strerror}") from None
    return parse_seeds(text, path, base_dir=Path(path).parent)


def _too_big(source: str, size: int) -> str:
    return (
        f"seed file {source} is {size / 1e6:.1f} MB, over the {MAX_SEED_FILE_BYTES // 1_000_000} "
        "MB a seed file may be: split it into several files"
    )


def parse_seeds(text: str, source: str = "<seeds>", base_dir: Path | None = None) -> SeedBatch:
    """Parse seed-file text; raises SeedFileError, never anything else. Relative file
    paths in it are taken from `base_dir` (the seed file's folder)."""
    if len(text) > MAX_SEED_FILE_BYTES:
        raise SeedFileError(_too_big(source, len(text.encode("utf-8"))))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SeedFileError(f"seed file {source} is not valid YAML{where}: {problem}") from None
    except (ValueError, RecursionError) as exc:
        raise SeedFileError(f"seed file {source} cannot be parsed: {exc}") from None
    if not isinstance(data, dict):
        raise SeedFileError(
            f"seed file {source} must be a mapping with `author:` and `links:` "
            f"(or `parameters: {{user_full_name, links}}`), got {_kind(data)}"
        )
    body: dict[Any, Any] = data
    if "parameters" in data and "author" not in data:
        if not isinstance(data["parameters"], dict):
            raise SeedFileError(f"seed file {source}: `parameters` must be a mapping")
        body = data["parameters"]
        author = body.get("user_full_name")
        author_key = "parameters.user_full_name"
    else:
        author = data.get("author")
        author_key = "author"
    if not isinstance(author, str) or not author.split():
        raise SeedFileError(
            f"seed file {source}: `{author_key}` must name the author (one or more words)"
        )
    raw_links = body.get("links")
    if not isinstance(raw_links, list) or not raw_links:
        raise SeedFileError(f"seed file {source}: `links` must be a non-empty list of URLs")
    links: list[SeedLink] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw_links, start=1):
        try:
            link = _parse_link(entry, base_dir)
        except ValueError as exc:
            errors.append(f"link {index}: {exc}")
            continue
        key = canonicalize_url(link.url)
        if key not in seen:
            seen.add(key)
            links.append(link)
    if errors:
        raise SeedFileError(f"seed file {source} has invalid links: " + "; ".join(errors))
    return SeedBatch(author=full_name(author), links=tuple(links), source=source)


def _parse_link(entry: Any, base_dir: Path | None = None) -> SeedLink:
    if isinstance(entry, str):
        return SeedLink(url=_check_url(entry))
    if isinstance(entry, dict) and "linkedin_export" in entry:
        if len(entry) != 1:
            raise ValueError("`linkedin_export:` takes the export's path and nothing else")
        path = _check_path(entry["linkedin_export"], base_dir)
        return SeedLink(url=path, kind=LinkKind.LINKEDIN_EXPORT)
    if isinstance(entry, dict):
        unknown = set(entry) - {"url", "site", "limit"}
        if unknown:
            raise ValueError(
                f"unknown keys {sorted(map(str, unknown))} (use url, site, limit, "
                "or linkedin_export)"
            )
        if ("url" in entry) == ("site" in entry):
            raise ValueError("give exactly one of `url:` or `site:`")
        kind = LinkKind.SITE if "site" in entry else LinkKind.PAGE
        url = _check_url(entry.get("site", entry.get("url")))
        limit = entry.get("limit")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT
        ):
            raise ValueError(
                f"`limit` must be a positive whole number (at most {MAX_LIMIT}), "
                f"got {str(limit)[:40]}"
            )
        return SeedLink(url=url, kind=kind, limit=limit)
    raise ValueError(f"expected a URL or a mapping, got {_kind(entry)}")


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a URL, got {_kind(value)}")
    if not is_http_url(value):
        raise ValueError(f"not an http(s) URL: {strip_credentials(value.strip())[:200]!r}")
    return strip_credentials(value.strip())  # a password in a URL would be logged and stored


def _check_path(value: Any, base_dir: Path | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a file path, got {_kind(value)}")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise ValueError(f"LinkedIn export not found: {path}")
    return str(path)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
