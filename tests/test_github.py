"""The GitHub spider end to end: real git repositories made here and served over smart
HTTP on 127.0.0.1, a mock GitHub API with pagination and rate limits, documents and files
in MongoDB (nx-27017 through pymongo), chunks in Qdrant (local mode)."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import run_spider
from tests.gitserver import GitServer, MockGitHub, Served
from twin_scraper.config import StoreConfig
from twin_scraper.spiders.github import GitHubSpider
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.urls import canonicalize_url

TOKEN = "ghp_test_token_never_logged_4711"


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    server = GitServer(tmp_path / "git")
    yield server
    server.stop()


@pytest.fixture
def api() -> Iterator[MockGitHub]:
    server = MockGitHub()
    yield server
    server.stop()


@pytest.fixture
def gh_settings(settings: dict, git_server: GitServer, api: MockGitHub) -> dict[str, Any]:
    return {
        **settings,
        "GITHUB_API_URL": api.base,
        "GITHUB_CLONE_URL": git_server.base,
        "GITHUB_TOKEN": "",
        "GITHUB_MAX_FILE_BYTES": 1_000_000,
        "EMBED_ENABLED": False,
    }


def repo_json(git_server: GitServer, full_name: str, **fields: Any) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner},
        "html_url": f"{git_server.base}/{full_name}",
        "description": f"The {name} repository",
        "homepage": "",
        "default_branch": "main",
        "fork": False,
        "archived": False,
        "size": 12,
        "stargazers_count": 7,
        "forks_count": 1,
        "topics": ["tools", "python"],
        "license": {"spdx_id": "MIT", "name": "MIT License"},
        "created_at": "2024-01-02T03:04:05Z",
        "pushed_at": "2026-11-01T10:00:00Z",
        **fields,
    }


def serve_user(api: MockGitHub, login: str, name: str | None = "Ada Quill") -> None:
    api.routes[f"/users/{login}"] = [(200, {}, {"login": login, "name": name})]


def serve_repo(api: MockGitHub, data: dict[str, Any]) -> None:
    api.routes[f"/repos/{data['full_name']}"] = [(200, {}, data)]
    api.routes[f"/repos/{data['full_name']}/languages"] = [(200, {}, {"Python": 900, "Shell": 40})]


def stored_files(mongo: MongoStore, url: str) -> dict[str, str]:
    doc = mongo.db.repositories.find_one({"canonical_url": canonicalize_url(url)})
    assert doc is not None, url
    return {f["path"]: f["content"] for f in mongo.repository_files(doc["_id"])}


def tree_bytes(served: Served) -> dict[str, bytes]:
    """Every regular file committed in the work tree, by path."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "-s"], cwd=served.work, capture_output=True, check=True
    ).stdout
    files = {}
    for record in filter(None, out.split(b"\0")):
        meta, _, path = record.partition(b"\t")
        if not meta.startswith(b"120000"):
            files[path.decode()] = (served.work / path.decode()).read_bytes()
    return files


TOOLS_APP = '''"""A small tool."""

import os
import sys

LIMIT = 10


# The loader reads configuration.
@decorated
def load(path):
\twith open(path) as handle:   
\t\treturn handle.read()


class Runner:
    """Runs things."""

    def run(self):
        return 1

    def stop(self):
        return 0


if __name__ == "__main__":
    sys.exit(Runner().run())
'''  # noqa: W291 (tabs and trailing spaces are part of the test)


def make_tools(git_server: GitServer) -> Served:
    tools = git_server.create("ada/tools")
    tools.commit(
        {
            "README.md": "# Tools\n\nSmall tools for  *everyday*  work.\n\n    indented code\n",
            "src/app.py": TOOLS_APP,
            "src/crlf.js": "function a() {\r\n  return 1;\r\n}\r\n\r\nfunction b() {}",
            "docs/guide.md": "# Guide\n\nHow to run the tools, step by step.\n",
            "LICENSE": "MIT License\n",
        }
    )
    return tools


