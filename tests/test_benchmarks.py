"""benchmarks/dcgan.py runs end to end on a tiny budget; its FID curve repeats the plain run.

A smoke test of the script's command line, not a timed test: the figures it
prints are the benchmark's business (benchmarks/README.md).
"""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dcgan.py"
TINY = ["--iterations", "12", "--batch-size", "8", "--samples", "64", "--plain-iterations", "10"]


@pytest.fixture(scope="module")
def dcgan_benchmark():
    spec = importlib.util.spec_from_file_location("dcgan_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def final_fid(output):
    return re.search(r"FID samples\s+vs held-out:\s+([\d.]+)", output).group(1)


def test_fid_curve_stages_repeat_the_uninterrupted_run(dcgan_benchmark, capsys, tmp_path):
    samples_out = tmp_path / "samples.npy"
    assert dcgan_benchmark.main(TINY + ["--samples-out", str(samples_out)]) in (0, 1)
    plain = capsys.readouterr().out
    assert dcgan_benchmark.main(TINY + ["--fid-every", "6"]) in (0, 1)
    staged = capsys.readouterr().out

    assert re.search(r"iteration\s+6: FID\s+[\d.]+", staged) and "during training" not in plain
    assert final_fid(staged) == final_fid(plain)  # stopping and resuming changed nothing
    assert re.search(r"ratio genlab/plain\s+:\s+[\d.]+x", plain)
    samples = np.load(samples_out)
    assert samples.dtype == np.uint8 and samples.shape == (64, 28, 28)


def test_bad_fid_every_is_a_usage_error(dcgan_benchmark, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dcgan_benchmark.main(["--fid-every", "0"])
    assert exit_info.value.code == 2 and "--fid-every" in capsys.readouterr().err
