"""The generated pages (docs/results.md, docs/claims.md, the README's and docs/testing.md's tables) match the recorded files.

genlab.course.report, results_page, pages and markdown: a page is regenerated
from data/pretrained/*.json and data/results/*.json only, fast and without
TensorFlow, and the committed page must equal what the files produce.
"""

import json
import shutil
import subprocess
import sys

import pytest

from genlab import paths
from genlab.course import markdown, pages, report, results_page, timing

ROOT = paths.REPO_ROOT


def test_committed_pages_are_what_the_recorded_files_produce(capsys):
    status = report.main(["--check"])
    assert status == 0, ("a generated page is out of date: run `genlab report` and commit the result\n"
                         + capsys.readouterr().err)


def test_report_reads_files_only_without_tensorflow():
    code = ("import sys, time; start = time.time(); from genlab.course import report; "
            "report.pages(sys.argv[1]); print('tensorflow' in sys.modules, 'keras' in sys.modules, "
            "round(time.time() - start, 1))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
    tensorflow, keras, seconds = out.stdout.split()
    assert (tensorflow, keras) == ("False", "False")
    assert float(seconds) < 10


@pytest.fixture
def repo_copy(tmp_path):
    """The files the pages are made from, copied, so a test can change a record."""
    for folder in ("data/pretrained", "data/results"):
        (tmp_path / folder).mkdir(parents=True)
        for path in (ROOT / folder).glob("*.json"):
            shutil.copy(path, tmp_path / folder / path.name)
    for name in ("README.md", "docs/testing.md", "docs/results.md", "docs/claims.md", "data/claims.toml",
                 "lib/genlab/registry.py", "data/mnist_classifier.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    return tmp_path


def test_a_re_measured_manifest_changes_the_page_and_check_fails(repo_copy, capsys):
    assert report.main(["--check", "--root", str(repo_copy)]) == 0
    manifest_path = repo_copy / "data" / "pretrained" / "dcgan_mnist.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["evaluation"]["n"] = 10000
    manifest["evaluation"]["values"]["samples"]["FID"] = 4.321
    manifest["evaluation"]["date"] = "2031-01-02"
    manifest_path.write_text(json.dumps(manifest))
    assert report.main(["--check", "--root", str(repo_copy)]) == 1
    assert "docs/results.md" in capsys.readouterr().err
    assert report.main(["--root", str(repo_copy)]) == 0
    text = (repo_copy / "docs" / "results.md").read_text()
    assert "| [dcgan_mnist](#dcgan_mnist) | 05 | 10,000 | 4.321 (" in text
    assert "2031-01-02" in text
    assert report.main(["--check", "--root", str(repo_copy)]) == 0


def test_every_shipped_manifest_and_results_file_is_on_the_page():
    text = (ROOT / "docs" / "results.md").read_text()
    for path in (ROOT / "data" / "pretrained").glob("*.json"):
        manifest = json.loads(path.read_text())
        assert f"### {manifest['name']}" in text
        assert manifest["command"] in text and manifest["machine"] in text
    for path in (ROOT / "data" / "results").glob("*.json"):
        if path.name not in results_page.NOT_HERE:
            assert f"### data/results/{path.name}" in text
    for name, _ in results_page.registered_models(ROOT):
        assert name in text


def test_a_corrupt_record_says_what_to_do(repo_copy):
    (repo_copy / "data" / "results" / "gan_remedies.json").write_text("{not json")
    with pytest.raises(SystemExit, match="gan_remedies.json is not a readable JSON file.*git checkout"):
        report.main(["--root", str(repo_copy)])


def test_recorded_test_times_fill_the_readme_and_testing_tables(repo_copy):
    times = {"00_setup_and_tour.ipynb": (6.4, 9.0), "05_dcgan.ipynb": (51.0, None)}
    timing.record(times, repo_copy / pages.TEST_TIMES, total_seconds=812, machine="Test CPU, 2 CPU cores, GPU: none",
                  date="2031-01-02 03:04 UTC")
    assert report.main(["--root", str(repo_copy)]) == 0
    readme = (repo_copy / "README.md").read_text()
    assert "| 00 | [Setup and a tour of genlab](notebooks/00_setup_and_tour.ipynb) |" in readme
    assert "| 6 s | not measured |" in readme and "| 51 s |" in readme
    assert "2031-01-02 03:04 UTC, Test CPU, 2 CPU cores, GPU: none" in readme
    testing = (repo_copy / "docs" / "testing.md").read_text()
    assert "| 05_dcgan.ipynb | 51 | - | no |" in testing and "812 s in all" in testing


def test_only_a_full_run_on_a_gpu_fills_the_gpu_column(repo_copy):
    runs = {"runs": [
        {"notebook": "05_dcgan.ipynb", "mode": "full", "seconds": 3000.0, "status": "ok", "machine": "CPU, GPU: none"},
        {"notebook": "05_dcgan.ipynb", "mode": "quick", "seconds": 20.0, "status": "ok", "machine": "x, GPU: T4"},
        {"notebook": "02_vae.ipynb", "mode": "full", "seconds": 95.0, "status": "ok", "machine": "x, GPU: T4"}]}
    (repo_copy / pages.NOTEBOOK_RUNS).write_text(json.dumps(runs))
    table = pages.notebook_table(repo_copy)
    assert [line.split(" | ")[4] for line in table.splitlines() if line.startswith(("| 02", "| 05"))] == \
        ["95 s", "not measured"]


def test_a_page_without_its_block_is_an_error(repo_copy):
    (repo_copy / "docs" / "testing.md").write_text("# Testing\n")
    with pytest.raises(SystemExit, match="docs/testing.md has no .*test-times"):
        report.main(["--root", str(repo_copy)])


def test_markdown_hoists_constant_columns_and_merges_mean_and_std():
    rows = [{"name": "a", "settings": {"lr": 0.001, "batch": 64}, "mean": {"FD": 1.23456}, "std": {"FD": 0.5}},
            {"name": "b", "settings": {"lr": 0.002, "batch": 64}, "mean": {"FD": 2.0}, "std": {"FD": 0.25}}]
    lines = markdown.render(rows).splitlines()
    assert lines[0] == "In every row: settings: batch = 64."
    assert lines[2] == "| name | settings: lr | FD |"
    assert lines[4:] == ["| a | 0.001 | 1.235 ± 0.5 |", "| b | 0.002 | 2 ± 0.25 |"]
    curve = markdown.render({"step": [0, 10], "loss": [1.5, 0.75]}).splitlines()
    assert curve == ["| step | loss |", "|---|---|", "| 0 | 1.5 |", "| 10 | 0.75 |"]
    assert markdown.number(12345) == "12,345" and markdown.number(True) == "yes"
    assert markdown.number("a|b") == "a\\|b"