@deferred_f_from_coro_f
async def test_user_repositories_are_listed_cloned_stored_exactly_and_embedded(
    gh_settings: dict,
    git_server: GitServer,
    api: MockGitHub,
    mongo: MongoStore,
    store_config: StoreConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tools = make_tools(git_server)
    notes = git_server.create("ada/notes")
    notes.commit({"README.rst": "Notes\n=====\n\nThoughts on  spacing.\n", "a.txt": "x\n"})
    fork = git_server.create("ada/forked")
    fork.commit({"README.md": "someone else's\n"})
    serve_user(api, "ada")
    page2 = f"{api.base}/users/ada/repos-page-2"
    api.routes["/users/ada/repos"] = [
        (
            200,
            {"Link": f'<{page2}>; rel="next", <{page2}>; rel="last"'},
            [repo_json(git_server, "ada/tools"), repo_json(git_server, "ada/forked", fork=True)],
        )
    ]
    api.routes["/users/ada/repos-page-2"] = [(200, {}, [repo_json(git_server, "ada/notes")])]
    for name in ("ada/tools", "ada/notes", "ada/forked"):
        serve_repo(api, repo_json(git_server, name))

    caplog.set_level(logging.DEBUG)
    result = await run_spider(
        GitHubSpider, {**gh_settings, "EMBED_ENABLED": True, "GITHUB_TOKEN": TOKEN}, user="ada"
    )

    assert result.stats["finish_reason"] == "finished"
    assert {item.title for item in result.items} == {"ada/tools", "ada/notes"}  # no fork
    assert git_server.fetches("ada/forked") == 0
    assert api.hits("/users/ada/repos-page-2") == 1
    # The token goes to the API, and nowhere else: not to git, not into the log.
    assert all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in api.requests)
    assert not any("Authorization" in r["headers"] for r in git_server.requests)
    assert TOKEN not in caplog.text

    doc = mongo.db.repositories.find_one({"title": "ada/tools"})
    assert doc["platform"] == "github" and doc["category"] == "repositories"
    assert doc["author_full_name"] == "Ada Quill" and doc["byline"] == "ada"
    assert doc["url"] == f"{git_server.base}/ada/tools"
    assert doc["subtitle"] == "The tools repository"
    assert doc["content"] == tools.work.joinpath("README.md").read_text()  # exact
    extra = doc["extra"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tools.work, capture_output=True, text=True
    ).stdout.strip()
    assert extra["head_commit"] == head and extra["default_branch"] == "main"
    assert extra["languages"] == [{"name": "Python", "bytes": 900}, {"name": "Shell", "bytes": 40}]
    assert extra["topics"] == ["tools", "python"] and extra["stars"] == 7
    assert extra["license"] == "MIT" and extra["readme_path"] == "README.md"
    assert doc["published_at"].year == 2024 and doc["embed"]["status"] == "done"

    files = stored_files(mongo, f"{git_server.base}/ada/tools")
    assert {p: c.encode() for p, c in files.items()} == tree_bytes(tools)  # byte-exact
    notes_files = stored_files(mongo, f"{git_server.base}/ada/notes")
    assert notes_files["README.rst"] == "Notes\n=====\n\nThoughts on  spacing.\n"

    run = mongo.latest_runs(1)[0]
    assert run["totals"]["new"] == 2 and run["totals"]["failed"] == 0
    assert run["totals"]["skipped"] == 1  # the fork

    points = [p.payload for p in qdrant_payloads(store_config) if p.payload["doc_id"] == doc["_id"]]
    assert len(points) == doc["embed"]["chunks"]
    by_path: dict[str, list[dict]] = {}
    for payload in points:
        by_path.setdefault(payload.get("path"), []).append(payload)
    assert set(by_path) == {"README.md", "src/app.py", "src/crlf.js", "docs/guide.md"}
    assert {p["language"] for p in by_path["src/app.py"]} == {"Python"}
    code = sorted(by_path["src/app.py"], key=lambda p: p["start_line"])
    assert "".join(p["text"] for p in code) == TOOLS_APP  # exact slices, whole file
    assert by_path["README.md"][0]["language"] == "Markdown"


def qdrant_payloads(config: StoreConfig) -> list[Any]:
    from tests.test_crawl import qdrant_points

    return qdrant_points(config)


