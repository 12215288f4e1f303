"""The ```python blocks of a Markdown page, and a tool that refreshes the outputs shown
after them.

A page shows what its code prints in a ```text block that directly follows the code
block. ``python docs/_ext/doc_blocks.py docs/getting-started.md`` runs the page's python
blocks in order in one fresh namespace (in a temporary working directory) and rewrites
each such ```text block with what the block before it printed, so the outputs on the page
are real. ``tests/test_docs.py`` runs the same blocks (without rewriting) so that an
example that drifts from the code fails the tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(language, code, start, end) of every fenced block, in order."""
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]


def python_blocks(text: str) -> list[str]:
    return [code for lang, code, _, _ in blocks(text) if lang == "python"]


def run_page(text: str, name: str = "<page>") -> list[str]:
    """Run the python blocks of a page in one fresh namespace; return what each printed."""
    namespace: dict = {"__name__": "__docs__"}
    outputs = []
    for i, code in enumerate(python_blocks(text)):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, f"{name} [python block {i + 1}]", "exec"), namespace)
        outputs.append(buf.getvalue())
    return outputs


def refresh(path: Path) -> None:
    text = path.read_text()
    found = blocks(text)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            outputs = run_page(text, path.name)
        finally:
            os.chdir(here)
    pieces, last, k = [], 0, -1
    for idx, (lang, _code, start, end) in enumerate(found):
        if lang == "python":
            k += 1
            continue
        prev = found[idx - 1] if idx else None
        if lang == "text" and prev is not None and prev[0] == "python" and \
                not text[prev[3]:start].strip():
            pieces.append(text[last:start])
            pieces.append("```text\n" + outputs[k].rstrip("\n") + "\n```")
            last = end
    pieces.append(text[last:])
    path.write_text("".join(pieces))


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(Path(arg))
        print(f"refreshed {arg}")
