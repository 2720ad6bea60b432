"""Training utilities every model family shares, as Keras callbacks, and checkpoint names.

Why it exists: a GAN trained with genlab's alternating loop and a VAE,
PixelCNN or diffusion model trained with ``model.fit`` need the same things
the book leaves out: a progress bar, grids of fixed inputs drawn at intervals
(so samples are comparable over time), checkpoints that survive a Colab
disconnect, and one place that names a checkpoint. Keras and tqdm already
have most of it (``tqdm.keras.TqdmCallback``, ``keras.callbacks.BackupAndRestore``,
``History``); this module adds :class:`SampleGrid`, which they lack, and
:func:`standard`, the list a ``fit`` call passes. :func:`genlab.gan.train`
uses the same :class:`SampleGrid` for its grids.

Example (any family)::

    callbacks_ = callbacks.standard(callbacks.checkpoint_dir("02_vae", "mnist"),
                                    draw=lambda: decoder.predict_on_batch(fixed_z), every=200)
    model.fit(x, epochs=EPOCHS, callbacks=callbacks_)
    grids = callbacks_[-1].grids        # [(step, uint8 images), ...]
"""

from pathlib import Path

import numpy as np

from genlab import config, paths, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)

import keras  # noqa: E402


def checkpoint_dir(notebook, dataset, mode=None):
    """The one name of a training run's checkpoint folder: ``build/checkpoints/<notebook>_<dataset>_<mode>``.

    Quick and full runs are kept apart, so a short CI run never resumes a long one.
    """
    return paths.build_dir() / "checkpoints" / f"{notebook}_{dataset}_{config.check_mode(mode)}"


def to_uint8(images):
    """Generated images in [-1, 1] (floats) or uint8, as uint8 (N, H, W[, C>1]) for grids."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        from genlab import data

        images = data.to_uint8(images.astype(np.float32), from_range="tanh" if images.min() < 0 else "sigmoid")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images


class SampleGrid(keras.callbacks.Callback):
    """Draws the model's output for fixed inputs every ``every`` training steps, and at the end.

    Args:
        draw: a function of no arguments returning images (uint8, or floats in
            [-1, 1] or [0, 1]), e.g. ``lambda: generator.predict_on_batch(fixed_noise)``.
        every: training steps (batches; for a GAN, iterations) between grids;
            None draws only at the end.
        directory: also save each grid as ``iteration_XXXXXX.png`` there.
        step: the step training starts after (a resumed run continues the count).

    Attributes:
        grids: ``[(step, uint8 images), ...]``.
    """

    def __init__(self, draw, every=None, directory=None, step=0, **kwargs):
        super().__init__(**kwargs)
        if every is not None and every < 1:
            raise ValueError(f"every must be a positive number of steps or None, got {every!r}")
        self.draw = draw
        self.every = every
        self.directory = None if directory is None else Path(directory)
        self.step = step
        self.grids = []

    def capture(self):
        """Draw a grid now, at the current step."""
        grid = to_uint8(self.draw())
        self.grids.append((self.step, grid))
        if self.directory is not None:
            import matplotlib.image

            from genlab import plots

            self.directory.mkdir(parents=True, exist_ok=True)
            matplotlib.image.imsave(self.directory / f"iteration_{self.step:06d}.png", plots.tile(grid),
                                    cmap="gray", vmin=0.0, vmax=1.0)
        return grid

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every and self.step % self.every == 0:
            self.capture()

    def on_train_end(self, logs=None):
        if not self.grids or self.grids[-1][0] != self.step:
            self.capture()


def standard(directory=None, draw=None, every=None, progress=True, save_freq="epoch"):
    """The callbacks a ``fit`` of any family passes: progress, checkpoints with resume, grids.

    Args:
        directory: checkpoint folder (see :func:`checkpoint_dir`); None: no checkpoints.
            Keras' ``BackupAndRestore`` saves model and optimizer there and a later
            ``fit`` with the same folder resumes where the last one stopped.
        draw, every: a :class:`SampleGrid` (last in the list) when ``draw`` is given.
        progress: a tqdm bar (``tqdm.keras.TqdmCallback``) instead of Keras' own lines.
        save_freq: "epoch" or a number of batches between backups.

    Returns:
        A list of callbacks; fit with ``verbose=0`` when ``progress`` is on.
    """
    result = []
    if progress:
        from tqdm.keras import TqdmCallback

        result.append(TqdmCallback(verbose=0))
    if directory is not None:
        result.append(keras.callbacks.BackupAndRestore(str(Path(directory) / "backup"), save_freq=save_freq))
    if draw is not None:
        result.append(SampleGrid(draw, every))
    return result


class LearningCurve(keras.callbacks.Callback):
    """FID of the model's samples every ``every`` steps, kept in a JSON file that a resumed run continues.

    Why: a shipped model's training budget is chosen from its curve (does FID
    still fall at the end?), and ``scripts/train_pretrained.py`` records the
    curve in the manifest. FID is measured at a small N (``n``, default 2,000
    against 2,000 test digits, :mod:`genlab.evaluation`), so its values sit above
    those of the standard N = 10,000; only their course over training counts.

    Args:
        sample_fn: ``sample_fn(n, seed=...)`` -> images, e.g. ``dcgan.sampler(generator)``.
        fid: ``fid(images, n, seed)`` -> FID against the test digits, e.g. from
            :func:`genlab.evaluation.evaluate` (passed in: genlab.evaluation imports the
            registry, which imports this module).
        every: steps (GAN iterations, or batches) between points; the last step is measured too.
        path: the JSON file of points ``{"n": n, "points": [[step, FID], ...]}``.
        last: the run's last step (measured even when not a multiple of ``every``).
    """

    def __init__(self, sample_fn, fid, every, path, last=None, n=2000, seed=0):
        super().__init__()
        self.sample_fn, self.fid, self.every, self.path, self.last = sample_fn, fid, int(every), Path(path), last
        self.n, self.seed = n, seed
        self.points = self.load(self.path)

    @staticmethod
    def load(path):
        """The points already in ``path`` ([] if there is none)."""
        import json

        path = Path(path)
        return json.loads(path.read_text(encoding="utf-8"))["points"] if path.is_file() else []

    def on_train_batch_end(self, batch, logs=None):
        step = int(batch)
        if step % self.every and step != self.last:
            return
        if self.points and self.points[-1][0] >= step:   # measured before a resume
            return
        import json
        import os

        self.points.append([step, round(float(self.fid(self.sample_fn(self.n, seed=self.seed), self.n, self.seed)), 3)])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"n": self.n, "seed": self.seed, "points": self.points}) + "\n",
                             encoding="utf-8")
        os.replace(temporary, self.path)
