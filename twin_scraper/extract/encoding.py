"""Decoding pages whose declared charset lies, and cleaning characters XML refuses."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_BINARY_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c")


def looks_binary(body: bytes) -> bool:
    """Binary data (an image, an archive) served under a text type: many control bytes."""
    sample = body[:8192]
    if not sample:
        return False
    controls = sum(sample.count(bytes([b])) for b in _BINARY_BYTES)
    return controls / len(sample) > 0.08  # random bytes: about 11%


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding used). UTF-8 when the bytes are valid UTF-8 (text in another
    encoding almost never is, and servers often label UTF-8 pages ISO-8859-1), else the
    declared encoding, else Windows-1252 (the usual truth behind a wrong label)."""
    for encoding in ("utf-8", declared):
        if not encoding:
            continue
        try:
            return clean_text(body.decode(encoding)), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return clean_text(body.decode("cp1252", errors="replace")), "cp1252"


def clean_text(text: str) -> str:
    """Remove NUL and other control characters that lxml and MongoDB reject."""
    return _CONTROL.sub("", text)
