"""genlab.course.timing: the per-notebook table make test prints."""

import json
from types import SimpleNamespace

from genlab.course import timing


def test_plugin_adds_up_each_notebooks_items_and_writes_json(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_BUILD_DIR", str(tmp_path))
    monkeypatch.setattr(timing, "_totals", timing.defaultdict(float))
    for nodeid, seconds in (("notebooks/05_dcgan.ipynb::Cell 0", 2.0), ("notebooks/05_dcgan.ipynb::Cell 1", 3.5),
                            ("tests/test_data.py::test_x", 9.0), ("notebooks/00_setup.ipynb::Cell 3", 1.0),
                            ("../tmp/run/notebooks/tiny.ipynb::Cell 0", 4.0)):
        timing.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds))
    timing.pytest_sessionfinish(None, 0)
    assert json.loads((tmp_path / "test-times" / "nbval.json").read_text()) == {
        "00_setup.ipynb": 1.0, "05_dcgan.ipynb": 5.5}


def test_table_joins_nbval_and_validation_and_flags_the_budget(tmp_path):
    (tmp_path / "nbval.json").write_text(json.dumps({"05_dcgan.ipynb": 52.4, "00_setup.ipynb": 7.0}))  # validate: run seconds, not queueing
    (tmp_path / "validate.log").write_text(
        "== validate\n05_dcgan.ipynb: valid (80 s)\n  student version fails the 4 solution-dependent checks (40 s)\n"
        "08_eval.ipynb: INVALID (95 s)\n  instructor version passes all 3 checks (7 s)\n  student version: check x passed (5 s)\n"
        "validated 2 notebook(s) in 95 s: some INVALID\n")
    times = timing.read(tmp_path / "nbval.json", tmp_path / "validate.log")
    assert times == {"00_setup.ipynb": (7.0, None), "05_dcgan.ipynb": (52.4, 40.0), "08_eval.ipynb": (None, 12.0)}
    lines = timing.table(times).splitlines()
    assert lines[2].split() == ["00_setup.ipynb", "7", "-"]
    assert "over the 45 s budget" in lines[3] and "over" not in lines[2]
    assert lines[-1].split() == ["all", "3", "notebooks", "59", "52"]
