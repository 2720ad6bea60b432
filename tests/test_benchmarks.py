"""benchmarks/dcgan.py runs end to end on a tiny budget and reports what it measured.

A smoke test of the script's command line, not a timed test: the figures it
prints are the benchmark's business (benchmarks/README.md). That the staged
run (``--fid-every``) repeats the uninterrupted one rests on checkpoint resume,
which tests/test_gan_loop.py proves.
"""

import importlib.util
import re

import numpy as np
import pytest

from genlab import paths

SCRIPT = paths.REPO_ROOT / "benchmarks" / "dcgan.py"
TINY = ["--iterations", "12", "--batch-size", "8", "--samples", "64", "--plain-iterations", "10"]


@pytest.fixture(scope="module")
def dcgan_benchmark():
    spec = importlib.util.spec_from_file_location("dcgan_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_prints_curve_ratio_floor_ceiling_and_misses_the_target(dcgan_benchmark, capsys, tmp_path):
    samples_out = tmp_path / "samples.npy"
    # 12 iterations cannot reach FID <= 12: the script must say FAIL and exit 1.
    assert dcgan_benchmark.main(TINY + ["--fid-every", "6", "--samples-out", str(samples_out)]) == 1
    output = capsys.readouterr().out
    curve = float(re.search(r"iteration\s+6: FID\s+([\d.]+)", output).group(1))
    fid = float(re.search(r"FID samples\s+vs held-out:\s+([\d.]+).*FAIL", output).group(1))
    floor = float(re.search(r"FID train\s+vs held-out:\s+([\d.]+)", output).group(1))
    ceiling = float(re.search(r"FID uniform\s+vs held-out:\s+([\d.]+)", output).group(1))
    assert floor < fid and floor < curve and floor < ceiling
    assert re.search(r"ratio genlab/plain\s+:\s+[\d.]+x", output)
    assert "N=64 per set" in output
    samples = np.load(samples_out)
    assert samples.dtype == np.uint8 and samples.shape == (64, 28, 28)


def test_bad_fid_every_is_a_usage_error(dcgan_benchmark, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dcgan_benchmark.main(["--fid-every", "0"])
    assert exit_info.value.code == 2 and "--fid-every" in capsys.readouterr().err


def test_pixel_models_speed_matches_parameters_and_records_every_batch_size(tmp_path, load_script):
    module = load_script("benchmarks/pixel_models_speed.py")
    out = tmp_path / "speed.json"
    module.main(["--blocks", "2", "--steps", "1", "--batch-sizes", "1", "4", "--sample-n", "2",
                 "--sample-pixels", "2", "--out", str(out)])
    record = __import__("json").loads(out.read_text())
    cnn, rnn = record["networks"]["PixelCNN"], record["networks"]["PixelRNN (Row LSTM)"]
    assert abs(rnn["parameters"] - cnn["parameters"]) <= 0.02 * cnn["parameters"]
    assert rnn["sequential_steps_per_training_pass"] - cnn["sequential_steps_per_training_pass"] >= 28 - 7
    assert set(record["training_ms_per_step"]) == {"1", "4"}
    for by_network in record["training_ms_per_step"].values():
        assert by_network["ratio PixelRNN / PixelCNN"] > 0
        assert all(0 < row["min"] <= row["median"] <= row["max"] for name, row in by_network.items()
                   if not name.startswith("ratio"))
    assert record["sampling"]["ms_per_pixel"]["PixelCNN"]["seconds_per_image_batch"] > 0


def test_sampling_speed_records_every_model_with_its_weights(tmp_path, load_script):
    module = load_script("benchmarks/sampling_speed.py")
    out = tmp_path / "speed.json"
    module.main(["--models", "dcgan_mnist", "vae_mnist", "--blocks", "2", "--batch", "4",
                 "--out", str(out)])
    record = __import__("json").loads(out.read_text())
    assert set(record["models"]) == {"dcgan_mnist", "vae_mnist"}
    from genlab import pretrained

    for name, row in record["models"].items():
        speed = row["samples_per_second"]
        assert 0 < speed["min"] <= speed["median"] <= speed["max"]
        assert row["batch"] == 4 and row["weights_sha256"] == pretrained.info(name)["sha256"]
    assert {"start", "end"} <= set(record["load_average"])
