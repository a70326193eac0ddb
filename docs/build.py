"""Build the documentation into ``docs/_build/html``, writing nothing else.

Sphinx writes what it generates (autosummary's API pages, sphinx-gallery's example pages
and their timings) into its source folder; this script gives it a copy of ``docs/`` in
``docs/_build/source`` to write into, so the repository's ``docs/`` stays as committed.

Usage: python docs/build.py [SPHINX_OPTIONS...]   (default options: -W --keep-going -q)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sphinx.cmd.build import build_main

DOCS = Path(__file__).resolve().parent
BUILD = DOCS / "_build"
GENERATED = ("_build", "generated", "auto_examples", "sg_execution_times.rst", "build.py")


def main(options: list[str]) -> int:
    source = BUILD / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(*GENERATED))
    # What the pages include from above docs/ ("../CHANGELOG.md"), one level above the copy.
    shutil.copyfile(DOCS.parent / "CHANGELOG.md", BUILD / "CHANGELOG.md")
    return build_main([*(options or ["-W", "--keep-going", "-q"]), "-b", "html",
                       str(source), str(BUILD / "html")])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
