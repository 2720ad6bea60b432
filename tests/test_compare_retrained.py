"""scripts/compare_retrained.py: a candidate is compared with the shipped model in one run, and installed only if better."""

import importlib.util
import json
import shutil

import pytest

from genlab import paths, pretrained


@pytest.fixture
def script():
    spec = importlib.util.spec_from_file_location("compare_retrained", paths.REPO_ROOT / "scripts" / "compare_retrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """data/ with the classifier and the shipped DCGAN only, so nothing in the repository is written."""
    for name in ("mnist_classifier.weights.h5", "mnist_classifier.json"):
        shutil.copy(paths.DATA_DIR / name, tmp_path / name)
    (tmp_path / "pretrained").mkdir()
    (tmp_path / "results").mkdir()
    for name in ("dcgan_mnist.json", "dcgan_mnist.weights.h5"):
        shutil.copy(pretrained.directory() / name, tmp_path / "pretrained" / name)
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    return tmp_path


def test_an_identical_candidate_is_not_better_and_is_not_installed(script, data_copy, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(data_copy / "pretrained", candidate)
    info = json.loads((candidate / "dcgan_mnist.json").read_text())
    info["data"] = {"train_images": 60_000}
    info["train_seconds"] = 1
    (candidate / "dcgan_mnist.json").write_text(json.dumps(info))
    assert script.main(["dcgan_mnist", "--candidate", str(candidate), "--n", "200", "--install"]) == 1
    result = json.loads((data_copy / "results" / "retrained_dcgan_mnist.json").read_text())
    assert result["n"] == 200 and result["retrained_fid_lower"] is False
    assert result["shipped"]["values"]["FID"] == result["retrained"]["values"]["FID"]   # same weights, same run
    assert result["floor"]["FID"] < result["shipped"]["values"]["FID"] < result["ceiling"]["FID"]
    assert result["shipped"]["fid_over_floor"] > 1 and "CPU cores" in result["machine"]


def test_a_damaged_candidate_is_an_error_naming_it(script, data_copy, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(data_copy / "pretrained", candidate)
    weights = candidate / "dcgan_mnist.weights.h5"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(paths.ChecksumError, match="dcgan_mnist.weights.h5 is corrupt.*train_pretrained.py dcgan_mnist"):
        script.main(["dcgan_mnist", "--candidate", str(candidate), "--n", "100"])
