"""HTML -> Markdown for the corpus, with code blocks kept byte-exact.

Generic converters normalise whitespace everywhere, which ruins indentation-sensitive code.
Here text inside `<pre>` (and `<code>` blocks broken by `<br>`) is copied exactly, while all
other whitespace is collapsed. The walk uses an explicit stack, so absurdly deep markup cannot
hit Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

# Elements whose content is never article text. Not <source>: libxml2 does not know it
# is empty and nests a <picture>'s <img> inside it.
SKIP_TAGS = frozenset(
    (
        "area audio base button canvas datalist embed head iframe input link map math "
        "meta noscript object option script select style svg template textarea "
        "title track video"
    ).split()
)
_BLOCK_TAGS = frozenset(
    (
        "address article aside blockquote body caption center dd details dialog dir div "
        "dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr "
        "html legend li main menu nav ol p pre section summary table tbody td tfoot th "
        "thead tr ul"
    ).split()
)
_EMPHASIS = {"em": "*", "i": "*", "cite": "*", "strong": "**", "b": "**"}
_EMPHASIS |= dict.fromkeys(("del", "s", "strike"), "~~")
_INLINE_CODE = frozenset({"code", "kbd", "samp", "tt"})
_LANG_RE = re.compile(
    r"(?:^|\s)(?:language|lang|highlight-source|highlight|brush:?)-?\s*([\w+#.-]+)", re.I
)
_GUTTER_RE = re.compile(r"gutter|line-?num|lineno|line-numbers-rows|\blnt\b|\bln\b", re.I)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WS_RE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})", re.M)
_LABEL = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"  # link text, one level of nested brackets
_IMAGE_RE = re.compile(r"!" + _LABEL + r"\([^)\s]*\)")
_LINK_RE = re.compile(_LABEL + r"\([^)\s]*\)")
_BLOCK_MARK_RE = re.compile(r"^(?:\s*>)+\s?|^\s*(?:#{1,6}|[-*+]|\d+\.)\s+")
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
_TABLE_RULE_RE = re.compile(r"\|(?: --- \|)+")
_ESCAPED_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
# Paragraph lines that Markdown would read as a heading, quote, list item or rule.
_LOOKS_LIKE_BLOCK_RE = re.compile(r"^(#{1,6}(?=\s|$)|>|[-+*](?=\s)|\d{1,9}(?=[.)]\s))", re.M)


def parse_html(html: str | bytes) -> etree._Element | None:
    """Parse any page into a document tree (its <html> root); None if there is nothing.

    Text is re-encoded as UTF-8 bytes because lxml rejects str input that carries an XML
    encoding declaration or control characters. Plain lxml elements (not `lxml.html`'s
    subclasses) are used because the per-element class lookup dominates on big pages.
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    html = _CONTROL_RE.sub("", html)
    if not html.strip():
        return None
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return None
    return root if root is not None and root.tag == "html" else None


def text_content(el: etree._Element) -> str:
    """All text inside an element (what the DOM's textContent gives)."""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


@dataclass
class _Block:
    """A rendered block-level chunk of Markdown (paragraph, list, code, ...)."""

    text: str
    kind: str = "text"  # "item" for a rendered <li>, "list" for a rendered <ul>/<ol>


@dataclass
class _Cell:
    text: str
    header: bool
    span: int
    has_block: bool


@dataclass
class _Row:
    cells: list[_Cell]


@dataclass
class _Frame:
    """Collected output of one open element: inline strings and finished blocks."""

    el: etree._Element
    parts: list = field(default_factory=list)


def html_to_markdown(root: etree._Element | str, base_url: str | None = None) -> str:
    """Render an element (or an HTML string) as Markdown; never raises on odd markup."""
    if isinstance(root, str | bytes):
        doc = parse_html(root)
        if doc is None:
            return ""
        body = doc.find("body")
        root = body if body is not None else doc
    if not isinstance(root.tag, str):
        return ""
    if root.tag == "pre":
        return _code_block(root)
    return _Converter(base_url).run(root)


