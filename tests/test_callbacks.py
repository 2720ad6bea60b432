"""genlab.callbacks: grids at intervals and resume for a family trained with fit, and checkpoint names."""

import numpy as np
import pytest

from genlab import callbacks, paths

import keras  # noqa: E402


def tiny_autoencoder(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(4),
                              keras.layers.Dense(784, activation="sigmoid"), keras.layers.Reshape((28, 28, 1))])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def images(count=64):
    return np.random.default_rng(0).uniform(size=(count, 28, 28, 1)).astype("float32")


def test_checkpoint_names_keep_notebook_dataset_and_mode_apart(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_BUILD_DIR", str(tmp_path))
    assert callbacks.checkpoint_dir("05_dcgan", "mnist", "full") == tmp_path / "checkpoints" / "05_dcgan_mnist_full"
    assert callbacks.checkpoint_dir("02_vae", "mnist").name == "02_vae_mnist_quick"  # tests run in quick mode
    with pytest.raises(ValueError):
        callbacks.checkpoint_dir("02_vae", "mnist", "medium")
    monkeypatch.delenv("GENLAB_BUILD_DIR")
    assert paths.build_dir() == paths.REPO_ROOT / "build"


def test_sample_grid_draws_every_n_batches_and_at_the_end(tmp_path):
    model, x = tiny_autoencoder(), images(64)
    grid = callbacks.SampleGrid(lambda: model.predict_on_batch(x[:4]), every=3, directory=tmp_path)
    model.fit(x, x, batch_size=8, epochs=1, verbose=0, callbacks=[grid])  # 8 batches
    assert [step for step, _ in grid.grids] == [3, 6, 8]
    assert grid.grids[0][1].shape == (4, 28, 28) and grid.grids[0][1].dtype == np.uint8
    assert not np.array_equal(grid.grids[0][1], grid.grids[-1][1]), "the model trained between grids"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"iteration_00000{i}.png" for i in (3, 6, 8)]
    with pytest.raises(ValueError):
        callbacks.SampleGrid(lambda: x[:1], every=0)


class StopAfter(keras.callbacks.Callback):
    """Simulates a Colab disconnect: raises at the end of an epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_standard_callbacks_resume_an_interrupted_fit(tmp_path):
    x = images(32)
    reference = tiny_autoencoder()
    reference.fit(x, x, batch_size=8, epochs=3, verbose=0, shuffle=False)

    model = tiny_autoencoder()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, x, batch_size=8, epochs=3, verbose=0, shuffle=False,
                  callbacks=callbacks.standard(tmp_path, progress=False) + [StopAfter(1)])
    resumed = tiny_autoencoder(seed=1)  # other initial weights: the backup must replace them
    history = resumed.fit(x, x, batch_size=8, epochs=3, verbose=0, shuffle=False,
                          callbacks=callbacks.standard(tmp_path, progress=False))
    assert len(history.epoch) == 1, "only the third epoch ran after the resume"
    for ours, theirs in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_standard_callbacks_progress_and_grid():
    listed = callbacks.standard(None, draw=lambda: images(2), every=5)
    assert [type(c).__name__ for c in listed] == ["TqdmCallback", "SampleGrid"]
