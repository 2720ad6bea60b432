"""Every numbered notebook follows the collection's conventions (STYLE.md).

nbval (run by `make test` over notebooks/) checks that they execute and that
check cells reproduce their reference outputs; this file checks how they are
stored and how they open.
"""

import importlib
import re

import nbformat
import pytest

from genlab import config, paths
from genlab.course import notebook_runner as notebooks

PATHS = notebooks.notebook_paths()
SETTINGS_MARKER = re.compile(r"^# Settings from (genlab\.models\.\w+)", re.MULTILINE)


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
    assert len(setup_cells) == 1, "exactly one Setup cell starting with notebook_runner.SETUP_CELL"
    assert re.search(r"^from genlab import .*\bconfig\b", setup_cells[0].source, re.MULTILINE), \
        "the Setup cell imports genlab.config (which loads TensorFlow without its logs)"
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
            assert cell.outputs, f"check cell {cell.id} has no reference output (run genlab notebooks refresh)"
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


@pytest.mark.parametrize("path", PATHS, ids=[path.name for path in PATHS])
def test_hyperparameters_equal_the_model_modules_defaults(path):
    """A notebook's settings cell may not drift from its model family's one set of defaults.

    The cell that starts with ``# Settings from genlab.models.<family>`` is executed; every
    name it defines that the family defines too must have the family's value (a quick/full
    dict through ``config.pick``).
    """
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and SETTINGS_MARKER.search(cell.source)]
    if not cells:
        pytest.skip("this notebook has no model settings")
    for cell in cells:
        family = importlib.import_module(SETTINGS_MARKER.search(cell.source).group(1))
        # The genlab modules a settings cell may read (evaluation: the protocol's N).
        namespace = {"config": config, "evaluation": importlib.import_module("genlab.evaluation"),
                     family.__name__.rsplit(".", 1)[1]: family}
        exec(compile(cell.source, f"{path.name}:{cell.id}", "exec"), namespace)
        shared = [name for name in namespace if name.isupper() and hasattr(family, name)]
        assert shared, f"{cell.id} defines none of {family.__name__}'s settings"
        for name in shared:
            default = getattr(family, name)
            if isinstance(default, dict) and set(default) == set(config.MODES):
                default = config.pick(**default)
            assert namespace[name] == default, f"{path.name}: {name} = {namespace[name]!r}, {family.__name__} says {default!r}"


def test_setup_cell_and_pyproject_agree_on_the_keras_minimum():
    pyproject = (paths.REPO_ROOT / "pyproject.toml").read_text()
    minimum = ".".join(map(str, notebooks.KERAS_MINIMUM))
    assert f'"keras>={minimum}"' in pyproject
    assert f"keras>={minimum}" in notebooks.SETUP_CELL
