"""The frozen-D guarantees of genlab.gan, on the book's architecture and on tiny models.

(1) D's own ``train_on_batch`` changes D's weights.
(2) ``combined.train_on_batch`` changes G's weights and leaves every D weight
    (trainable weights and BatchNormalization moving statistics) bit-for-bit unchanged.
(3) In the combined step D normalises with batch statistics, as in its own step.
Plus: (2) and (3) hold however and whenever the student flips ``trainable``
flags (Keras 3 reads them when a step is traced, including retraces).
Each guarantee is proved under both precisions genlab may choose
(``config.use_precision``): float32 and mixed_bfloat16. The training loop is
tested in test_gan_loop.py.
"""

import numpy as np
import pytest

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import config, gan
from genlab.models import dcgan

import keras  # noqa: E402
from tiny_gan import LATENT, adam, build, moving_statistics, noise, real_batch, values  # noqa: E402

# How close the combined step's loss must be to the hand-computed batch-statistics loss. In
# bfloat16 the compiled step and the eager hand pass may round differently, so the bound is
# wider there; each test also checks that the moving-statistics loss is much farther away.
LOSS_TOLERANCE = {"float32": dict(rel=1e-4, abs=1e-5), "mixed_bfloat16": dict(rel=1e-2, abs=1e-3)}


@pytest.fixture(params=["float32", "mixed_bfloat16"])
def policy(request):
    """Builds the test's models under each Keras dtype policy, and checks that they use it."""
    with config.precision_scope(request.param):
        yield request.param


def assert_built_under(policy, *models):
    """The models compute in the policy's dtype (the test would prove nothing otherwise)."""
    expected = "bfloat16" if policy == "mixed_bfloat16" else "float32"
    for model in models:
        dtypes = {layer.compute_dtype for layer in model.layers if layer.weights}
        assert expected in dtypes, (model.name, dtypes)
        assert all(variable.dtype == "float32" for variable in model.weights)  # float32 weights


def batch_mode_losses(generator, discriminator, z):
    """The G-step loss with D on batch statistics and on moving statistics, computed by hand.

    Every variable (moving statistics, dropout seeds) is restored afterwards,
    so the next combined step draws the same dropout masks as these passes.
    """
    everything = generator.variables + discriminator.variables
    saved = values(everything)
    bce = keras.losses.BinaryCrossentropy()
    ones = np.ones((len(z), 1), "float32")
    losses = []
    for d_training in (True, False):
        with gan.training_mode_trainable(discriminator):
            prediction = discriminator(generator(z, training=True), training=d_training)
        losses.append(float(bce(ones, prediction)))
        for variable, value in zip(everything, saved):
            variable.assign(value)
    return losses


def test_book_architecture_guarantees(policy):
    """(1), (2), (3) on the book's G and D (with dropout), batch 16."""
    generator, discriminator, combined = build(book=True)
    assert_built_under(policy, generator, discriminator)
    batch = 16
    # (1) D's own step changes every trainable D weight and its moving statistics.
    before = values(discriminator.weights)
    discriminator.train_on_batch(real_batch(batch), np.ones((batch, 1)))
    after = values(discriminator.weights)
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert all(changed), [v.path for v, c in zip(discriminator.weights, changed) if not c]

    # (3) set absurd moving statistics: in inference mode D would see garbage.
    for variable in moving_statistics(discriminator):
        variable.assign(np.full(variable.shape, 5.0 if "mean" in variable.path else 1e-3, "float32"))
    z = noise(batch, latent=100)
    expected, inference = batch_mode_losses(generator, discriminator, z)
    d_before, g_before = values(discriminator.weights), values(generator.trainable_weights)
    seeds_before = values(discriminator.variables)
    g_loss = combined.train_on_batch(z, np.ones((batch, 1)))
    assert g_loss == pytest.approx(expected, **LOSS_TOLERANCE[policy])
    assert abs(inference - expected) > 1e-2  # the test can tell the two modes apart
    assert abs(g_loss - inference) > 10 * abs(g_loss - expected)

    # (2) G changed everywhere, D not at all: trainable weights and moving statistics.
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, values(generator.trainable_weights)))
    d_after = values(discriminator.weights)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, d_after))
    assert len(moving_statistics(discriminator)) == 6
    # Only the dropout seed counters advance (not weights: D.weights excludes them).
    seed_paths = [v.path for v, a in zip(discriminator.variables, seeds_before)
                  if not np.array_equal(a, v.numpy())]
    assert seed_paths and all("seed" in path for path in seed_paths)


