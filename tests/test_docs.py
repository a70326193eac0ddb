"""The documentation cannot drift from the code: every public name is in the API
reference, and the README's code runs."""

import re
from pathlib import Path

import pytest

import sk_slm

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_is_in_the_api_reference():
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", api, flags=re.M))
    listed |= set(re.findall(r"^\.\. data:: (\w+)", api, flags=re.M))
    assert set(sk_slm.__all__) - listed == set()
    assert listed - set(sk_slm.__all__) == set()  # nor a name that is not public


def test_every_user_guide_page_is_in_a_table_of_contents():
    guide = ROOT / "docs" / "user_guide"
    index = (guide / "index.md").read_text(encoding="utf-8")
    pages = {p.stem for p in guide.glob("*.md")} - {"index"}
    assert pages and all(re.search(rf"^{page}$", index, flags=re.M) for page in pages)


def test_top_level_pages_without_pages_of_their_own_have_no_empty_section_navigation():
    # The theme's primary sidebar lists a page's sub-pages; on a page with none (Getting
    # started) it was an empty "Section Navigation" box taking a third of the width.
    import ast

    conf = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    sidebars = next(ast.literal_eval(node.value) for node in conf.body
                    if isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", None) == "html_sidebars")
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    entries = re.findall(r"^   (\w[\w/]*)$", index.split(".. toctree::")[1], flags=re.M)
    assert "getting_started" in entries
    for entry in entries:
        source = next((ROOT / "docs").glob(f"{entry}.*"), None)
        if source is None or "toctree" in source.read_text(encoding="utf-8"):
            continue  # generated (the gallery) or with pages of its own
        assert sidebars.get(entry) == [], entry
    assert sidebars.get("index") == []


def readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def test_the_readme_is_short_and_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    first = readme_blocks("bash")[0].splitlines()
    assert first[0].startswith("pip install torch==") and "python -m sk_slm compare" in first[0]
    assert first[1] == "python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest -q" in ci


@pytest.mark.slow
def test_the_readme_python_code_runs(tmp_path, monkeypatch):
    blocks = readme_blocks("python")
    assert blocks
    monkeypatch.chdir(tmp_path)  # whatever it writes lands here
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102


def test_the_benchmark_index_is_generated_from_the_results():
    # benchmarks/README.md is written by `python -m benchmarks.index`: rerun it after
    # adding or removing a result.
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_index",
                                                  ROOT / "benchmarks" / "index.py")
    index = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(index)
    assert index.build() == (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")


def test_the_quick_start_is_the_same_in_the_readme_and_the_docs():
    def quick_start(path):
        text = path.read_text(encoding="utf-8")
        return re.search(r"## Quick start\n\n```python\n(.*?)```", text, flags=re.S).group(1)

    assert quick_start(ROOT / "README.md") == quick_start(ROOT / "docs" / "getting_started.md")
