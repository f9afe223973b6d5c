"""Rich consoles for everything the project prints (kept free of heavy imports, so the
`twin` command starts fast)."""

from __future__ import annotations

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    """A console that does not wrap or truncate when writing to a file or a pipe (logs,
    Scrapyd job files, tests), where Rich would otherwise assume 80 columns."""
    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal:
        console.width = 120
    return console
