"""Sphinx configuration of the replicasolve documentation.

Build (no network needed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Choices made here, and why:

* Markdown pages through MyST (``dollarmath`` for ``$...$`` / ``$$...$$``, ``amsmath``
  for aligned environments), typeset by MathJax; the generated pages (API, command line)
  are reST because their directives emit reST.
* Docstrings are Google style ("Args:", "Returns:", "Attributes:"): napoleon reads them.
* No sphinx-gallery: it executes the scripts in the build's own process and wants them
  in its own format. ``docs/_ext/script_pages.py`` instead runs each figure script of
  ``examples/gallery/`` (with ``--quick``: tiny axes) and each script of ``derivations/``
  in a subprocess with a time limit while the pages are read, and puts its printed output,
  its figures and (derivations) its LaTeX, typeset, on the script's page; a script that
  fails, or prints FAIL, is a build warning (an error under ``-W``). About a minute and a
  half of the build (two scripts at a time); ``REPLICASOLVE_DOCS_RUN=0`` skips the runs
  (the pages then say so), ``REPLICASOLVE_DOCS_JOBS=N`` runs N at a time. CI runs them.
* The tour's code blocks are executed by ``tests/test_docs.py``, so they cannot drift from
  the code.
* intersphinx is off: the build must not touch the network.
* No viewcode: the pages show the docstrings (cleaned of citations of the project's
  internal notes and tracker, see ``docs/_ext/docstring_prose.py``), not the raw source.
* The argparse help of every command and the list of API modules are generated at build
  time by ``docs/_ext/replicasolve_docs.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the package from this checkout, installed or not

from replicasolve.version import __version__  # noqa: E402

project = "replicasolve"
author = "the replicasolve authors"
copyright = "the replicasolve authors"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "replicasolve_docs",
    "docstring_prose",
    "script_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# --- MyST (Markdown) ------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- autodoc + napoleon ---------------------------------------------------------------
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# the annotations are strings (``from __future__ import annotations``) naming optional
# packages (xarray, torch) that are imported lazily: do not evaluate them
autodoc_type_aliases: dict[str, str] = {}
autodoc_mock_imports: list[str] = []
nitpicky = False

# --- no network -----------------------------------------------------------------------
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# --- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"replicasolve {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
# copy the code of an example without the prompts or the printed output
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# --- the gallery and derivation pages (docs/_ext/script_pages.py) ----------------------
# run the scripts at build time (default); REPLICASOLVE_DOCS_RUN=0 builds the pages from the
# docstrings and commands only
replicasolve_run_scripts = os.environ.get("REPLICASOLVE_DOCS_RUN", "1").strip() not in (
    "0", "false", "no", "off", "")
replicasolve_run_jobs = int(os.environ.get("REPLICASOLVE_DOCS_JOBS", "2"))  # side by side
# time limits per script, seconds: the --quick gallery runs take 3-12 s and the derivations
# 2-12 s with a warm numba cache (a fresh cache compiles first: up to ~1.5 min)
replicasolve_gallery_timeout = 300
replicasolve_derivation_timeout = 180
# too slow for a docs build (measured on the 2-core development machine); shown from the
# docstring and the command
replicasolve_scripts_not_run = {
    "derivations/finite_width_deep_replicon.py":
        "it takes about a minute (65 s measured), longer than a documentation build should "
        "spend on one page",
}

os.environ.setdefault("MPLBACKEND", "Agg")  # a figure drawn during the build needs no display

# document each object once, where it is defined: a module's ``__all__`` may list names it
# imports (``replicasolve.validation`` re-exports the errors), which would make every
# "Raises: InvalidInputError" ambiguous
autodoc_default_options = {"ignore-module-all": True}
# members of torch classes (the straight-through estimators) would inherit torch's
# docstrings, whose cross-references point into torch's own docs
autodoc_inherit_docstrings = False
