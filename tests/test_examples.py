"""Execute every example on small data (SK_SLM_EXAMPLES_SMALL=1 / --quick)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_notebook_runs(name, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SK_SLM_EXAMPLES_SMALL", "1")
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_committed_notebooks_carry_their_outputs():
    import nbformat

    for path in EXAMPLES.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(c.get("outputs") for c in code[1:]), f"{path.name} was committed without outputs"


@pytest.mark.slow
def test_grid_search_script_runs_quick():
    res = subprocess.run([sys.executable, str(EXAMPLES / "grid_search.py"), "--quick"],
                         capture_output=True, text=True, env={**os.environ}, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "best macro-F1" in res.stdout
    assert res.stdout.count("'segmenter__granularity'") == 9  # best + 8 candidates
    assert "the best candidate's blend: network" in res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [[], ["--onnx"], ["--onnx", "--int8"]],
                         ids=["save_model", "export_onnx", "export_onnx_int8"])
def test_serve_script_answers_predictions_and_names_bad_requests(fmt):
    res = subprocess.run([sys.executable, str(EXAMPLES / "serve.py"), "--quick", *fmt],
                         capture_output=True, text=True, env={**os.environ}, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    ok, bad_entry, bad_body = res.stdout.splitlines()
    status, answer = ok.split(" ", 1)
    answer = json.loads(answer)
    # Three texts, the empty one included: three labels and probability rows summing to 1.
    assert status == "200" and len(answer["labels"]) == len(answer["proba"]) == 3
    assert set(answer["labels"]) <= set(answer["classes"]) == {0, 1}
    assert all(abs(sum(row) - 1) < 1e-4 for row in answer["proba"])
    assert bad_entry == '400 {"error": "texts[1] is not a string (2 entries are not strings)"}'
    assert bad_body.startswith('400 {"error": "the body must be an object')
