"""genlab.pretrained: shipped weights load only when intact, and are what their manifest says."""

import json
import shutil

import numpy as np
import pytest

from genlab import evaluation, paths, pretrained, registry


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/pretrained to damage."""
    shutil.copytree(pretrained.directory(), tmp_path / "pretrained")
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    return tmp_path / "pretrained"


def test_every_registered_model_with_weights_ships_them_within_the_size_rules():
    shipped = [entry.pretrained for entry in map(registry.get, registry.names()) if entry.pretrained]
    assert shipped and set(shipped) <= set(pretrained.names())
    sizes = [(pretrained.directory() / pretrained.info(name)["file"]).stat().st_size for name in pretrained.names()]
    assert max(sizes) <= pretrained.MAX_BYTES and sum(sizes) <= pretrained.MAX_TOTAL_BYTES
    for name in pretrained.names():
        info = pretrained.info(name)
        assert info["sha256"] == paths.sha256(pretrained.directory() / info["file"])
        assert info["command"].startswith("python scripts/train_pretrained.py ")


def test_the_shipped_dcgan_scores_what_its_manifest_records():
    """Same generator, same noise, same real subset: the recorded FID is reproduced, and beats noise."""
    info = pretrained.info("dcgan_mnist")
    entry = registry.get("dcgan_mnist")
    recorded = info["evaluation_check"]
    samples = entry.sampler()(recorded["n"], seed=recorded["seed"])
    result = evaluation.evaluate(samples, "mnist", n=recorded["n"], seed=recorded["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    assert fid["real train (floor)"] < fid["samples"] < fid["uniform noise (ceiling)"] / 5
    assert info["settings"]["iterations"] == 10000  # notebook 05's full mode


def test_corrupt_weights_are_an_error_naming_the_file(data_copy):
    info = pretrained.info("dcgan_mnist")
    weights = data_copy / info["file"]
    weights.write_bytes(weights.read_bytes()[:-16] + b"0" * 16)
    with pytest.raises(paths.ChecksumError, match=f"{info['file']} is corrupt.*git checkout -- data/"):
        pretrained.load("dcgan_mnist")
    weights.unlink()
    with pytest.raises(FileNotFoundError, match=f"{info['file']} is missing"):
        pretrained.load("dcgan_mnist")


def test_unknown_or_manifestless_models_are_clear_errors(data_copy):
    with pytest.raises(FileNotFoundError, match="no shipped weights named 'nope'.*shipped: \\[.*'dcgan_mnist'"):
        pretrained.load("nope")
    (data_copy / "dcgan_mnist.json").unlink()
    with pytest.raises(FileNotFoundError, match="dcgan_mnist"):
        pretrained.load("dcgan_mnist")


def test_a_builder_outside_the_model_families_is_refused(data_copy):
    manifest = data_copy / "dcgan_mnist.json"
    info = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(dict(info, builder="os:system")))
    with pytest.raises(ValueError, match="not a genlab model family"):
        pretrained.load("dcgan_mnist")
    assert np.isfinite(info["train_seconds"])


def load_as_shipped(weights, storage_dtype):
    """pretrained.load of an MLP-GAN generator stored at ``weights`` (in DATA_DIR/pretrained) with a minimal manifest."""
    name = weights.name.replace(".weights.h5", "")
    (weights.parent / f"{name}.json").write_text(json.dumps({
        "file": weights.name, "sha256": paths.sha256(weights), "storage_dtype": storage_dtype,
        "builder": "genlab.models.mlp_gan:build_generator"}))
    return pretrained.load(name)


def test_a_float16_stored_model_loads_as_float32(tmp_path, monkeypatch):
    """storage_dtype "float16": half the bytes on disk, float32 weights after load, values rounded to float16."""
    from genlab.models import mlp_gan

    folder = tmp_path / "pretrained"
    folder.mkdir()
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    model = mlp_gan.build_generator()
    full, half = tmp_path / "full.weights.h5", folder / "half.weights.h5"
    pretrained.store_weights(model, full)
    pretrained.store_weights(model, half, "float16")
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded = load_as_shipped(half, "float16")
    assert all(weight.dtype == "float32" for weight in loaded.weights)
    for original, restored in zip(model.weights, loaded.weights):
        assert np.array_equal(original.numpy().astype(np.float16).astype(np.float32), restored.numpy())
    with pytest.raises(ValueError, match="storage_dtype"):
        pretrained.store_weights(model, half, "int4")


def test_an_int8_stored_model_loads_as_float32_within_half_a_step(tmp_path, monkeypatch):
    """storage_dtype "int8": matrices in int8 with per-column scales (within half a step), the rest in float16."""
    import h5py

    from genlab.models import mlp_gan

    folder = tmp_path / "pretrained"
    folder.mkdir()
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    model = mlp_gan.build_generator()
    for weight in model.weights:   # non-zero biases and statistics too, so every array is checked
        weight.assign(np.random.default_rng(0).normal(0.0, 0.05, weight.shape).astype("float32"))
    full, small = tmp_path / "full.weights.h5", folder / "small.weights.h5"
    pretrained.store_weights(model, full)
    pretrained.store_weights(model, small, "int8")
    assert small.stat().st_size < 0.3 * full.stat().st_size
    with h5py.File(small) as stored:
        kinds = set()
        stored.visititems(lambda name, item: kinds.add(str(item.dtype)) if isinstance(item, h5py.Dataset) else None)
    assert {"int8", "float16"} <= kinds and "float32" not in kinds
    loaded = load_as_shipped(small, "int8")
    assert all(weight.dtype == "float32" for weight in loaded.weights)
    for original, restored in zip(model.weights, loaded.weights):
        values, back = original.numpy(), restored.numpy()
        if values.ndim >= 2:
            step = np.abs(values).reshape(-1, values.shape[-1]).max(axis=0) / 127
            assert np.all(np.abs(back - values) <= step / 2 + 1e-7)
        else:
            assert np.array_equal(values.astype(np.float16).astype(np.float32), back)


def test_every_manifest_records_the_standard_evaluation_and_a_quick_check():
    """N = 10,000 against the test digits (floor and ceiling at the same N), and the N = 1,000 check."""
    for name in pretrained.names():
        info = pretrained.info(name)
        standard, check = info["evaluation"], info["evaluation_check"]
        assert check["n"] == evaluation.QUICK_N and check["seed"] == standard["seed"], name
        # The standard N, or a smaller one with the reason recorded (a sampler too slow for 10,000).
        assert standard["n"] == evaluation.STANDARD_N or len(info.get("evaluation_n_reason", "")) > 20, name
        for record in (standard, check):
            assert set(record["values"]) == {evaluation.SAMPLES, evaluation.FLOOR, evaluation.CEILING}, name


@pytest.mark.skipif(__import__("os").environ.get("GENLAB_SLOW_TESTS") != "1",
                    reason="samples 10,000 images per shipped model (minutes each for the slow samplers); "
                           "GENLAB_SLOW_TESTS=1 runs it")
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", pretrained.names())
def test_every_shipped_model_reproduces_its_standard_evaluation(name):
    result = evaluation.remeasure_shipped(name, which=("FID",), references_too=False, record="evaluation")
    recorded = pretrained.info(name)["evaluation"]["values"]["samples"]["FID"]
    assert float(result["samples"]["FID"]) == pytest.approx(recorded, rel=0.02)
