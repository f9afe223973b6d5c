"""A full disk, told apart from other store failures.

A document MongoDB refuses is reported and fetched again next time; a full disk is not
that: nothing can be stored nor journaled until space is freed, so the crawl must stop
and say so (twin_scraper.pipelines.mongo).
"""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

from pymongo.errors import PyMongoError

#: ENOSPC, and a user's disk quota used up.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: MongoDB's OutOfDiskSpace.
MONGO_DISK_FULL_CODES = frozenset({14031})
#: SQLite's (the embedded server's) "database or disk is full", MongoDB's and the OS's words.
_MESSAGE = re.compile(r"disk is full|no space left|out ?of ?disk ?space|quota exceeded", re.I)


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    if isinstance(exc, PyMongoError):
        errors = (getattr(exc, "details", None) or {}).get("writeErrors") or []
        codes = {getattr(exc, "code", None), *(e.get("code") for e in errors)}
        texts = [str(exc), *(str(e.get("errmsg", "")) for e in errors)]
        return bool(codes & MONGO_DISK_FULL_CODES) or any(_MESSAGE.search(t) for t in texts)
    return False


def free_space(path: Path) -> str:
    """`12.3 MB free of 5.0 GB` for the file system holding `path` (or its parent)."""
    for candidate in (path, *path.parents):
        try:
            usage = shutil.disk_usage(candidate)
        except OSError:
            continue
        return f"{_size(usage.free)} free of {_size(usage.total)}"
    return "free space unknown"


def _size(count: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
