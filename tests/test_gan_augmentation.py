"""GAN data augmentation (genlab.gan.augmentation, scripts/gan_augmentation.py): the experiment's parts."""

import json

import numpy as np
import pytest

from genlab.gan import augmentation


def test_balanced_subset_takes_as_many_of_each_class_and_repeats_with_its_seed():
    labels = np.random.default_rng(0).integers(0, 10, 2000)
    chosen = augmentation.balanced_subset(labels, 7, seed=3)
    assert np.bincount(labels[chosen], minlength=10).tolist() == [7] * 10
    assert len(set(chosen.tolist())) == 70
    assert np.array_equal(chosen, augmentation.balanced_subset(labels, 7, seed=3))
    assert not np.array_equal(chosen, augmentation.balanced_subset(labels, 7, seed=4))


def test_the_classifier_learns_a_separable_task_and_synthetic_digits_enter_its_batches():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 4).astype("int32")
    images = np.zeros((40, 28, 28, 1), "float32")
    for i, label in enumerate(labels):                 # class k: a bright square at row 2k
        images[i, 2 * label:2 * label + 3, 5:20] = 1.0
    images += rng.uniform(0, 0.1, images.shape).astype("float32")
    model = augmentation.train_classifier((images, labels), steps=120, seed=0)
    assert augmentation.accuracy(model, images, labels) >= 0.9
    # Synthetic digits all of class 0 with the real half's images: a model trained on them
    # predicts 0 more often than one trained on the real digits alone.
    wrong = (images, np.zeros(40, "int32"))
    skewed = augmentation.train_classifier((images, labels), wrong, steps=120, seed=0)
    assert np.mean(np.argmax(skewed.predict(images, verbose=0), 1) == 0) > 0.2


def test_summary_gives_mean_and_spread_per_size_and_arm():
    rows = [{"labelled": 100, "seed": s, "accuracy": {"real only": a, "real + shifts/rotations": b}}
            for s, (a, b) in enumerate([(0.7, 0.8), (0.8, 0.9)])]
    table = augmentation.summary(rows)
    assert table["100"]["real only"] == {"mean": 0.75, "std": round(float(np.std([0.7, 0.8], ddof=1)), 4), "seeds": 2}
    assert "real + cGAN (same labels)" not in table["100"]


def test_the_script_refuses_to_overwrite_or_resume_other_settings(tmp_path, load_script):
    script = load_script("scripts/gan_augmentation.py")
    out = tmp_path / "aug.json"
    out.write_text(json.dumps({"settings": {"labelled": [5]}, "rows": [], "seconds": 0}))
    with pytest.raises(SystemExit, match="exists"):
        script.main(["--mode", "quick", "--out", str(out)])
    with pytest.raises(SystemExit, match="other settings"):
        script.main(["--mode", "quick", "--out", str(out), "--resume"])
    assert json.loads(out.read_text())["settings"] == {"labelled": [5]}
