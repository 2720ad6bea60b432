"""The training monitor records what the case study is diagnosed from, with gan.train and without a display."""

import numpy as np

from genlab import gan
from genlab.gan import monitor

import keras  # noqa: E402


def test_ring_evaluator_has_floor_below_ceiling_and_counts_modes():
    evaluator = monitor.RingEvaluator(n=400, std=0.05)
    assert evaluator.floor["covered"] == 8 and evaluator.ceiling["covered"] == 0   # noise covers no mode
    assert evaluator.floor["FD"] < 0.05 * evaluator.ceiling["FD"]
    collapsed = np.tile(evaluator.centres[:1], (400, 1))                           # every sample on mode 0
    result = evaluator(collapsed)
    assert result["covered"] == 1 and result["hits"] == 1.0 and result["FD"] > evaluator.floor["FD"]


def test_monitor_records_logs_evaluates_and_plots_headless():
    evaluator = monitor.RingEvaluator(n=200)
    rng = np.random.default_rng(0)
    watch = monitor.TrainingMonitor(evaluator, sample=lambda n: rng.normal(size=(n, 2)), every=5, live="auto")
    assert watch.live is False                                  # no Jupyter kernel under pytest: never draws
    watch.evaluate(0)
    for iteration in range(1, 11):
        logs = {"d_acc_real": 1.0, "d_acc_fake": 0.5, "g_grad_norm": 0.1 * iteration}
        if iteration > 3:
            logs["d_fake_prob"] = 0.2                           # a key that appears late stays aligned
        watch.on_train_batch_end(iteration, logs)
    assert [e["iteration"] for e in watch.evaluations] == [0, 5, 10]
    steps, norms = watch.series("g_grad_norm")
    assert steps.tolist() == list(range(1, 11)) and np.isclose(norms[-1], 1.0)
    assert np.isnan(watch.history["d_fake_prob"][0]) and len(watch.history["d_fake_prob"]) == 10
    figure = watch.plot(title="test")
    assert len(figure.axes) == 4
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_monitor_works_as_a_callback_of_gan_train():
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                                      keras.layers.Dense(1, activation="sigmoid")])
    discriminator.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    combined = gan.build_combined(generator, discriminator, keras.optimizers.Adam(1e-3))
    points = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    watch = monitor.TrainingMonitor(monitor.RingEvaluator(n=100), every=2)   # samples from combined.generator
    gan.train(generator, discriminator, combined, points, iterations=4, batch_size=16, sample_interval=None,
              progress=False, callbacks=[watch])
    assert watch.iterations == [1, 2, 3, 4]
    assert set(watch.history) >= {"d_loss_real", "d_loss_fake", "d_acc", "g_loss"}
    assert [e["iteration"] for e in watch.evaluations] == [2, 4]
