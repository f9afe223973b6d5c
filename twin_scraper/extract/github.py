"""GitHub: links, API answers and a repository's files turned into Document fields.

Pure functions, no Scrapy or git here: the spider fetches (API) and clones
(`twin_scraper.gitrepo`), these decide what a link means, what the API said and which
files of a tree are the author's text worth keeping.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pathspec import GitIgnoreSpec

from twin_scraper.gitrepo import SUBMODULE_MODE, SYMLINK_MODE, TreeEntry
from twin_scraper.items import Category
from twin_scraper.urls import canonicalize_url

EXTRACTOR_NAME = "github"
EXTRACTOR_VERSION = "1"

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
#: First path segments of github.com that are pages, not users.
RESERVED = frozenset(
    "about apps collections contact customer-stories enterprise events explore features "
    "issues login marketplace new notifications orgs organizations pricing pulls search "
    "security settings site sponsors topics trending join logout readme".split()
)


def valid_login(value: str) -> bool:
    return bool(_LOGIN.match(value))


def valid_full_name(value: str) -> bool:
    owner, _, name = value.partition("/")
    return valid_login(owner) and bool(_REPO_NAME.match(name)) and name not in {".", ".."}


def parse_github_link(url: str) -> tuple[str, str] | None:
    """("user", LOGIN) for a profile link, ("repo", "OWNER/NAME") for a repository link
    (any page under it, a `.git` clone URL too), None for anything else."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if not parts or parts[0].lower() in RESERVED or not valid_login(parts[0]):
        return None
    if len(parts) == 1:
        return "user", parts[0]
    full_name = f"{parts[0]}/{parts[1].removesuffix('.git')}"
    return ("repo", full_name) if valid_full_name(full_name) else None


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


def next_page(link_header: str | None) -> str | None:
    """The `rel="next"` URL of a GitHub `Link` header."""
    for url, rels in _LINK.findall(link_header or ""):
        if "next" in rels.split():
            return url
    return None


@dataclass(frozen=True)
class RateLimit:
    wait: float  # seconds until requests are allowed again
    resets_at: datetime


