"""Clean one piece of text: remove real HTML markup, normalise whitespace, and touch nothing else.

What counts as markup: a tag of a known HTML element (`<p>`, `</b>`, `<br/>`, `<a href="...">`,
wiki's `<ref>`), an HTML comment, and a named or numeric entity (`&nbsp;`, `&amp;`, `&#8217;`).
`#include <stdio.h>`, `List<String>`, `i<n; i++) if (a[i]>0` and `BP <90/60` are not markup, so
they are kept. Code is never touched: fenced blocks (``` or ~~~), indented blocks (a line that starts
with four spaces or a tab) and `inline code` stay byte for byte. Every other line keeps its own
indentation (lists and tables keep their shape); runs of spaces inside it become one space.
Cleaning is idempotent: clean_text(clean_text(t)) == clean_text(t).
"""
import html
import re
from html.entities import html5

# Elements whose tags scraped medical text carries. Single letters that are also common type
# parameters or tokens (`<s>` is Llama's BOS, `<T>` a generic) are left out on purpose.
HTML_ELEMENTS = frozenset("""
a abbr b big blockquote body br caption center cite code col colgroup dd del div dl dt em font
footer h1 h2 h3 h4 h5 h6 head header hr html i img ins kbd label li link mark meta nav ol p pre ref
references section small span strike strong style sub sup table tbody td tfoot th thead title tr tt
u ul wbr
""".split())
# Tags that end a line of text in a browser: replaced by a newline instead of nothing.
BREAK_ELEMENTS = frozenset("br p div li tr h1 h2 h3 h4 h5 h6 ul ol table blockquote".split())

_ATTRIBUTE = r"""\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=`]+))?"""
_TAG = re.compile(rf"<(/?)([A-Za-z][A-Za-z0-9]*)((?:{_ATTRIBUTE})*)\s*/?>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ENTITY = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]+")
# Text with none of these needs no work at all (the common case: plain prose, one space).
_NEEDS_WORK = re.compile(r"[<&`~\t\f\v\r\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]|  | \n|\n\n\n")
_MAX_PASSES = 8


def clean_text(text):
    """Remove real HTML tags, comments and entities and normalise whitespace; None stays None."""
    if not isinstance(text, str):
        return None
    if not _NEEDS_WORK.search(text) and text == text.strip():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for _ in range(_MAX_PASSES):  # removing markup can reveal markup ("<<b>b>"): repeat until stable
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _clean_once(text):
    lines = []
    for is_code, block in _split_code(text.split("\n")):
        lines.extend(block if is_code else _collapse_blank_lines(_clean_prose(block)))
    return _trim(lines)


def _split_code(lines):
    """Yield (is_code, lines) runs: fenced blocks, indented blocks, and the prose between them."""
    prose, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence or _is_indented(lines[i]):
            end = _fence_end(lines, i, fence.group(1)) if fence else i + 1
            if prose:
                yield False, prose
                prose = []
            yield True, lines[i:end]
            i = end
        else:
            prose.append(lines[i])
            i += 1
    if prose:
        yield False, prose


def _is_indented(line):
    return line.startswith(("    ", "\t")) and bool(line.strip())


def _fence_end(lines, start, fence):
    # A fence closes on a line of the same character, at least as long; unclosed runs to the end.
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for i in range(start + 1, len(lines)):
        if closing.match(lines[i]):
            return i + 1
    return len(lines)


def _clean_prose(lines):
    out = []
    for line in lines:
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        pieces = _strip_markup(line[len(indent):]).split("\n")
        out.append(_squeeze(indent + pieces[0]) if pieces[0].strip() else "")
        out.extend(_squeeze(piece.strip()) for piece in pieces[1:])
    return out


def _squeeze(line):
    """Runs of spaces become one space, except the indentation and `inline code`."""
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    rest, parts, last = line[len(indent):], [], 0
    for code in _INLINE_CODE.finditer(rest):
        parts += [_SPACES.sub(" ", rest[last:code.start()]), code.group(0)]
        last = code.end()
    parts.append(_SPACES.sub(" ", rest[last:]))
    return (indent + "".join(parts)).rstrip()


def _strip_markup(text):
    """Comments and real tags out (line-ending tags become newlines), then entities decoded."""
    if "<" not in text and "&" not in text:
        return text
    pieces, last = [], 0
    for code in _INLINE_CODE.finditer(text):
        pieces += [_strip_outside_code(text[last:code.start()]), code.group(0)]
        last = code.end()
    pieces.append(_strip_outside_code(text[last:]))
    return "".join(pieces)


def _strip_outside_code(text):
    text = _COMMENT.sub(" ", text)
    text = _TAG.sub(_replace_tag, text)
    decoded = _ENTITY.sub(_decode_entity, text)
    if "<" in decoded and any(_is_real(tag) for tag in _TAG.finditer(decoded)):
        # "&lt;b&gt;" writes a tag as text (a lesson on HTML): decoding it would let the next pass
        # delete it, so escaped brackets stay escaped here.
        decoded = _ENTITY.sub(lambda m: _decode_entity(m, keep="<>"), text)
    return decoded


def _is_real(tag):
    return tag.group(2).lower() in HTML_ELEMENTS


def _replace_tag(match):
    if not _is_real(match):
        return match.group(0)
    return "\n" if match.group(2).lower() in BREAK_ELEMENTS else ""


def _decode_entity(match, keep=""):
    entity = match.group(0)
    if entity[1] != "#" and entity[1:] not in html5:
        return entity  # "&copy2;" is not an entity: keep the text as written
    decoded = html.unescape(entity)
    return entity if decoded and decoded in tuple(keep) else decoded


def _collapse_blank_lines(lines):
    out = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue  # at most one blank line in a row
        out.append("" if not line.strip() else line)
    return out


def _trim(lines):
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and not _is_indented(lines[0]):
        lines[0] = lines[0].lstrip()
    return "\n".join(lines)
