"""Owner-only directories: the data directory holds the corpus, the crawl journal and the
embedded MongoDB's socket, none of which another local user may read or reach."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` (parents as needed) with mode 0700, and tighten an existing one of
    ours that others could enter (made by an earlier version, or by hand)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(0o700)
    return path
