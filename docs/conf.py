"""Sphinx configuration: the API reference is generated from the numpydoc docstrings and
the example gallery is executed at build time (sphinx-gallery), so neither can drift
from the code. Build: ``python docs/build.py`` (it runs Sphinx on a copy of this folder in
``docs/_build/source``, so the generated pages land there, not here)."""

import os
import sys
from pathlib import Path

# The repository: above this folder, or above its copy in docs/_build/source.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import sk_slm  # noqa: E402

project = "sk_slm"
author = "the sk_slm developers"
copyright = "2026, the sk_slm developers"
release = version = sk_slm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
templates_path = ["_templates"]
html_theme = "pydata_sphinx_theme"
html_title = "sk_slm"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
# Top-level pages without pages of their own get no primary sidebar: the theme's
# "Section Navigation" there was an empty box taking a third of the width.
html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_static_path = ["_static"]
html_css_files = ["custom.css"]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references to other projects' objects resolve through intersphinx when it can
# reach them; the build does not depend on it (no network in CI).
numpydoc_xref_param_type = False
intersphinx_mapping: dict = {}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
}


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods (metadata routing) are not part
    of sk_slm's API, and their docstrings link into scikit-learn's own docs."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
