"""The notebooks run: each is executed top to bottom by a real Jupyter kernel, in fast mode.

A notebook is executed from a temporary copy, so the outputs committed with it stay as they are.
The kernel is this interpreter (a kernel spec written to a temporary JUPYTER_PATH, so a `python3`
kernel registered elsewhere on the machine cannot stand in for it), with this checkout first on
its path and NDGRAD_FAST=1, which shrinks data and epochs so each notebook takes under a minute.
"""
import json
import pathlib
import re
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "ndgrad-test-python"


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_outputs_and_no_errors(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "commit the notebook executed"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"


HEADING = re.compile(r"^#{1,6}(\s|$)")


def commented_out_lines(markdown):
    """Lines of a markdown cell that read as headings by accident: a bare `#`, a heading that starts
    with `# #` (a heading commented out), or a heading run on from the line before it (prose
    written as `# ...` comments, which Jupyter, GitHub and nbconvert show as one huge heading per line)."""
    lines = markdown.splitlines()
    bad = []
    for i, line in enumerate(lines):
        previous = lines[i - 1] if i else ""
        if line.strip() == "#" or line.startswith("# #") or (HEADING.match(line) and previous.strip()):
            bad.append(line)
    return bad


def test_markdown_check_catches_prose_written_as_comments():
    assert commented_out_lines("# # Title\n#\n# Some prose\n# more prose") == ["# # Title", "#", "# Some prose",
                                                                                "# more prose"]
    assert commented_out_lines("# Title\n\nSome prose with a `# comment`.\n\n## Section\n- a list") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markdown_cells_are_markdown_not_comments(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            bad = commented_out_lines(cell.source)
            assert not bad, f"{path.name}, cell {index}: lines that render as headings by accident: {bad[:3]}"


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernel spec for this interpreter, found before any other through JUPYTER_PATH."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ndgrad tests", "language": "python",
        "env": {"NDGRAD_FAST": "1", "PYTHONPATH": str(ROOT), "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(path, kernel_env):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    work = kernel_env / "run"
    work.mkdir()
    copy = work / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()                    # raises CellExecutionError at the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_summary_in_jupyter_shows_its_table_once(kernel_env):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import nn\nnn.summary(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), (2, 3))")])
    nbclient.NotebookClient(nb, timeout=120, kernel_name=KERNEL).execute()
    outputs = nb.cells[0].outputs
    shown = [o.get("text") or o.get("data", {}).get("text/plain", "") for o in outputs]
    assert sum("Total params: 16" in text for text in shown) == 1, shown
    assert "\\n" not in "".join(shown)                  # the table itself, not an escaped string
