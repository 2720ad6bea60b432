"""Tests for genlab.report: the registry contract and the report command in quick mode."""

import json

import numpy as np
import pytest

import genlab  # noqa: F401
from genlab import data, registrations, report


@pytest.fixture
def real_digits_model():
    """A 'model' that samples real training digits: must score near the floor."""
    (x_train, _), _ = data.load_mnist(source="shipped")

    def sample_fn(n, seed=0):
        return x_train[np.random.default_rng(seed + 1).permutation(len(x_train))[:n]]

    entry = report.register("real_digits", dataset="mnist", sample_fn=sample_fn, train_seconds=0.0)
    yield entry
    report._REGISTRY.pop("real_digits", None)


def test_register_validates_arguments():
    with pytest.raises(ValueError, match="dataset"):
        report.register("x", dataset="cifar10", sample_fn=lambda n, seed: None)
    with pytest.raises(ValueError, match="sample_fn"):
        report.register("x", dataset="mnist")
    with pytest.raises(ValueError, match="no model registered"):
        report.get("no_such_model")
    assert "dcgan_mnist" in report.registered()


def test_in_memory_model_scores_like_real_data(real_digits_model):
    rows, images = report.evaluate("real_digits", n=300, mode="quick")
    assert images.shape == (300, 28, 28) and images.dtype == np.uint8
    value = {(r["model"], r["metric"]): r for r in rows}
    fid, floor = value[("real_digits", "FID")], value[("real train (floor)", "FID")]
    noise = value[("uniform noise (ceiling)", "FID")]
    assert fid["n"] == floor["n"] == noise["n"] == 300 and fid["extractor"] == "mnist"
    assert fid["value"] < 3 * floor["value"] < noise["value"]
    assert fid["source"] == "in memory"


def test_report_command_quick_mode(tmp_path, monkeypatch, real_digits_model):
    """Train the DCGAN briefly (no checkpoint yet), write the report, then reuse the checkpoint."""
    monkeypatch.setitem(registrations.DCGAN_ITERATIONS, "quick", 30)

    def offline():
        raise data.DatasetUnavailableError("Fashion-MNIST needs a download (simulated offline)")

    monkeypatch.setattr(data, "load_fashion_mnist", offline)
    entry = report.get("dcgan_mnist")
    monkeypatch.setattr(entry, "checkpoint", [str(tmp_path / "nb05_{mode}"), str(tmp_path / "ckpt_{mode}")])
    out = tmp_path / "report"
    assert report.main(["--mode", "quick", "--n", "200", "--out", str(out),
                        "--models", "dcgan_mnist,real_digits,dcgan_fashion_mnist"]) == 0
    assert "| dcgan_mnist | mnist | mnist | 200 |" in (out / "report.md").read_text()  # summary
    text = (out / "report.md").read_text()
    for needle in ("| dcgan_mnist | mnist | FID | mnist | 200 |", "Mode: quick", "trained now (quick)",
                   "real train (floor)", "uniform noise (ceiling)", "CPU cores",
                   "Skipped dcgan_fashion_mnist: Fashion-MNIST needs a download"):
        assert needle in text, needle
    for picture in ("fid.png", "dcgan_mnist_samples.png", "real_digits_samples.png"):
        assert (out / "report" / picture).stat().st_size > 1000
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert {r["metric"] for r in rows} == {"FID", "KID", "IS", "precision", "recall"}
    assert (tmp_path / "ckpt_quick").is_dir()
    rows, _ = report.evaluate("dcgan_mnist", n=100, mode="quick", with_references=False)
    assert rows[0]["source"] == "checkpoint ckpt_quick" and rows[0]["training"].endswith(" s")
