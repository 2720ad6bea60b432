"""Every numbered notebook follows the collection's conventions (STYLE.md).

nbval (run by `make test` over notebooks/) checks that they execute and that
check cells reproduce their reference outputs; this file checks how they are
stored and how they open.
"""

import re

import nbformat
import pytest

from genlab import notebooks

PATHS = notebooks.notebook_paths()


def test_there_are_notebooks():
    assert any(path.name.startswith("00_") for path in PATHS)


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_opening_title_badge_outcomes_setup(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "must open with one H1 title"
    assert notebooks.colab_badge(path.name) in first.source, "Colab badge for this notebook"
    assert re.search(r"learning outcomes", first.source, re.IGNORECASE), "learning outcomes in the overview"
    setup_cells = [cell for cell in notebook.cells
                   if cell.cell_type == "code" and cell.source.startswith(notebooks.SETUP_CELL)]
    assert len(setup_cells) == 1, "exactly one Setup cell starting with genlab.notebooks.SETUP_CELL"
    assert "import genlab" in setup_cells[0].source
    h1_count = sum(1 for cell in notebook.cells
                   if cell.cell_type == "markdown" and re.search(r"^# ", cell.source, re.MULTILINE))
    assert h1_count == 1


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_outputs_stored_only_in_check_cells(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if notebooks.is_check_cell(cell):
            assert cell.outputs, f"check cell {cell.id} has no reference output (run genlab.notebooks refresh)"
            assert not any(output.output_type == "error" for output in cell.outputs)
            assert not any(output.get("name") == "stderr" for output in cell.outputs), \
                f"check cell {cell.id} stored stderr output"
        else:
            assert not cell.outputs, f"cell {cell.id} stores outputs but is not a check cell"


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_graded_exercises_have_unique_stable_ids(path):
    notebook = nbformat.read(path, as_version=4)
    check_ids = [re.match(r"# (?:HIDDEN )?CHECK (\S+) \d+", cell.source).group(1)
                 for cell in notebook.cells
                 if cell.cell_type == "code" and re.match(r"# (?:HIDDEN )?CHECK ", cell.source)]
    assert len(check_ids) >= 3, "every notebook has at least three graded exercises"
    assert len(set(check_ids)) == len(check_ids), "check ids must be unique"
    cell_ids = [cell.id for cell in notebook.cells]
    assert len(set(cell_ids)) == len(cell_ids), "cell ids must be unique"


def test_strip_outputs_keeps_only_check_cells():
    notebook = nbformat.v4.new_notebook()
    plain = nbformat.v4.new_code_cell("print(1)", execution_count=1,
                                      outputs=[nbformat.v4.new_output("stream", text="1\n")])
    check = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2)", execution_count=2,
                                      outputs=[nbformat.v4.new_output("stream", text="2\n")])
    notebook.cells = [plain, check]
    notebooks.strip_outputs(notebook)
    assert plain.outputs == [] and plain.execution_count is None
    assert check.outputs[0].text == "2\n" and check.execution_count == 2