class _Converter:
    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url

    def run(self, root: etree._Element) -> str:
        frames = [_Frame(root)]
        stack = [iter(root)]
        self._add_text(frames[-1], root.text)
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                frame = frames.pop()
                result = self._finish(frame)
                if not frames:
                    return _render_blocks(result).strip("\n")
                frames[-1].parts.extend(result)
                self._add_text(frames[-1], frame.el.tail)
                continue
            tag = child.tag if isinstance(child.tag, str) else None
            if tag is None or tag in SKIP_TAGS or _is_hidden(child) or _is_line_numbers(child):
                self._add_text(frames[-1], child.tail)
            elif tag == "pre" or (tag == "code" and child.find(".//br") is not None):
                frames[-1].parts.append(_Block(_code_block(child)))
                self._add_text(frames[-1], child.tail)
            elif tag in _INLINE_CODE:
                frames[-1].parts.append(_inline_code(child))
                self._add_text(frames[-1], child.tail)
            elif tag == "br":
                frames[-1].parts.append("\n")
                self._add_text(frames[-1], child.tail)
            elif tag == "hr":
                frames[-1].parts.append(_Block("---"))
                self._add_text(frames[-1], child.tail)
            elif tag == "img":
                frames[-1].parts.append(self._image(child))
                self._add_text(frames[-1], child.tail)
            else:
                frames.append(_Frame(child))
                stack.append(iter(child))
                self._add_text(frames[-1], child.text)
        return ""

    @staticmethod
    def _add_text(frame: _Frame, text: str | None) -> None:
        if text:
            frame.parts.append(_WS_RE.sub(" ", text))

    def _finish(self, frame: _Frame) -> list:
        """Turn a closed element's parts into what its parent receives."""
        el, parts = frame.el, frame.parts
        tag = el.tag
        if tag in ("td", "th"):
            has_block = any(isinstance(p, _Block | _Row | _Cell) for p in parts)
            text = _render_blocks(parts) if has_block else _inline(parts)
            return [_Cell(text, tag == "th", _int_attr(el, "colspan", 1, 50), has_block)]
        if tag == "tr":
            return [_Row([p for p in parts if isinstance(p, _Cell)])]
        if tag in ("thead", "tbody", "tfoot"):
            return parts
        if tag == "table":
            return self._table(parts)
        if any(isinstance(p, _Cell | _Row) for p in parts):  # table parts outside a table
            parts = [_Block(c.text) for p in parts for c in _stray_cells(p)]
        if tag in _BLOCK_TAGS or any(isinstance(p, _Block) for p in parts):
            return self._block(el, parts)
        return [self._inline_element(el, parts)]

    def _block(self, el: etree._Element, parts: list) -> list:
        tag = el.tag
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            text = _inline([p.text if isinstance(p, _Block) else p for p in parts])
            text = text.replace("\n", " ")
            return [_Block("#" * int(tag[1]) + " " + text)] if text else []
        if tag in ("ul", "ol", "menu", "dir"):
            return self._list(el, parts)
        if tag not in ("li", "blockquote"):
            # Plain containers pass their blocks up unjoined, so nested <div>s cost no copying.
            return _paragraphs(parts)
        body = _render_blocks(parts, tight_lists=tag == "li")
        if not body:
            return []
        if tag == "li":
            return [_Block(body, "item")]
        return [_Block("\n".join(("> " + ln).rstrip() for ln in body.split("\n")))]

    def _list(self, el: etree._Element, parts: list) -> list:
        items: list[str] = []
        loose: list = []
        for part in parts:
            if isinstance(part, _Block) and part.kind == "item":
                if loose:
                    items.append(_render_blocks(loose))
                    loose = []
                items.append(part.text)
            elif isinstance(part, _Block) and part.kind == "list" and items and not loose:
                items[-1] += "\n" + part.text  # a list nested directly in a list
            else:
                loose.append(part)
        if loose and _render_blocks(loose):
            items.append(_render_blocks(loose))
        start = _int_attr(el, "start", 1, 10**9) if el.tag == "ol" else 0
        lines = []
        for n, item in enumerate(i for i in items if i):
            marker = f"{start + n}. " if el.tag == "ol" else "- "
            pad = " " * len(marker)
            first, *rest = item.split("\n")
            lines.append(marker + first)
            lines.extend(pad + ln if ln else "" for ln in rest)
        return [_Block("\n".join(lines), "list")] if lines else []

    def _table(self, parts: list) -> list:
        rows = [p for p in parts if isinstance(p, _Row) and p.cells]
        cells = [c for r in rows for c in r.cells]
        width = max((sum(c.span for c in r.cells) for r in rows), default=0)
        if width < 2 or any(c.has_block or "\n" in c.text for c in cells):
            # A layout table (or one holding code): its cells are just consecutive blocks.
            blocks = [p for p in parts if isinstance(p, _Block)]
            blocks += [_Block(c.text) for c in cells if c.text]
            return blocks
        grid = []
        for row in rows:
            line = []
            for cell in row.cells:
                line.append(cell.text.replace("|", "\\|"))
                line.extend([""] * (cell.span - 1))
            grid.append(line + [""] * (width - len(line)))
        head, *body = grid
        out = ["| " + " | ".join(head) + " |", "|" + " --- |" * width]
        out += ["| " + " | ".join(r) + " |" for r in body]
        caption = [p for p in parts if isinstance(p, _Block)]
        return [*caption, _Block("\n".join(out))]

    def _inline_element(self, el: etree._Element, parts: list) -> str:
        text = "".join(parts)
        tag = el.tag
        if tag == "a":
            return self._link(el, text)
        mark = _EMPHASIS.get(tag)
        if not mark or not text.strip() or "\n" in text.strip():
            return text
        core = text.strip()
        if core.startswith(mark) and core.endswith(mark):
            return text
        lead = " " if text[0].isspace() else ""
        trail = " " if text[-1].isspace() else ""
        return f"{lead}{mark}{core}{mark}{trail}"

    def _link(self, el: etree._Element, text: str) -> str:
        label = _WS_RE.sub(" ", text).strip()
        href = (el.get("href") or "").strip()
        if not label or not href or href.startswith(("#", "javascript:", "data:")):
            return text
        lead = " " if text[0].isspace() else ""
        trail = " " if text[-1].isspace() else ""
        return f"{lead}[{label}]({self._url(href)}){trail}"

    def _image(self, el: etree._Element) -> str:
        src = _image_src(el)
        if not src:
            return ""
        alt = _WS_RE.sub(" ", el.get("alt") or "").strip().replace("[", "(").replace("]", ")")
        return f"![{alt}]({self._url(src)})"

    def _url(self, url: str) -> str:
        url = url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        if self.base_url and not url.startswith(("https://", "http://")):
            try:
                return urljoin(self.base_url, url)
            except ValueError:
                return url
        return url