def test_summary_counts_only_the_generator_as_trainable(policy):
    generator, discriminator, combined = build()
    trainable = sum(int(np.prod(v.shape)) for v in combined.trainable_weights)
    assert trainable == sum(int(np.prod(v.shape)) for v in generator.trainable_weights)
    assert discriminator.trainable and discriminator.trainable_weights  # build_combined leaves D alone


def flip_before_building(generator, discriminator, combined):
    discriminator.trainable = False  # the book's line, before the combined model's first step


def flip_layers(generator, discriminator, combined):
    for layer in discriminator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def flip_and_force_retrace(generator, discriminator, combined):
    discriminator.trainable = False
    combined.make_train_function(force=True)


def flip_back_and_forth(generator, discriminator, combined):
    discriminator.trainable = False
    discriminator.trainable = True
    discriminator.layers[0].trainable = False


@pytest.mark.parametrize("flip", [flip_before_building, flip_layers, flip_and_force_retrace,
                                  flip_back_and_forth])
def test_guarantees_hold_whatever_the_trainable_flags(flip, policy):
    """(2) and (3) survive flag flips before the first step and before a retrace (new batch size)."""
    generator, discriminator, combined = build()
    assert_built_under(policy, generator, discriminator)
    discriminator.train_on_batch(real_batch(8), np.ones((8, 1)))
    for step, batch in enumerate((8, 8, 6)):  # batch 6 makes Keras retrace the step
        if step == 1:
            flip(generator, discriminator, combined)
        flags = [layer.trainable for layer in discriminator._flatten_layers()]
        z = noise(batch, seed=step)
        expected, inference = batch_mode_losses(generator, discriminator, z)
        d_before, g_before = values(discriminator.weights), values(generator.trainable_weights)
        g_loss = combined.train_on_batch(z, np.ones((batch, 1)))
        assert g_loss == pytest.approx(expected, **LOSS_TOLERANCE[policy]), f"step {step}: D not on batch stats"
        assert abs(g_loss - inference) > 10 * abs(g_loss - expected), f"step {step}: modes not told apart"
        assert all(np.array_equal(a, b) for a, b in zip(d_before, values(discriminator.weights)))
        assert all(not np.array_equal(a, b)
                   for a, b in zip(g_before, values(generator.trainable_weights)))
        assert flags == [layer.trainable for layer in discriminator._flatten_layers()]  # restored


def test_the_books_freeze_stops_d_learning_and_train_refuses_it(policy):
    """The trap: Keras 3 reads D.trainable at trace time, so D's own step learns nothing."""
    generator, discriminator, combined = build()
    discriminator.trainable = False
    before = values(discriminator.weights)
    discriminator.train_on_batch(real_batch(8), np.ones((8, 1)))
    assert all(np.array_equal(a, b) for a, b in zip(before, values(discriminator.weights)))
    with pytest.raises(ValueError, match="trainable"):
        gan.train(generator, discriminator, combined, real_batch(64), iterations=1,
                       progress=False)


def test_build_combined_rejects_a_shared_optimizer():
    generator = dcgan.build_generator(latent_dim=LATENT, filters=(8, 4))
    discriminator = dcgan.build_discriminator(filters=(4, 8), dropout=0.0)
    discriminator.compile(loss="binary_crossentropy", optimizer=adam())
    with pytest.raises(ValueError, match="optimizer"):
        gan.build_combined(generator, discriminator, discriminator.optimizer)


def test_statistics_used_tells_the_book_combined_from_genlab(policy):
    """The probe notebook 05 uses: genlab's combined -> batch, the book's frozen D -> moving."""
    generator, discriminator, combined = build(dropout=0.25)
    assert_built_under(policy, generator, discriminator)
    probe = gan.statistics_used(combined, generator, discriminator, noise(8))
    assert probe["mode"] == "batch" and probe["loss"] == pytest.approx(probe["batch_loss"], abs=1e-5)
    discriminator.trainable = False  # the book's freeze, on a Keras 3 functional combined model
    z = keras.Input(shape=(LATENT,))
    book = keras.Model(z, discriminator(generator(z)))
    book.compile(loss="binary_crossentropy", optimizer=adam())
    probe = gan.statistics_used(book, generator, discriminator, noise(8))
    assert probe["mode"] == "moving"
    assert probe["loss"] == pytest.approx(probe["moving_loss"], **LOSS_TOLERANCE[policy])
    assert abs(probe["loss"] - probe["batch_loss"]) > 10 * abs(probe["loss"] - probe["moving_loss"])
