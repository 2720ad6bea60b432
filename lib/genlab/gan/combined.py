"""The book's GAN workflow on Keras 3: a combined model with a really frozen D, and its training loop.

Why it exists: Elgendy (*Deep Learning for Vision Systems*, ch. 8) compiles
the discriminator D, sets ``D.trainable = False`` and builds a **combined**
model z -> G -> D trained with ``combined.train_on_batch(noise, ones)``.
Ported line by line to Keras 3 this silently fails (notebook 05, "The trap"):

* Keras 3 reads ``trainable`` when a train function is *traced* (first call,
  or any retrace), not at ``compile``, so ``D.trainable = False`` also
  freezes D in its own ``train_on_batch``: D never learns.
* A BatchNormalization layer whose ``trainable`` is False runs in inference
  mode (moving statistics), so even if D's flag is toggled around its own
  step, G is trained against a different D than the one D's step trains.

:func:`build_combined` returns a :class:`CombinedModel` whose ``train_step``
guarantees, whatever the student does with ``trainable`` flags and whenever
a retrace happens: only G's trainable weights are updated; D runs in training
mode (BatchNormalization on batch statistics, dropout on, as in D's own step);
and **D's state is entirely untouched**: its trainable weights and its
BatchNormalization moving statistics are bit-for-bit the same after the step
(the moving statistics are D's, so only D's own step may move them). The only
D variables that advance are the Dropout layers' random-seed counters (not
weights: ``D.weights`` excludes them), so each call draws a new dropout mask.

Also here: :func:`statistics_used` (which statistics D normalised with in a
combined step: notebook 05's trap table). The alternating loop that trains
with the combined model is :func:`genlab.gan.train`. Introduced in
notebook 05; ``tests/test_gan.py`` proves each guarantee.
"""

import contextlib

import numpy as np

from genlab import quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)

import keras  # noqa: E402


@contextlib.contextmanager
def training_mode_trainable(model):
    """Temporarily make every layer of ``model`` trainable, then restore each flag exactly.

    Used at trace time so BatchNormalization inside D takes its training
    branch (it checks ``training and self.trainable``) however the student
    has set D's flags. Flags are Python state: the traced graph keeps the
    training branch after the flags are restored.
    """
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    layer_flags = [(layer, layer.trainable) for layer in layers]
    variable_flags = [(variable, variable.trainable) for variable in model.weights]
    for layer in layers:  # each one: Keras skips children when a parent's flag is already True
        layer.trainable = True
    try:
        yield
    finally:
        for layer, flag in layer_flags:  # parents first: a setter also resets children
            layer.trainable = flag
        for variable, flag in variable_flags:
            variable.trainable = flag


class CombinedModel(keras.Model):
    """The book's combined model z -> G -> D, in which D is frozen for weight updates.

    A conditional GAN (notebook 06) has G(z, label) and D(image, label): when
    the generator has more than one input, the combined model takes all of
    them, ``[z, label]``, and feeds D the generated image with the same
    conditioning inputs, ``D([G([z, label]), label])``; train it with
    ``combined.train_on_batch([noise, labels], ones)``.

    A Functional model (``summary()`` shows the input, the generator and the
    discriminator, like the book's) with its own ``train_step``:

    1. D's BatchNormalization moving statistics are read (snapshot);
    2. forward z -> G(training=True) -> D(training=True), D with every layer
       forced trainable at trace time, so BatchNormalization normalises with
       batch statistics, exactly as in D's own ``train_on_batch``;
    3. the compiled loss (book: binary cross-entropy against "real" labels);
       gradients for **G's trainable weights only**, applied by this model's
       optimizer;
    4. the snapshot is written back: D's moving statistics are unchanged.

    ``trainable_weights`` reports G's weights only, so ``summary()`` counts D
    as non-trainable, as in the book.

    Args:
        generator: Keras model z -> image.
        discriminator: Keras model image -> probability of "real" (sigmoid).
        name: model name.
    """

    def __init__(self, generator, discriminator, name="combined", **kwargs):
        if len(generator.inputs) == 1:
            z = keras.Input(shape=tuple(generator.input_shape[1:]), name="z")
            inputs, validity = z, discriminator(generator(z))
        else:  # conditional GAN (notebook 06): G(z, label) and D(image, label) see the same label
            inputs = [keras.Input(shape=tuple(tensor.shape[1:]), dtype=tensor.dtype, name=name_)
                      for tensor, name_ in zip(generator.inputs, _input_names(generator))]
            validity = discriminator([generator(inputs), *inputs[1:]])
        super().__init__(inputs=inputs, outputs=validity, name=name, **kwargs)
        self.generator = generator
        self.discriminator = discriminator

    @property
    def trainable_weights(self):
        return list(self.generator.trainable_weights)

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_weights(self):
        trainable = {id(variable) for variable in self.trainable_weights}
        return [variable for variable in self.weights if id(variable) not in trainable]

    def discriminator_state(self):
        """D's non-trainable weights: its BatchNormalization moving statistics."""
        with training_mode_trainable(self.discriminator):
            return [v for v in self.discriminator.weights if not v.trainable]

    def train_step(self, data):
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        weights = self.generator.trainable_weights
        if not weights:
            raise ValueError("the generator has no trainable weights: set generator.trainable = True")
        state = self.discriminator_state()
        saved = [tf.identity(variable.value) for variable in state]
        with training_mode_trainable(self.discriminator):
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
                batch = tf.shape(x[0] if isinstance(x, (list, tuple)) else x)[0]
                self._loss_tracker.update_state(loss, sample_weight=batch)
                scaled = self.optimizer.scale_loss(loss) if hasattr(self.optimizer, "scale_loss") else loss
        gradients = tape.gradient(scaled, weights)
        self.optimizer.apply_gradients(zip(gradients, weights))
        for variable, value in zip(state, saved):
            variable.assign(value)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _input_names(generator):
    """The combined model's input names: "z", then the generator's conditioning inputs' own names."""
    names = ["z"]
    for index, tensor in enumerate(generator.inputs[1:], start=1):
        own = getattr(tensor, "name", "") or ""
        names.append(own.split(":")[0] if own and own != "z" else f"condition_{index}")
    return names


