"""Safe, shallow clones of public repositories, read as blobs rather than a working tree.

A repository is hostile input. So: no working tree is ever written (`--no-checkout`:
no hooks, no smudge or LFS filters, no symlinks on disk to follow), every file is read
from the object database by its blob id (a symlink is a blob holding its target, and
is skipped), the user's and system git configuration is ignored, only http(s) is
allowed, redirects are not followed, hooks point at /dev/null, and every git command is
killed after a timeout. The caller may pin the host's resolution (`pin`, curl's
`--resolve` form `host:port:address`) to an address the network guard checked.
The clone lives in a temporary directory that is removed whatever happens.

Blocking work: call these functions from a worker thread, never the reactor thread.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from git import Repo
from git.cmd import Git
from git.exc import GitCommandError

#: Configuration for every git command: defeats hooks, filters and non-http transports.
SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.symlinks=false",
    "filter.lfs.process=",
    "filter.lfs.smudge=",
    "filter.lfs.required=false",
    "protocol.allow=never",
    "protocol.http.allow=always",
    "protocol.https.allow=always",
    "submodule.recurse=false",
    "http.followRedirects=false",  # a redirect could lead anywhere, past the guard
    "http.lowSpeedLimit=1000",  # bytes/s; slower than this for lowSpeedTime aborts
    "http.lowSpeedTime=30",
)
SAFE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # a missing or private repository fails, never prompts
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no url rewrites, credential helpers or hooksPath
    "GIT_CONFIG_COUNT": "0",  # nor configuration passed through the environment
    "GIT_CONFIG_PARAMETERS": "",
    "GIT_ALLOW_PROTOCOL": "http:https",
    "GIT_PROTOCOL_FROM_USER": "0",
}
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_BRANCH = re.compile(r"^[^\s~^:?*\[\\-][^\s~^:?*\[\\]*$")

SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"


class CloneError(RuntimeError):
    """A repository could not be listed or cloned; the message says why (no secrets)."""


@dataclass(frozen=True)
class TreeEntry:
    """One entry of the head commit's tree, as `git ls-tree -r -l` lists it."""

    mode: str
    kind: str  # blob, commit (a submodule)
    sha: str
    size: int | None
    path: bytes  # raw: a path need not be UTF-8


def _config(pin: str | None) -> list[str]:
    settings = [*SAFE_CONFIG, *([f"http.curloptResolve={pin}"] if pin else [])]
    return [item for setting in settings for item in ("-c", setting)]


def _run(args: list[str], timeout: float, cwd: str | None = None, pin: str | None = None) -> bytes:
    """`git <safe config> args...`, killed after `timeout` seconds."""
    config = _config(pin)
    try:
        return Git(cwd).execute(
            ["git", *config, *args],
            kill_after_timeout=timeout,
            env=SAFE_ENV,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
    except GitCommandError as exc:
        stderr = (exc.stderr or "").strip().replace("\n", " ")
        if "did not complete" in str(exc):
            raise CloneError(f"git {args[0]} timed out after {timeout:g} s") from None
        raise CloneError(f"git {args[0]} failed: {stderr[:300]}") from None


def _clone(
    args: list[str], timeout: float, target: str, max_bytes: int, pin: str | None = None
) -> None:
    """`git clone`, watched: killed after `timeout` seconds or as soon as what it wrote
    passes `max_bytes` (git itself has no cap on what a fetch downloads)."""
    config = _config(pin)
    # Its own process group, so the helpers it starts (remote-http, index-pack) go too.
    handle = Git().execute(
        ["git", *config, *args], as_process=True, env=SAFE_ENV, start_new_session=True
    )
    process = handle.proc
    deadline = time.monotonic() + timeout
    problem = None
    while True:
        try:
            _, stderr = process.communicate(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                problem = f"git clone timed out after {timeout:g} s"
            elif disk_usage(target) > max_bytes:
                problem = f"clone larger than {max_bytes} bytes, stopped"
            if problem:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise CloneError(problem) from None
    if process.returncode != 0:
        message = (stderr or b"").decode("utf-8", "replace").strip().replace("\n", " ")
        raise CloneError(f"git clone failed: {message[:300]}")
    if disk_usage(target) > max_bytes:  # it finished between two looks
        raise CloneError(f"clone larger than {max_bytes} bytes")


def disk_usage(path: str) -> int:
    """Bytes of the files under `path` (0 when it does not exist yet)."""
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:  # git renames its temporary files as it goes
                continue
    return total


def check_url(url: str) -> None:
    if urlsplit(url).scheme not in {"http", "https"}:
        raise CloneError(f"refusing to clone {url}: only http(s) URLs are cloned")


def remote_head(url: str, branch: str, timeout: float, pin: str | None = None) -> str | None:
    """The commit the branch points at on the remote (`git ls-remote`), None when the
    branch does not exist (an empty repository)."""
    check_url(url)
    if not _BRANCH.match(branch):
        raise CloneError(f"refusing branch name {branch!r}")
    out = _run(["ls-remote", "--", url, f"refs/heads/{branch}"], timeout, pin=pin)
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}" and _SHA.match(sha):
            return sha
    return None


@contextmanager
def shallow_clone(
    url: str, branch: str, timeout: float, max_bytes: int, pin: str | None = None
) -> Iterator[Repo]:
    """A bare-minimum clone (depth 1, one branch, no tags, no checkout) of at most
    `max_bytes` on disk, in a temporary directory removed on exit, whatever happens."""
    check_url(url)
    if not _BRANCH.match(branch):
        raise CloneError(f"refusing branch name {branch!r}")
    with tempfile.TemporaryDirectory(prefix="twin-git-", ignore_cleanup_errors=True) as tmp:
        target = os.path.join(tmp, "repo")
        args = [
            "clone",
            "--quiet",
            "--no-checkout",
            "--depth=1",
            "--single-branch",
            "--no-tags",
            "--template=",
            f"--branch={branch}",
            "--",
            url,
            target,
        ]
        _clone(args, timeout, target, max_bytes, pin)
        repo = Repo(target)
        repo.git.update_environment(**SAFE_ENV)
        try:
            yield repo
        finally:
            repo.close()  # ends git's cat-file processes before the directory goes


def list_tree(repo: Repo, timeout: float) -> list[TreeEntry]:
    """Every entry of the head commit's tree, recursively, with blob sizes."""
    out = _run(
        ["ls-tree", "-r", "-z", "--long", "--full-tree", "HEAD"],
        timeout,
        cwd=repo.git_dir,
    )
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha, size = meta.decode("ascii").split()
        entries.append(TreeEntry(mode, kind, sha, int(size) if size.isdigit() else None, path))
    return entries


def head_commit(repo: Repo) -> str:
    return repo.head.commit.hexsha


def read_blob(repo: Repo, sha: str) -> bytes:
    """A blob's bytes from the object database (git cat-file --batch, kept open)."""
    return repo.odb.stream(bytes.fromhex(sha)).read()