@deferred_f_from_coro_f
async def test_hostile_repository_is_ingested_without_following_running_or_storing_harm(
    gh_settings: dict,
    git_server: GitServer,
    api: MockGitHub,
    mongo: MongoStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clones = tmp_path / "clones"
    clones.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(clones))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a\n")
    marker = tmp_path / "hook-ran"
    hook = f"#!/bin/sh\necho ran >> {marker}\n"
    rng = random.Random(7)
    hostile = git_server.create("ada/hostile")
    odd_names = [
        "odd/naïve file — (v2) 'quoted' & $HOME ☃.py",
        "odd/new\nline.md",
        "odd/tab\there.txt",
        "-rf.md",
    ]
    hostile.commit(
        {
            "README.md": "# Hostile\n",
            ".gitignore": "build/\n*.log\n",
            "build/out.js": "var built = 1;\n",
            "debug.log": "log line\n",
            "hooks/post-checkout": hook,
            ".githooks/pre-commit": hook,
            "assets/big.bin": rng.randbytes(2_000_000),
            "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(4000),
            "data/huge.txt": "a long line of text that goes on\n" * 100_000,
            "model.bin": "version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
            "size 12345\n",
            ".gitattributes": "model.bin filter=lfs diff=lfs merge=lfs -text\n",
            "package-lock.json": '{"lockfileVersion": 3}\n',
            "vendor/lib.js": "var vendored = 1;\n",
            "static/app.min.js": "var a=1;" * 1000,
            "gen.go": "// Code generated by protoc. DO NOT EDIT.\npackage gen\n",
            "latin1.txt": b"caf\xe9 cr\xe8me\n",
            "src/ok.py": "def ok():\n\treturn 'fine'   \n",
            **{name: f"odd file {index}\n" for index, name in enumerate(odd_names)},
        },
        symlinks={"leak.txt": str(secret), "docs/up.md": "../../../secret.txt"},
        force=("build/out.js", "debug.log"),
        executable=("hooks/post-checkout", ".githooks/pre-commit"),
    )
    serve_user(api, "ada")
    serve_repo(api, repo_json(git_server, "ada/hostile"))

    # Hooks the environment would run on any clone: a template and a hooks path.
    hooks = tmp_path / "hooks"
    (hooks / "hooks").mkdir(parents=True)
    for name in ("post-checkout", "reference-transaction", "post-index-change"):
        (hooks / "hooks" / name).write_text(hook)
        (hooks / "hooks" / name).chmod(0o755)
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(hooks))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks / "hooks"))
    # Proof that these hooks run on an ordinary clone of the same repository...
    subprocess.run(
        ["git", "clone", "-q", f"{git_server.base}/ada/hostile.git", str(tmp_path / "plain")],
        check=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull},
    )
    assert marker.exists()
    marker.unlink()

    # ... and none runs on ours.
    result = await run_spider(GitHubSpider, gh_settings, repo="ada/hostile")

    assert result.stats["finish_reason"] == "finished"
    assert not marker.exists()
    files = stored_files(mongo, f"{git_server.base}/ada/hostile")
    expected = {
        "README.md",
        ".gitignore",
        ".gitattributes",
        "hooks/post-checkout",
        ".githooks/pre-commit",
        "src/ok.py",
        *odd_names,
    }
    assert set(files) == expected
    committed = tree_bytes(hostile)
    assert all(files[p].encode() == committed[p] for p in files)  # exact, odd names too
    assert not any("TOP-SECRET" in content for content in files.values())
    doc = mongo.db.repositories.find_one({"title": "ada/hostile"})
    assert "TOP-SECRET" not in str(doc)
    reasons = {s["path"]: s["reason"] for s in doc["extra"]["skipped"]}
    assert reasons == {
        "leak.txt": "symlink (not followed)",
        "docs/up.md": "symlink (not followed)",
        "build/out.js": "ignore list (lockfile, vendored or generated)",
        "debug.log": "ignored by the repository's .gitignore",
        "assets/big.bin": "larger than 1000000 bytes",
        "assets/logo.png": "binary",
        "data/huge.txt": "larger than 1000000 bytes",
        "model.bin": "LFS pointer (content not fetched)",
        "package-lock.json": "ignore list (lockfile, vendored or generated)",
        "vendor/lib.js": "ignore list (lockfile, vendored or generated)",
        "static/app.min.js": "ignore list (lockfile, vendored or generated)",
        "gen.go": "generated",
        "latin1.txt": "not UTF-8 text",
    }
    assert doc["extra"]["file_count"] == len(expected)
    assert result.stats.get("twin/github/cloned") == 1
    assert list(clones.iterdir()) == []  # the clone's temporary directory is gone