@contextlib.contextmanager
def _frozen_batch_normalization(model):
    """BatchNormalization layers with ``trainable=False`` (inference mode), as a frozen Keras 3 D has."""
    norms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    flags = [layer.trainable for layer in norms]
    for layer in norms:
        layer.trainable = False
    try:
        yield
    finally:
        for layer, flag in zip(norms, flags):
            layer.trainable = flag


def statistics_used(combined, generator, discriminator, noise):
    """Run one ``combined.train_on_batch(noise, ones)`` and tell which statistics D normalised with.

    Before the step, its loss is computed by hand twice with the same dropout
    masks (every variable is restored after each pass): D's BatchNormalization
    on batch statistics (as in D's own step) and on moving statistics (what a
    frozen Keras 3 D does). Works for any combined model, e.g. the book's
    ``keras.Model(z, D(G(z)))`` in notebook 05's trap section.

    Returns:
        dict with "mode" ("batch" or "moving": the hand loss nearest to the
        step's), "loss" (the step's), "batch_loss" and "moving_loss".
    """
    everything = generator.variables + discriminator.variables
    saved = [np.array(variable.numpy(), copy=True) for variable in everything]
    ones = np.ones((len(noise), 1), np.float32)
    bce = keras.losses.BinaryCrossentropy()
    losses = {}
    for mode, context in (("batch", training_mode_trainable), ("moving", _frozen_batch_normalization)):
        with context(discriminator):
            prediction = discriminator(generator(noise, training=True), training=True)
        losses[mode] = float(bce(ones, prediction))
        for variable, value in zip(everything, saved):
            variable.assign(value)
    loss = float(np.atleast_1d(combined.train_on_batch(noise, ones))[0])
    mode = min(losses, key=lambda name: abs(losses[name] - loss))
    return {"mode": mode, "loss": loss, "batch_loss": losses["batch"], "moving_loss": losses["moving"]}


def build_combined(generator, discriminator, optimizer=None, loss="binary_crossentropy", metrics=None):
    """Build and compile the book's combined model with D frozen (see :class:`CombinedModel`).

    Use it exactly as the book does::

        discriminator.compile(loss="binary_crossentropy", optimizer=Adam(2e-4, 0.5),
                              metrics=["accuracy"])
        combined = gan.build_combined(generator, discriminator, Adam(2e-4, 0.5))
        d_loss_real = discriminator.train_on_batch(real_images, ones)
        d_loss_fake = discriminator.train_on_batch(fake_images, zeros)
        g_loss = combined.train_on_batch(noise, ones)

    Do **not** set ``discriminator.trainable = False`` (the book's line): in
    Keras 3 that also stops D's own ``train_on_batch`` from learning. The
    combined model freezes D for its own step whatever the flag says.

    Args:
        generator: Keras model z -> image.
        discriminator: Keras model image -> sigmoid probability, compiled on its own.
        optimizer: optimizer for G (default: Adam(2e-4, beta_1=0.5), the DCGAN setting).
            Must not be D's optimizer object.
        loss: the combined model's loss (book: binary cross-entropy).
        metrics: optional metrics for ``combined.compile``.
    """
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
    if getattr(discriminator, "optimizer", None) is not None and discriminator.optimizer is optimizer:
        raise ValueError("give the combined model its own optimizer, not the discriminator's")
    combined = CombinedModel(generator, discriminator)
    combined.compile(loss=loss, optimizer=optimizer, metrics=metrics)
    combined.optimizer.build(generator.trainable_weights)
    return combined
