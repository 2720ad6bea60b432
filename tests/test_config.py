"""genlab.config: the mode, seeding and the environment report (the precision: test_precision.py)."""

import pytest

from genlab import config


def test_mode_comes_from_environment():
    assert config.detect_mode({"GENLAB_MODE": "quick"}) == "quick"
    assert config.detect_mode({"GENLAB_MODE": " FULL "}) == "full"
    assert config.detect_mode({"GENLAB_MODE": "quick"}, has_gpu=lambda: True) == "quick"  # forced


def test_mode_falls_back_to_hardware():
    assert config.detect_mode({}, has_gpu=lambda: True) == "full"
    assert config.detect_mode({"GENLAB_MODE": ""}, has_gpu=lambda: False) == "quick"


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="GENLAB_MODE='fast'.*quick, full"):
        config.detect_mode({"GENLAB_MODE": "fast"})


def test_pick_follows_the_mode():
    assert config.pick(quick=3, full=300, mode="quick") == 3
    assert config.pick(quick=3, full=300, mode="full") == 300
    assert config.pick(quick=3, full=300) == (3 if config.mode() == "quick" else 300)
    with pytest.raises(ValueError):
        config.pick(quick=3, full=300, mode="medium")


def test_seed_everything_makes_runs_repeatable():
    import numpy as np
    import tensorflow as tf

    config.seed_everything(7)
    first = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    config.seed_everything(7)
    second = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_seed_everything_leaves_the_precision_alone():
    import keras

    with config.precision_scope("mixed_bfloat16"):
        config.seed_everything(7)
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    config.seed_everything(7)
    assert keras.mixed_precision.dtype_policy().name == "float32"


def test_environment_report_names_versions_mode_and_precision():
    report = config.environment_report()
    assert report["mode"] == config.mode()
    assert report["keras"].startswith("3.")
    assert set(report) >= {"python", "tensorflow", "numpy", "gpu", "genlab", "precision"}
    assert report["precision"].startswith(config.precision() + " (")
    other = "float32" if config.precision() == "mixed_bfloat16" else "mixed_bfloat16"
    with config.precision_scope(config.precision()):
        assert "in force" not in config.environment_report()["precision"]
    with config.precision_scope(other):
        assert config.environment_report()["precision"].endswith(f"Keras policy in force: {other}")
