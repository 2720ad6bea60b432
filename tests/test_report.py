"""genlab.course.report over the registry, and the registry's contract."""

import json

import numpy as np
import pytest

from genlab import data, registry
from genlab.course import report
from genlab.models import dcgan


def test_register_validates_arguments():
    with pytest.raises(ValueError, match="dataset"):
        registry.register("x", dataset="cifar10", family="genlab.models.dcgan", notebook="05_dcgan")
    with pytest.raises(ValueError, match="genlab.models"):
        registry.register("x", dataset="mnist", family="os", notebook="05_dcgan")
    with pytest.raises(ValueError, match="no model registered"):
        registry.get("no_such_model")
    assert {"dcgan_mnist", "dcgan_fashion_mnist"} <= set(registry.names())
    assert "x" not in registry.names()


def test_registry_is_in_notebook_order_and_translations_say_what_fid_compares():
    notebooks = [registry.get(name).notebook for name in registry.names()]
    assert notebooks == sorted(notebooks)
    for name in ("pix2pix_mnist", "cyclegan_mnist", "superres_mnist"):
        assert "below the real-vs-real floor" in registry.get(name).describe(source="train", mode="quick")
    assert "floor" not in registry.get("dcgan_mnist").describe(source="train", mode="quick")


def test_a_model_without_shipped_weights_says_so():
    with pytest.raises(RuntimeError, match="no shipped weights.*retrain"):
        registry.get("dcgan_fashion_mnist").generator(source="shipped")
    with pytest.raises(ValueError, match="source"):
        registry.get("dcgan_mnist").generator(source="somewhere")


def test_report_command_retrains_in_quick_mode(tmp_path, monkeypatch):
    """--retrain: the DCGAN trains with notebook 05's quick settings into its own checkpoint."""
    monkeypatch.setitem(dcgan.ITERATIONS, "quick", 6)
    monkeypatch.setenv("GENLAB_BUILD_DIR", str(tmp_path / "build"))

    def offline(mode=None):
        raise data.DatasetUnavailableError("Fashion-MNIST needs a download (simulated offline)")

    monkeypatch.setattr(data, "load_fashion_mnist", offline)
    out = tmp_path / "report"
    assert report.main(["--evaluate", "--mode", "quick", "--n", "200", "--out", str(out), "--retrain",
                        "--models", "dcgan_mnist,dcgan_fashion_mnist"]) == 0
    text = (out / "report.md").read_text()
    for needle in ("| dcgan_mnist | mnist | mnist | 200 |", "| dcgan_mnist | mnist | FID | mnist | 200 |",
                   "Mode: quick", "dcgan_mnist: trained now in quick mode (notebook 05_dcgan's settings)",
                   "real train (floor)", "uniform noise (ceiling)", "CPU cores",
                   "Skipped dcgan_fashion_mnist: Fashion-MNIST needs a download"):
        assert needle in text, needle
    for picture in ("fid.png", "dcgan_mnist_samples.png"):
        assert (out / "report" / picture).stat().st_size > 1000
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert {r["metric"] for r in rows} == {"FID", "KID", "IS", "precision", "recall"}
    assert {r["n"] for r in rows} == {200}
    fid = {r["model"]: r["value"] for r in rows if r["metric"] == "FID"}
    assert fid["real train (floor)"] < fid["dcgan_mnist"] < fid["uniform noise (ceiling)"] * 1.5
    assert (tmp_path / "build" / "checkpoints" / "report_dcgan_mnist_mnist_quick" / "state.npz").is_file()


def test_unknown_model_fails_before_any_work(capsys):
    with pytest.raises(ValueError, match="no model registered as 'nope'"):
        report.main(["--evaluate", "--models", "nope"])


def test_summary_table_has_one_line_per_model():
    rows = [dict(model=m, dataset="mnist", metric=k, extractor="mnist", n=10, value=v, std=None)
            for m in ("a", "b") for k, v in (("FID", 1.0), ("IS", 2.0))]
    lines = report.summary(rows).splitlines()
    assert len(lines) == 4 and lines[2].startswith("| a | mnist | mnist | 10 | 1 | - | 2 |")
    assert np.isfinite(rows[0]["value"])