def _code_block(el: etree._Element) -> str:
    """A fenced block longer than any backtick run in the code; "" for an empty block."""
    code = code_text(el)
    if not code.strip():
        return ""
    runs = [len(m) for m in re.findall(r"`{3,}", code)]
    fence = "`" * max(3, *(n + 1 for n in runs)) if runs else "```"
    return f"{fence}{code_language(el)}\n{code}\n{fence}"


def code_text(pre: etree._Element) -> str:
    """The exact text of a code element: spans flattened, `<br>` as newlines, gutters dropped.

    Only the HTML-insignificant newline right after `<pre>` and trailing newlines are removed.
    """
    out: list[str] = []
    stack: list[tuple[etree._Element, bool]] = [(pre, False)]
    while stack:
        el, closing = stack.pop()
        if closing:
            if el is not pre and el.tail:
                out.append(el.tail)
            continue
        stack.append((el, True))
        if isinstance(el.tag, str) and el.tag not in SKIP_TAGS and not _is_gutter(el):
            out.append("\n" if el.tag == "br" else el.text or "")
            stack.extend((child, False) for child in reversed(el))
    text = "".join(out).replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\n"):
        text = text[1:]
    return text.rstrip("\n")


def code_language(pre: etree._Element) -> str:
    """Language named by the markup on the block, its first `<code>` or two ancestors."""
    nodes = [pre]
    code = pre.find("code")
    if code is not None:
        nodes.append(code)
    parent = pre.getparent()
    for _ in range(2):
        if parent is None:
            break
        nodes.append(parent)
        parent = parent.getparent()
    for node in nodes:
        lang = node.get("data-lang") or node.get("data-language")
        if lang and re.fullmatch(r"[\w+#.-]+", lang.strip()):
            return lang.strip().lower()
        match = _LANG_RE.search(node.get("class") or "")
        if match and match.group(1).lower() not in ("none", "plaintext", "text", "nohighlight"):
            return match.group(1).lower()
    return ""


