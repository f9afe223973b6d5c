"""Files written whole or not at all.

A file another program reads (an export, a saved crawl report) must never be seen half
written, and a failure while writing it (a store going away, a full disk) must leave
the previous version as it was. So the new content goes to a temporary file beside it,
is flushed to disk, and only then takes the old one's place (`os.replace` is atomic on
one file system).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def atomic_write(path: str | Path, encoding: str = "utf-8") -> Iterator[TextIO]:
    """`with atomic_write(path) as handle: handle.write(...)`: `path` is replaced when the
    block ends without an error; on an error the temporary file is removed and `path`
    is untouched. A new file gets the usual permissions (0666 less the umask), a replaced
    one keeps its own."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        os.chmod(fd, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _default_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(directory: Path) -> None:
    """Make a new or renamed file's name durable too, not only its content."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
