"""Markdown -> one self-contained HTML file: every image inlined as a base64 PNG data URI.

We render the report's markdown ourselves rather than add a dependency: the reports use a small
subset (headings, paragraphs, lists, block quotes, pipe tables, fenced code, images, links,
bold/italic/code), and the HTML must open offline, from a mail attachment or a USB stick, so
nothing may point outside the file (no CDN CSS/JS, no image links).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 max-width:1200px;margin:2em auto;padding:0 1.2em}
h1,h2,h3,h4{line-height:1.25;margin:1.4em 0 .5em}h1{border-bottom:2px solid #ddd;
 padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f7}tr:nth-child(even) td{background:#fafbfc}
code{background:#f3f3f3;padding:0 3px;border-radius:3px;font-size:90%}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.7em;overflow-x:auto}
pre code{background:none;padding:0}
blockquote{margin:.8em 0;padding:.2em 1em;border-left:4px solid #9ab;color:#456}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#666}.missing{color:#a33}
"""
_ANCHOR_LINE = re.compile(r'^<a id="[\w.-]+"></a>$')  # the study report's link targets
_IMAGE_LINE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def data_uri(path: Path) -> str | None:
    """The PNG at `path` as a data URI, or None when it is missing (a running search)."""
    try:
        payload = path.read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(payload).decode("ascii")


def slug(text: str) -> str:
    """Heading id, GitHub-style, ignoring a trailing "(...)" so `#study-NAME` links work."""
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text)
    text = re.sub(r"[^\w\- ]", "", text.lower()).strip()
    return re.sub(r"\s+", "-", text)


def _inline(text: str, base: Path) -> str:
    """Escape, then code spans, images, links, bold and italic (code spans are left alone)."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: _img(m[1], m[2], base), part)
        part = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                      lambda m: f'<a href="{_href(m[2])}">{m[1]}</a>', part)
        part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def _href(target: str) -> str:
    """Anchors stay links; a relative file link is kept (it only works beside the report)."""
    return html.escape(target, quote=True)


def _img(alt: str, src: str, base: Path) -> str:
    uri = data_uri(base / src) if not re.match(r"^[a-z]+:", src) else None
    if uri is None:
        return f'<span class="missing">[figure {html.escape(alt)} not available]</span>'
    return f'<img alt="{html.escape(alt, quote=True)}" src="{uri}">'


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") else line
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _table(lines: list[str], base: Path) -> str:
    head, body = _cells(lines[0]), [_cells(x) for x in lines[2:]]
    rows = ["<table>", "<thead><tr>" + "".join(f"<th>{_inline(c, base)}</th>" for c in head)
            + "</tr></thead>", "<tbody>"]
    rows += ["<tr>" + "".join(f"<td>{_inline(c, base)}</td>" for c in row) + "</tr>"
             for row in body]
    return "\n".join(rows + ["</tbody>", "</table>"])


def markdown_to_html(markdown: str, base: Path) -> str:
    """The body HTML for `markdown`; images are resolved relative to `base` and inlined."""
    lines = markdown.splitlines()
    out: list[str] = []
    ids: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            i += 1
        elif _ANCHOR_LINE.match(stripped):
            ids.add(stripped.split('"')[1])
            out.append(stripped)
            i += 1
        elif stripped.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"),
                       len(lines))
            code = html.escape("\n".join(lines[i + 1:end]))
            out.append(f"<pre><code>{code}</code></pre>")
            i = end + 1
        elif m := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            level, text, anchor = len(m[1]), m[2], slug(m[2])
            anchor_attr = "" if anchor in ids else f' id="{anchor}"'
            ids.add(anchor)
            out.append(f"<h{level}{anchor_attr}>{_inline(text, base)}</h{level}>")
            i += 1
        elif m := _IMAGE_LINE.match(stripped):
            out.append(f"<figure>{_img(m[1], m[2], base)}<figcaption>{html.escape(m[1])}"
                       "</figcaption></figure>")
            i += 1
        elif (stripped.startswith("|") and i + 1 < len(lines)
              and _TABLE_RULE.match(lines[i + 1].strip())):
            end = i + 2
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            out.append(_table([x.strip() for x in lines[i:end]], base))
            i = end
        elif re.match(r"^[-*]\s+", stripped):
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                item = re.sub(r"^\s*[-*]\s+", "", lines[i])
                items.append(f"<li>{_inline(item, base)}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
        elif stripped.startswith(">"):
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip()[1:].strip())
                i += 1
            out.append(f"<blockquote><p>{_inline(' '.join(quote), base)}</p></blockquote>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not _starts_block(lines, i):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para), base)}</p>")
    return "\n".join(out)


def _starts_block(lines: list[str], i: int) -> bool:
    s = lines[i].strip()
    return bool(re.match(r"^(#{1,6}\s|```|>|[-*]\s|\|)", s) or _IMAGE_LINE.match(s)
                or _ANCHOR_LINE.match(s))


def html_page(markdown: str, base: Path, title: str) -> str:
    """A complete, self-contained HTML document."""
    body = markdown_to_html(markdown, base)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
