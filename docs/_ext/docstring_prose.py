"""Read the package's docstrings as the plain text they are written as.

The docstrings of replicasolve are written for ``help()`` and a terminal: formulas sit in
indented blocks, absolute values are written ``|x|``, subscripts ``c_``. reST reads those as
block quotes, substitutions and link targets. Before napoleon turns the Google-style
sections into fields, this hook (``autodoc-process-docstring``):

* turns an indented block that is not part of a napoleon section, a directive or an
  existing literal block into a literal block (the formula is shown as written);
* turns a simple table that docutils cannot parse into a literal block (shown as written);
  a well-formed table stays a table;
* escapes ``|`` and a trailing ``_`` in prose (never inside ``literals`` or roles);
* drops citations of the project's internal notes and tracker (:func:`scrub_references`).

The text is not changed otherwise, so what the docs show is what ``help()`` shows.
"""

from __future__ import annotations

import re

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Returns?|Raises|Attributes|Yields?|Keyword Args|"
    r"Keyword Arguments|Other Parameters|Notes?|Warnings?|Examples?|References|See Also|"
    r"Todo|Methods|Warns)\s*:\s*$")
_BORDER = re.compile(r"^\s*=+( +=+)+\s*$")
_LIST = re.compile(r"^(\s*)([-*+]|\d+[.)]|\(\d+\)|[a-z][.)])\s+")
_SPANS = re.compile(r"``.*?``|:[\w:+-]+:`[^`]*`|`[^`]*`_{0,2}|\$[^$]*\$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _text_indent(line: str) -> int:
    """Indent of a line's text: after the marker for a list item."""
    m = _LIST.match(line)
    return m.end() if m else _indent(line)


def _escape(text: str) -> str:
    out, last = [], 0
    for m in _SPANS.finditer(text):
        out.append(_escape_plain(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(s: str) -> str:
    s = s.replace("|", r"\|")
    return re.sub(r"(?<=\w)_(?!\w)", r"\\_", s)


def _table_ok(lines: list[str]) -> bool:
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    width = min(_indent(x) for x in lines if x.strip())
    text = "\n".join(x[width:] for x in lines)
    try:
        tree = publish_doctree(text, settings_overrides={
            "report_level": 5, "halt_level": 2, "warning_stream": False})
    except SystemMessage:
        return False
    return not any(getattr(n, "tagname", "") == "system_message" for n in tree.traverse())


def prose_to_rest(lines: list[str]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(lines)
    base = 0  # text indent of the current paragraph / list item
    skip_above: int | None = None  # inside a directive or literal block: kept as is
    section_above: int | None = None  # inside a napoleon section: prose, escaped
    prev_blank = True
    while i < n:
        line = lines[i]
        if not line.strip():
            out.append(line)
            prev_blank = True
            i += 1
            continue
        ind = _indent(line)
        if skip_above is not None:
            if ind > skip_above:
                out.append(line)
                prev_blank = False
                i += 1
                continue
            skip_above = None
        if section_above is not None:
            if ind > section_above:
                if line.rstrip().endswith("::"):
                    skip_above = ind
                out.append(_escape(line))
                prev_blank = False
                i += 1
                continue
            section_above = None
        if _BORDER.match(line):  # a simple table: up to the blank line after its last border
            j, borders = i, 0
            while j < n:
                if _BORDER.match(lines[j]):
                    borders += 1
                elif not lines[j].strip() and borders >= 2 and _BORDER.match(lines[j - 1]):
                    break
                j += 1
            table = lines[i:j]
            if _table_ok(table):
                out.extend(table)
            else:
                out += ["", " " * ind + "::", ""] + ["    " + x for x in table] + [""]
            i = j
            prev_blank = False
            continue
        if _SECTION.match(line):
            out.append(line)
            section_above = ind
            base = ind
            prev_blank = False
            i += 1
            continue
        if line.lstrip().startswith((".. ", ">>> ")):
            out.append(line)
            skip_above = ind
            base = ind
            prev_blank = False
            i += 1
            continue
        if ind > base and not (out and out[-1].rstrip().endswith("::")) and \
                not (prev_blank and _LIST.match(line)):
            # an indented block in prose: a formula as written
            block = []
            while i < n and (not lines[i].strip() or _indent(lines[i]) > base):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", " " * base + "::", "", *block, ""]
            prev_blank = True
            continue
        if prev_blank or _LIST.match(line):
            base = _text_indent(line) if _LIST.match(line) else ind
        if line.rstrip().endswith("::"):
            out.append(_escape(line))
            skip_above = ind
            prev_blank = False
            i += 1
            continue
        out.append(_escape(line))
        prev_blank = False
        i += 1
    return out


def _package_of(what: str, name: str, obj: object) -> str:
    module = name if what == "module" else getattr(obj, "__module__", None) or name
    if what == "module" and hasattr(obj, "__path__"):
        return module
    return module.rsplit(".", 1)[0]


def process(app, what, name, obj, options, lines):
    # a relative reference (:mod:`.ising`) is resolved against the docstring's own package,
    # not searched for everywhere (two floors have a module ``ising``)
    package = _package_of(what, name, obj)
    relative = re.compile(r":(\w+):`\.([\w.]+)`")
    fixed = [relative.sub(lambda m: f":{m.group(1)}:`~{package}.{m.group(2)}`", x)
             for x in lines]
    lines[:] = prose_to_rest(scrub_references("\n".join(fixed)).split("\n"))


def setup(app):
    app.connect("autodoc-process-docstring", process, priority=400)  # before napoleon (500)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --- references to the project's internal notes and tracker ------------------------------
# Some docstrings cite the project's internal physics brief (by file name and section) or an
# issue of its tracker (by number). Neither exists for a reader of these pages, so such a
# reference is dropped where it is a bare citation and replaced by what it stands for
# elsewhere.
_REF = (r"(?:SCIENCE\.md(?:'s)?,?(?:\s*(?:§\s*[A-C]\b|section\s+[A-C]\b|\(section\s+[A-C]\)"
        r"|[A-C]\b))?|issue\s+#\d+)")
_MEANING = {"A": "the layered-network model", "B": "the random-MLP landscape theory",
            "C": "the descriptor's setup"}


def _meaning(m: re.Match) -> str:
    text = m.group(0)
    if text.startswith("issue"):
        return "an earlier study"
    if text.endswith("'s"):  # "<notes>'s action": the action
        return "the"
    letter = re.search(r"([A-C])\)?$", text)
    out = _MEANING[letter.group(1)] if letter else "the physics notes"
    before = m.string[:m.start()].rstrip()
    return out[0].upper() + out[1:] if not before or before.endswith((".", ":")) else out


def scrub_references(text: str) -> str:
    """``text`` without citations of the internal notes and tracker (see above)."""
    text = re.sub(rf"\s*\(\s*{_REF}(?:\s*[;,]\s*{_REF})*\s*\)", "", text)  # a bare citation
    text = re.sub(r"\s+(?:of|in)\s+issue\s+#\d+", "", text)  # "the checks of issue #7"
    text = re.sub(rf"(?<=[(;,])\s*{_REF}\s*[;,]\s*", " ", text)  # "(REF; more" / ", REF, "
    text = re.sub(rf"\(\s*{_REF}\s*[;,]\s*", "(", text)  # "(REF, more"
    text = re.sub(rf"\s*[;,]\s*(?:action of\s+)?{_REF}(?=\s*\))", "", text)  # "more; REF)"
    text = re.sub(_REF, _meaning, text)
    return text.replace("( ", "(")
