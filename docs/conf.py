"""Sphinx configuration of retouch's documentation: ``make docs`` builds it with warnings as errors."""

from __future__ import annotations

import retouch

project = "retouch"
author = "the retouch contributors"
copyright = "the retouch contributors"
version = release = retouch.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path = ["_templates"]

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"  # the numpydoc Parameters say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# the references in the docstrings: :DOI:`10.1109/TPAMI.2007.60`
extlinks = {"DOI": ("https://doi.org/%s", "doi:%s")}  # docutils roles ignore case: :doi: works too
intersphinx_mapping = {}

myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_title = f"retouch {version}"
html_static_path: list[str] = []
