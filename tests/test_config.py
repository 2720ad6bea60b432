import pytest

from genlab import config


def test_mode_comes_from_environment():
    assert config.detect_mode({"GENLAB_MODE": "quick"}) == "quick"
    assert config.detect_mode({"GENLAB_MODE": " FULL "}) == "full"


def test_mode_falls_back_to_hardware():
    expected = "full" if config.gpu_available() else "quick"
    assert config.detect_mode({}) == expected


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="GENLAB_MODE='fast'.*quick, full"):
        config.detect_mode({"GENLAB_MODE": "fast"})


def test_pick_follows_the_mode():
    saved = config.MODE
    try:
        config.set_mode("quick")
        assert config.pick(quick=3, full=300) == 3
        config.set_mode("full")
        assert config.pick(quick=3, full=300) == 300
        with pytest.raises(ValueError):
            config.set_mode("medium")
    finally:
        config.set_mode(saved)


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
    assert report["mode"] == config.MODE
    assert report["keras"].startswith("3.")
    assert set(report) >= {"python", "tensorflow", "numpy", "gpu", "genlab"}