@deferred_f_from_coro_f
async def test_a_stalled_clone_times_out_is_reported_and_leaves_nothing_behind(
    gh_settings: dict,
    git_server: GitServer,
    api: MockGitHub,
    mongo: MongoStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clones = tmp_path / "clones"
    clones.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(clones))
    make_tools(git_server)
    serve_user(api, "ada")
    serve_repo(api, repo_json(git_server, "ada/tools"))
    git_server.fetch_delay["ada/tools"] = 3
    result = await run_spider(
        GitHubSpider, {**gh_settings, "GITHUB_CLONE_TIMEOUT": 1}, repo="ada/tools"
    )
    assert result.stats["finish_reason"] == "finished" and result.items == []
    (failure,) = mongo.latest_runs(1)[0]["domains"][0]["failures"]
    assert failure["reason"] == "clone failed"
    assert failure["detail"] == "git clone timed out after 1 s"
    assert mongo.count_documents()["repositories"] == 0
    assert list(clones.iterdir()) == []


@deferred_f_from_coro_f
async def test_unchanged_repository_is_not_cloned_again_and_a_change_replaces_its_files(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    tools = make_tools(git_server)
    serve_user(api, "ada")
    serve_repo(api, repo_json(git_server, "ada/tools"))

    first = await run_spider(GitHubSpider, gh_settings, repo="ada/tools")
    assert first.stats.get("twin/github/cloned") == 1 and git_server.fetches("ada/tools") == 1

    again = await run_spider(GitHubSpider, gh_settings, repo="ada/tools")
    assert again.stats.get("twin/github/unchanged") == 1
    assert "twin/github/cloned" not in again.stats and git_server.fetches("ada/tools") == 1
    assert api.hits("/repos/ada/tools/languages") == 1  # not even asked again
    assert mongo.latest_runs(1)[0]["totals"]["unchanged"] == 1

    head = tools.commit({"src/app.py": TOOLS_APP + "\n# more\n"}, delete=("LICENSE",))
    changed = await run_spider(GitHubSpider, gh_settings, repo="ada/tools")
    assert changed.stats.get("twin/items/updated") == 1 and git_server.fetches("ada/tools") == 2
    files = stored_files(mongo, f"{git_server.base}/ada/tools")
    assert "LICENSE" not in files and files["src/app.py"].endswith("# more\n")
    assert {p: c.encode() for p, c in files.items()} == tree_bytes(tools)
    doc = mongo.db.repositories.find_one({"title": "ada/tools"})
    assert doc["extra"]["head_commit"] == head
    assert mongo.db.repository_files.count_documents({"doc_id": doc["_id"]}) == len(files)


@deferred_f_from_coro_f
async def test_repository_of_more_than_16_mb_of_text_is_stored_completely(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    big = git_server.create("ada/big")
    files = {
        f"corpus/part{n:02}.md": "".join(
            f"Part {n}, line {i}: the quick brown fox jumps over the lazy dog.\n"
            for i in range(14_000)
        )
        for n in range(19)
    }
    total = sum(len(c.encode()) for c in files.values())
    assert total > 16 * 1024 * 1024
    big.commit(files)
    serve_user(api, "ada")
    serve_repo(api, repo_json(git_server, "ada/big"))

    result = await run_spider(GitHubSpider, gh_settings, repo="ada/big")

    assert result.stats["finish_reason"] == "finished" and result.dropped == []
    stored = stored_files(mongo, f"{git_server.base}/ada/big")
    assert stored == files
    doc = mongo.db.repositories.find_one({"title": "ada/big"})
    assert doc["truncated"] is False and doc["extra"]["text_bytes"] == total


@deferred_f_from_coro_f
async def test_rate_limit_waits_for_a_near_reset_and_retry_after(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    make_tools(git_server)
    serve_user(api, "ada")
    exhausted = {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(time.time()) + 1),
    }
    api.routes["/users/ada/repos"] = [
        (403, exhausted, {"message": "API rate limit exceeded"}),
        (200, {}, [repo_json(git_server, "ada/tools")]),
    ]
    serve_repo(api, repo_json(git_server, "ada/tools"))
    api.routes["/repos/ada/tools/languages"] = [
        (429, {"Retry-After": "1"}, {"message": "secondary rate limit"}),
        (200, {}, {"Python": 1}),
    ]
    started = time.monotonic()
    result = await run_spider(GitHubSpider, gh_settings, user="ada")
    assert result.stats["finish_reason"] == "finished"
    assert [item.title for item in result.items] == ["ada/tools"]
    assert api.hits("/users/ada/repos") == 2 and api.hits("/repos/ada/tools/languages") == 2
    assert result.stats.get("twin/github/rate_limited") == 2
    assert time.monotonic() - started >= 2  # it did wait


@deferred_f_from_coro_f
async def test_rate_limit_with_a_distant_reset_stops_with_a_clear_message(
    gh_settings: dict,
    git_server: GitServer,
    api: MockGitHub,
    mongo: MongoStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    serve_user(api, "ada")
    api.routes["/users/ada/repos"] = [
        (
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
            {"message": "API rate limit exceeded"},
        )
    ]
    result = await run_spider(GitHubSpider, gh_settings, user="ada")
    assert result.stats["finish_reason"] == "github_rate_limited"
    assert "GitHub API rate limit exhausted" in caplog.text and "GITHUB_TOKEN" in caplog.text
    run = mongo.latest_runs(1)[0]
    (failure,) = run["domains"][0]["failures"]
    assert failure["reason"] == "rate limited" and "resets at" in failure["detail"]


@deferred_f_from_coro_f
async def test_seed_file_routes_github_links(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore, tmp_path: Path
) -> None:
    make_tools(git_server)
    notes = git_server.create("bo/notes")
    notes.commit({"README.md": "# Bo's notes\n"})
    serve_user(api, "ada")
    serve_user(api, "bo", name="Bo Rivers")
    api.routes["/users/ada/repos"] = [(200, {}, [repo_json(git_server, "ada/tools")])]
    serve_repo(api, repo_json(git_server, "ada/tools"))
    serve_repo(api, repo_json(git_server, "bo/notes"))
    seeds = tmp_path / "seeds.yaml"
    seeds.write_text(
        "author: Ada Quill\nlinks:\n"
        f"  - {git_server.base}/ada\n"
        f"  - {git_server.base}/ada/tools\n"
        f"  - {git_server.base}/bo/notes/tree/main/docs\n"
        f"  - {git_server.base}/orgs/x\n"
        f"  - {git_server.base}/nobody/missing\n"
    )
    result = await run_spider("seeds", gh_settings, file=str(seeds))
    assert result.stats["finish_reason"] == "finished"
    assert sorted(item.title for item in result.items) == ["ada/tools", "bo/notes"]
    assert git_server.fetches("ada/tools") == 1  # listed twice, cloned once
    assert {item.author_full_name for item in result.items} == {"Ada Quill"}  # the seed's
    failures = {f["url"]: f["reason"] for f in mongo.latest_runs(1)[0]["domains"][0]["failures"]}
    assert failures == {
        f"{git_server.base}/orgs/x": "not a GitHub profile or repository",
        f"{api.base}/users/nobody": "HTTP 404",
    }


def test_arguments_are_checked_when_the_spider_is_built() -> None:
    from twin_scraper.params import ArgumentError

    for kwargs, message in [
        ({}, "give either -a user=LOGIN or -a repo=OWNER/NAME"),
        ({"user": "ada", "repo": "ada/x"}, "give either"),
        ({"user": "not a login"}, "not a GitHub login"),
        ({"repo": "ada"}, "expected OWNER/NAME"),
        ({"repo": "ada/x", "forks": "true"}, "go with -a user"),
        ({"user": "ada", "bogus": "1"}, "unknown argument"),
    ]:
        with pytest.raises(ArgumentError, match=message):
            GitHubSpider(**kwargs)
    assert GitHubSpider(user="ada", forks="true").params.forks is True
    assert GitHubSpider(repo="ada/tools.git").params.repo == "ada/tools"


@deferred_f_from_coro_f
async def test_repositories_over_the_size_cap_are_not_cloned_or_are_stopped(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    heavy = git_server.create("ada/heavy")  # the API under-reports its size
    heavy.commit({"data.bin": random.Random(3).randbytes(600_000), "README.md": "# Heavy\n"})
    huge = git_server.create("ada/huge")  # the API says it is too large
    huge.commit({"README.md": "# Huge\n"})
    serve_user(api, "ada")
    listing = [repo_json(git_server, "ada/heavy"), repo_json(git_server, "ada/huge", size=5000)]
    api.routes["/users/ada/repos"] = [(200, {}, listing)]
    for data in listing:
        serve_repo(api, data)
    result = await run_spider(GitHubSpider, {**gh_settings, "GITHUB_MAX_REPO_KB": 100}, user="ada")
    assert result.items == [] and mongo.count_documents()["repositories"] == 0
    assert git_server.fetches("ada/huge") == 0
    (domain,) = mongo.latest_runs(1)[0]["domains"]
    assert domain["reasons"] == {"clone failed": 1, "larger than GITHUB_MAX_REPO_KB (100 KB)": 1}
    (failure,) = domain["failures"]
    assert failure["detail"].startswith("clone larger than 102400 bytes")


@deferred_f_from_coro_f
async def test_the_token_never_follows_a_link_to_another_origin(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    make_tools(git_server)
    elsewhere = MockGitHub()
    try:
        serve_user(api, "ada")
        api.routes["/users/ada/repos"] = [
            (200, {"Link": f'<{elsewhere.base}/page-2>; rel="next"'}, [])
        ]
        elsewhere.routes["/page-2"] = [(200, {}, [repo_json(git_server, "ada/tools")])]
        serve_repo(api, repo_json(git_server, "ada/tools"))
        result = await run_spider(GitHubSpider, {**gh_settings, "GITHUB_TOKEN": TOKEN}, user="ada")
    finally:
        elsewhere.stop()
    assert [item.title for item in result.items] == ["ada/tools"]
    assert elsewhere.hits("/page-2") == 1
    assert not any("Authorization" in r["headers"] for r in elsewhere.requests)
    assert api.requests and all("Authorization" in r["headers"] for r in api.requests)


@deferred_f_from_coro_f
async def test_the_crawl_goes_on_while_a_repository_is_cloned(
    gh_settings: dict, git_server: GitServer, api: MockGitHub, mongo: MongoStore
) -> None:
    for name in ("ada/slow", "ada/fast"):
        git_server.create(name).commit({"README.md": f"# {name}\n"})
    git_server.fetch_delay["ada/slow"] = 2
    serve_user(api, "ada")
    listing = [repo_json(git_server, "ada/slow"), repo_json(git_server, "ada/fast")]
    api.routes["/users/ada/repos"] = [(200, {}, listing)]
    for data in listing:
        serve_repo(api, data)

    def after_the_slow_clone_began(query: str) -> tuple[int, dict, Any]:
        deadline = time.monotonic() + 10
        while not git_server.fetches("ada/slow") and time.monotonic() < deadline:
            time.sleep(0.02)
        return 200, {}, {"Markdown": 10}

    api.routes["/repos/ada/fast/languages"] = after_the_slow_clone_began
    result = await run_spider(GitHubSpider, gh_settings, user="ada")
    # The fast repository's clone began after the slow one's and was not held up by it.
    assert [item.title for item in result.items] == ["ada/fast", "ada/slow"]
