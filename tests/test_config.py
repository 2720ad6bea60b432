import pytest

from genlab import config


def test_mode_comes_from_environment():
    assert config.detect_mode({"GENLAB_MODE": "quick"}) == "quick"
    assert config.detect_mode({"GENLAB_MODE": " FULL "}) == "full"


def test_environment_wins_over_hardware():
    assert config.detect_mode({"GENLAB_MODE": "quick"}, has_gpu=lambda: True) == "quick"


def test_mode_falls_back_to_hardware():
    # Explicit hardware answers, not the machine's: the test must not mirror the implementation.
    assert config.detect_mode({}, has_gpu=lambda: True) == "full"
    assert config.detect_mode({"GENLAB_MODE": ""}, has_gpu=lambda: False) == "quick"


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="GENLAB_MODE='fast'.*quick, full"):
        config.detect_mode({"GENLAB_MODE": "fast"})


def test_pick_follows_the_mode_given_or_the_process_mode():
    assert config.pick(quick=3, full=300, mode="quick") == 3
    assert config.pick(quick=3, full=300, mode="full") == 300
    assert config.mode() == "quick"  # tests/conftest.py sets GENLAB_MODE=quick
    assert config.pick(quick=3, full=300) == 3
    with pytest.raises(ValueError, match="medium"):
        config.pick(quick=3, full=300, mode="medium")


def test_mode_is_found_on_first_use_not_at_import():
    import subprocess
    import sys

    script = ("import os; os.environ['GENLAB_MODE'] = 'quick'; from genlab import config; "
              "os.environ['GENLAB_MODE'] = 'full'; print(config.mode())")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "full", result.stderr


def test_seed_everything_makes_runs_repeatable():
    import numpy as np
    import tensorflow as tf

    config.seed_everything(7)
    first = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    config.seed_everything(7)
    second = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_environment_report_names_versions_and_mode():
    report = config.environment_report()
    assert report["mode"] == "quick"
    assert report["keras"].startswith("3.")
    assert set(report) >= {"python", "tensorflow", "numpy", "gpu", "genlab"}