def _inline_code(el: etree._Element) -> str:
    text = "".join(el.itertext()).replace("\r", "").replace("\n", " ")
    if not text.strip():
        return text
    runs = [len(m) for m in re.findall(r"`+", text)]
    ticks = "`" * (max(runs) + 1 if runs else 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _image_src(el: etree._Element) -> str:
    """The real image URL, looking past lazy-loading placeholders and data: URIs."""
    for name in ("src", "data-src", "data-original", "data-lazy-src", "data-srcset", "srcset"):
        value = (el.get(name) or "").strip()
        if value and "srcset" in name:
            value = value.split(",")[0].split()[0] if value.split() else ""
        if value and not value.startswith("data:"):
            return value
    return ""


def _is_hidden(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return el.get("hidden") is not None or "display:none" in style


def _is_gutter(el: etree._Element) -> bool:
    return bool(_GUTTER_RE.search(el.get("class") or ""))


def _is_line_numbers(el: etree._Element) -> bool:
    """A highlighter's line-number column next to the code (e.g. `<td class="gutter">`)."""
    return _is_gutter(el) and (el.tag == "pre" or el.find(".//pre") is not None)


def _stray_cells(part: object) -> list:
    if isinstance(part, _Row):
        return part.cells
    if isinstance(part, _Cell | _Block):
        return [part]
    return [_Cell(part, False, 1, False)]


def _int_attr(el: etree._Element, name: str, default: int, upper: int) -> int:
    try:
        return min(max(int((el.get(name) or "").strip()), 1), upper)
    except ValueError:
        return default


def _inline(parts: list) -> str:
    """Join inline strings into one normalised paragraph (`<br>` kept as line breaks)."""
    text = "".join(p for p in parts if isinstance(p, str))
    lines = [re.sub(" +", " ", ln).strip() for ln in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def _escape_block_marker(match: re.Match) -> str:
    marker = match.group(1)
    return marker + "\\" if marker.isdigit() else "\\" + marker


def _paragraphs(parts: list) -> list[_Block]:
    """A container's parts as blocks: each run of inline text becomes a paragraph."""
    blocks: list[_Block] = []
    run: list[str] = []
    for part in [*parts, None]:
        if isinstance(part, str):
            run.append(part)
            continue
        if run:
            paragraph = _LOOKS_LIKE_BLOCK_RE.sub(_escape_block_marker, _inline(run))
            if paragraph:
                blocks.append(_Block(paragraph))
            run = []
        if isinstance(part, _Block) and part.text:
            blocks.append(part)
    return blocks


def _render_blocks(parts: list, tight_lists: bool = False) -> str:
    """Join a container's parts into Markdown, blocks separated by a blank line.

    In a list item a nested list follows its text on the next line ("- a\n  - b").
    """
    out: list[str] = []
    for block in _paragraphs(parts):
        if out:
            out.append("\n" if tight_lists and block.kind == "list" else "\n\n")
        out.append(block.text)
    return "".join(out)


def markdown_to_text(markdown: str) -> str:
    """Plain text of our Markdown (link text kept, URLs and images dropped): for word
    counts, for what the embedding model reads, and for scoring extraction."""
    out: list[str] = []
    fence = ""
    for line in markdown.split("\n"):
        match = _FENCE_RE.match(line.lstrip("> "))
        if fence:
            if match and match.group(1).startswith(fence) and not line.strip("`~> "):
                fence = ""
            else:
                out.append(line)
            continue
        if match:
            fence = match.group(1)
            continue
        if _TABLE_RULE_RE.fullmatch(line):
            continue
        line = _IMAGE_RE.sub("", line)
        line = _LINK_RE.sub(r"\1", line)
        line = _BLOCK_MARK_RE.sub("", line)
        line = _CODE_SPAN_RE.sub(lambda m: m.group(2).strip(), line)
        line = re.sub(r"\*\*|(?<!\\)\*|~~", "", line)
        if line.startswith("| "):
            line = line.strip(" |").replace(" | ", " ")
        out.append(_ESCAPED_RE.sub(r"\1", line).strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