def rate_limited(status: int, headers: dict[str, str], now: datetime) -> RateLimit | None:
    """How long to wait when a 403/429 answer is GitHub's rate limit (primary: remaining
    0 and a reset time; secondary: Retry-After), None when it is another refusal."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after", "").strip()
    if retry_after:
        if retry_after.isdigit():
            wait = float(retry_after)
        else:
            try:
                wait = (parsedate_to_datetime(retry_after) - now).total_seconds()
            except (TypeError, ValueError):
                wait = 60.0
        wait = max(wait, 1.0)
        return RateLimit(wait, now + timedelta(seconds=wait))
    if headers.get("x-ratelimit-remaining", "").strip() == "0":
        reset = headers.get("x-ratelimit-reset", "").strip()
        if reset.isdigit():
            resets_at = datetime.fromtimestamp(int(reset), UTC)
            return RateLimit(max((resets_at - now).total_seconds(), 0.0) + 1.0, resets_at)
        return RateLimit(60.0, now + timedelta(seconds=60))
    if status == 429:
        return RateLimit(60.0, now + timedelta(seconds=60))
    return None


# --- files ------------------------------------------------------------------------------
LANGUAGES = {
    "py": "Python", "pyi": "Python", "js": "JavaScript", "mjs": "JavaScript",
    "cjs": "JavaScript", "jsx": "JavaScript", "ts": "TypeScript", "tsx": "TypeScript",
    "go": "Go", "rs": "Rust", "java": "Java", "kt": "Kotlin", "kts": "Kotlin",
    "scala": "Scala", "c": "C", "h": "C", "cc": "C++", "cpp": "C++", "cxx": "C++",
    "hpp": "C++", "hh": "C++", "cs": "C#", "fs": "F#", "rb": "Ruby", "php": "PHP",
    "swift": "Swift", "m": "Objective-C", "sh": "Shell", "bash": "Shell", "zsh": "Shell",
    "fish": "Shell", "ps1": "PowerShell", "r": "R", "jl": "Julia", "lua": "Lua",
    "pl": "Perl", "pm": "Perl", "hs": "Haskell", "ml": "OCaml", "ex": "Elixir",
    "exs": "Elixir", "erl": "Erlang", "clj": "Clojure", "dart": "Dart", "zig": "Zig",
    "nim": "Nim", "sql": "SQL", "html": "HTML", "htm": "HTML", "css": "CSS", "scss": "SCSS",
    "vue": "Vue", "svelte": "Svelte", "el": "Emacs Lisp", "vim": "Vim Script",
    "tex": "TeX", "ipynb": "Jupyter Notebook",
    "md": "Markdown", "markdown": "Markdown", "rst": "reStructuredText", "adoc": "AsciiDoc",
    "org": "Org", "txt": "Text",
    "json": "JSON", "yaml": "YAML", "yml": "YAML", "toml": "TOML", "xml": "XML",
    "ini": "INI", "cfg": "INI", "csv": "CSV",
}  # fmt: skip
FILENAMES = {"dockerfile": "Dockerfile", "makefile": "Makefile", "cmakelists.txt": "CMake"}
DOC_LANGUAGES = frozenset({"Markdown", "reStructuredText", "AsciiDoc", "Org", "Text"})
DATA_LANGUAGES = frozenset({"JSON", "YAML", "TOML", "XML", "INI", "CSV", "Jupyter Notebook"})


def language_of(path: str) -> str | None:
    name = posixpath.basename(path).lower()
    if name in FILENAMES:
        return FILENAMES[name]
    _, dot, ext = name.rpartition(".")
    return LANGUAGES.get(ext) if dot else None


def file_kind(path: str, language: str | None) -> str:
    """docs (prose: embedded as text), code (embedded along definitions), other (kept,
    not embedded: data, configuration, licences, unknown types)."""
    if language in DOC_LANGUAGES:
        top = path.split("/", 1)[0].lower()
        is_docs = "/" not in path or top in {"doc", "docs", "documentation"}
        return "docs" if is_docs or language != "Text" else "other"
    if language is None or language in DATA_LANGUAGES:
        return "other"
    return "code"


def is_readme(path: str) -> bool:
    name = path.lower()
    return "/" not in name and (name == "readme" or name.startswith("readme."))


_GENERATED = re.compile(
    rb"code generated .{0,200}do not edit|@generated\b|auto-?generated (?:by|file)", re.I
)
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"


def text_problem(data: bytes) -> str | None:
    """Why a blob is not a text file worth keeping, or None."""
    if data.startswith(_LFS_POINTER) and len(data) < 1024:
        return "LFS pointer (content not fetched)"
    if b"\0" in data[:8000]:
        return "binary"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if _GENERATED.search(data[:2000]):
        return "generated"
    if len(text) > 2000 and len(text) / (text.count("\n") + 1) > 500:
        return "minified"
    return None


@dataclass
class RepoFiles:
    """What a tree gave: the kept text files, and every other entry with its reason."""

    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    text_bytes: int = 0
    truncated: bool = False

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append({"path": path, "reason": reason})


class Ignorer:
    """The configured ignore list plus every `.gitignore` of the tree, each applied to
    the paths under its directory; the deepest decision wins, as in git."""

    def __init__(self, patterns: Iterable[str], gitignores: dict[str, bytes]) -> None:
        self.configured = GitIgnoreSpec.from_lines(list(patterns))
        self.gitignores = {
            directory: GitIgnoreSpec.from_lines(data.decode("utf-8", "replace").splitlines())
            for directory, data in gitignores.items()
        }

    def reason(self, path: str) -> str | None:
        if self.configured.match_file(path):
            return "ignore list (lockfile, vendored or generated)"
        ignored = None
        for directory, spec in sorted(self.gitignores.items(), key=lambda kv: len(kv[0])):
            if directory and not path.startswith(directory + "/"):
                continue
            result = spec.check_file(path[len(directory) + 1 :] if directory else path)
            if result.include is not None:
                ignored = result.include
        return "ignored by the repository's .gitignore" if ignored else None


def select_files(
    entries: list[TreeEntry],
    read: Callable[[str], bytes],
    ignore: Iterable[str],
    max_file_bytes: int,
    max_total_bytes: int,
) -> RepoFiles:
    """The text files of a tree, read blob by blob; everything left out gets a reason.
    Symlinks are never followed (their blob is only the target's name) and submodules
    never fetched."""
    result = RepoFiles()
    named: list[tuple[str, TreeEntry]] = []
    for entry in entries:
        try:
            path = entry.path.decode("utf-8")
        except UnicodeDecodeError:
            result.skip(entry.path.decode("utf-8", "replace"), "path not UTF-8")
            continue
        named.append((path, entry))
    gitignores = {
        posixpath.dirname(path): read(entry.sha)
        for path, entry in named
        if posixpath.basename(path) == ".gitignore"
        and entry.kind == "blob"
        and entry.mode != SYMLINK_MODE
        and (entry.size or 0) <= 1_000_000
    }
    ignorer = Ignorer(ignore, gitignores)
    for path, entry in named:
        if entry.mode == SYMLINK_MODE:
            result.skip(path, "symlink (not followed)")
            continue
        if entry.mode == SUBMODULE_MODE or entry.kind != "blob":
            result.skip(path, "submodule (not fetched)")
            continue
        reason = ignorer.reason(path)
        if reason:
            result.skip(path, reason)
            continue
        size = entry.size or 0
        if size > max_file_bytes:
            result.skip(path, f"larger than {max_file_bytes} bytes")
            continue
        if result.text_bytes + size > max_total_bytes:
            result.truncated = True
            result.skip(path, f"repository text over {max_total_bytes} bytes")
            continue
        data = read(entry.sha)
        problem = text_problem(data)
        if problem:
            result.skip(path, problem)
            continue
        language = language_of(path)
        result.text_bytes += len(data)
        result.files.append(
            {
                "path": path,
                "content": data.decode("utf-8"),
                "size": len(data),
                "sha": entry.sha,
                "language": language,
                "kind": file_kind(path, language),
            }
        )
    return result


def no_raw_page(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Re-extraction of a repository: there is no raw page, its files are stored as
    committed; a new crawl of a changed repository (new head commit) refreshes them."""
    raise ValueError("GitHub repositories have no raw page to re-extract")


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def repository_fields(
    repo: dict[str, Any],
    languages: dict[str, Any],
    head: str,
    tree: RepoFiles,
    author: str,
    max_skipped_listed: int = 500,
) -> dict[str, Any]:
    """A repository as Document fields: README as the content, metadata in `extra`, every
    kept file (byte-exact) in `files`."""
    readmes = sorted(
        (f for f in tree.files if is_readme(f["path"])),
        key=lambda f: (not f["path"].lower().endswith((".md", ".markdown")), f["path"]),
    )
    readme = readmes[0] if readmes else None
    license_info = repo.get("license") or {}
    reasons = Counter(s["reason"] for s in tree.skipped)
    html_url = repo["html_url"]
    return {
        "platform": "github",
        "category": Category.REPOSITORIES,
        "url": html_url,
        "canonical_url": canonicalize_url(html_url),
        "author_full_name": author,
        "byline": (repo.get("owner") or {}).get("login"),
        "title": repo.get("full_name"),
        "subtitle": repo.get("description") or None,
        "content": readme["content"] if readme else "",
        "published_at": _parse_date(repo.get("created_at")),
        "updated_at": _parse_date(repo.get("pushed_at")),
        "extractor": EXTRACTOR_NAME,
        "extractor_version": EXTRACTOR_VERSION,
        "truncated": tree.truncated,
        "authoritative": True,  # the README as committed
        "files": tree.files,
        "extra": {
            "name": repo.get("name"),
            "full_name": repo.get("full_name"),
            "description": repo.get("description"),
            "homepage": repo.get("homepage") or None,
            "default_branch": repo.get("default_branch"),
            "head_commit": head,
            "languages": [
                {"name": name, "bytes": count}
                for name, count in sorted(languages.items(), key=lambda kv: -int(kv[1]))
            ],
            "topics": list(repo.get("topics") or []),
            "stars": repo.get("stargazers_count", 0),
            "forks": repo.get("forks_count", 0),
            "license": license_info.get("spdx_id") or license_info.get("name"),
            "fork": bool(repo.get("fork")),
            "archived": bool(repo.get("archived")),
            "readme_path": readme["path"] if readme else None,
            "file_count": len(tree.files),
            "text_bytes": tree.text_bytes,
            "skipped_count": len(tree.skipped),
            "skipped_reasons": [{"reason": r, "count": n} for r, n in reasons.most_common()],
            "skipped": tree.skipped[:max_skipped_listed],
        },
    }
