"""Remedies for a discriminator that wins too easily: gradient penalty, spectral norm, minibatch features, feature matching.

Why it exists: notebook 07 repairs the lecture's case study ("D reaches
near-perfect accuracy, G stops improving") with the remedies of the
literature, and the same pieces serve any GAN of the collection:

* :func:`gradient_penalty` (Gulrajani et al. 2017, WGAN-GP): pushes the
  critic's gradient norm towards 1 on random interpolates of real and fake,
  a soft 1-Lipschitz constraint, so the critic cannot become arbitrarily sharp;
* :func:`spectral_normalize` (Miyato et al. 2018): wraps a model's Dense and
  Conv layers in Keras' own ``keras.layers.SpectralNormalization``, which divides
  each kernel by its largest singular value (one power iteration per step);
* :class:`MinibatchDiscrimination` (Salimans et al. 2016, section 3.2): a
  learned tensor projects each sample's features, and the sample gets, per
  projection, the sum of exp(-L1 distance) to the other samples of its batch,
  so D sees how alike the batch is (a collapsed G makes it very alike);
* :class:`MinibatchStdDev` (Karras et al. 2018, ProGAN): the parameter-free
  simplification of the same idea, the batch's feature standard deviation;
* :func:`feature_matching` (Salimans et al. 2016): G matches the mean of D's
  intermediate features on real data instead of maximising D's verdict.

Tested in ``tests/test_gan_regularizers.py``.

Example::

    from genlab.gan import regularizers
    penalty = regularizers.gradient_penalty(critic, real, fake)
    critic = regularizers.spectral_normalize(critic)
"""

from genlab import quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def _scores(critic, x, training):
    """The critic's scores (N,): the first output if the model returns several (scores, features)."""
    out = critic(x, training=training)
    if isinstance(out, (list, tuple)):
        out = out[0]
    return tf.reshape(out, [tf.shape(x)[0], -1])


def gradient_penalty(critic, real, fake, epsilon=None, target=1.0, training=True):
    """WGAN-GP's penalty E[(||grad_x critic(x_hat)||_2 - target)^2] on random interpolates x_hat.

    x_hat = eps * real + (1 - eps) * fake with one eps ~ U(0, 1) per sample:
    the penalty acts on the straight lines between the two distributions,
    where the optimal critic has gradient norm 1 (Gulrajani et al. 2017).

    Args:
        critic: a Keras model (or callable) x -> scores, without a sigmoid; if it
            returns a list, the first entry are the scores.
        real, fake: tensors of the same shape (N, ...).
        epsilon: optional (N,) mixing weights (default: uniform random); pass them
            to get a deterministic value.
        target: the gradient norm aimed at (1 for a 1-Lipschitz critic).
        training: the mode the critic runs in.

    Returns:
        A scalar tensor (multiply by lambda = 10, as in the paper, before adding it to the critic's loss).
    """
    real = tf.convert_to_tensor(real, tf.float32)
    fake = tf.convert_to_tensor(fake, tf.float32)
    batch = tf.shape(real)[0]
    if epsilon is None:
        epsilon = tf.random.uniform([batch], 0.0, 1.0)
    epsilon = tf.reshape(tf.cast(epsilon, tf.float32), tf.concat([[batch], tf.ones(tf.rank(real) - 1, tf.int32)], 0))
    interpolates = epsilon * real + (1.0 - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = tf.reduce_sum(_scores(critic, interpolates, training))  # sample i's score depends on x_hat_i only
    gradients = tf.reshape(tape.gradient(scores, interpolates), [batch, -1])
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=1) + 1e-12)
    return tf.reduce_mean(tf.square(norms - target))


def feature_matching(real_features, fake_features):
    """||mean f(x) - mean f(G(z))||^2 over D's intermediate features f (Salimans et al. 2016).

    G minimises it instead of fooling D: it matches the statistics of the real
    data as D sees them, a target that does not move when D becomes confident.
    """
    real_features = tf.reshape(tf.convert_to_tensor(real_features, tf.float32), [tf.shape(real_features)[0], -1])
    fake_features = tf.reshape(tf.convert_to_tensor(fake_features, tf.float32), [tf.shape(fake_features)[0], -1])
    return tf.reduce_sum(tf.square(tf.reduce_mean(real_features, 0) - tf.reduce_mean(fake_features, 0)))


def largest_singular_value(kernel):
    """The spectral norm of a kernel reshaped to (-1, out), as Keras' SpectralNormalization sees it."""
    kernel = tf.convert_to_tensor(kernel)
    return float(tf.linalg.svd(tf.reshape(kernel, [-1, kernel.shape[-1]]), compute_uv=False)[0])


def spectral_normalize(model, power_iterations=1, skip=()):
    """A copy of a Functional/Sequential model with each Dense/Conv layer wrapped in SpectralNormalization.

    Keras' own ``keras.layers.SpectralNormalization`` does the work: in
    training mode each call runs ``power_iterations`` of the power method and
    rescales the kernel by its largest singular value, so each layer is
    (about) 1-Lipschitz. The copy has fresh weights (it is a new model).

    Args:
        model: a Keras Functional or Sequential model.
        power_iterations: power-method steps per training call (1, as in Miyato et al.).
        skip: names of layers to leave alone.
    """
    wrapped_types = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)

    def clone(layer):
        fresh = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, wrapped_types) and layer.name not in skip:
            return keras.layers.SpectralNormalization(fresh, power_iterations=power_iterations,
                                                      name=f"sn_{layer.name}")
        return fresh

    return keras.models.clone_model(model, clone_function=clone)


@keras.saving.register_keras_serializable(package="genlab")
class MinibatchStdDev(keras.layers.Layer):
    """Append the minibatch standard deviation as extra features (ProGAN's minibatch-stddev layer).

    For each feature, the standard deviation over the batch (or over groups of
    ``group_size`` samples) is averaged into one number per group and appended
    to every sample as one more feature (one more channel for images). A
    collapsed generator makes batches of near-identical fakes whose stddev is
    near 0, which D can then see and punish: the simplified form of Salimans
    et al.'s minibatch discrimination that Karras et al. 2018 use.

    Args:
        group_size: samples per group (the batch size must be divisible by it);
            None: the whole batch is one group.
        epsilon: added to the variance before the square root (a finite gradient at 0).
        **kwargs: passed to ``keras.layers.Layer``.

    Example::

        x = layers.Dense(128)(x)
        x = MinibatchStdDev()(x)        # (N, 128) -> (N, 129)

    Reference: Karras et al., "Progressive Growing of GANs", ICLR 2018, section 3.
    """

    def __init__(self, group_size=None, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if group_size is not None and group_size < 2:
            raise ValueError(f"group_size must be None or at least 2, got {group_size}")
        self.group_size = group_size
        self.epsilon = epsilon

    def call(self, inputs):
        shape = tf.shape(inputs)
        batch = shape[0]
        group = batch if self.group_size is None else tf.minimum(self.group_size, batch)
        grouped = tf.reshape(inputs, tf.concat([[group, -1], shape[1:]], 0))      # (G, N/G, ...)
        variance = tf.reduce_mean(tf.square(grouped - tf.reduce_mean(grouped, 0, keepdims=True)), 0)
        stddev = tf.reduce_mean(tf.sqrt(variance + self.epsilon), axis=tf.range(1, tf.rank(variance)),
                                keepdims=True)                                  # (N/G, 1, ...): one per group
        tiled = tf.tile(stddev, tf.concat([[group], tf.ones(tf.rank(inputs) - 1, tf.int32)], 0))
        tiled = tf.broadcast_to(tiled, tf.concat([[batch], shape[1:-1], [1]], 0))
        return tf.concat([inputs, tf.cast(tiled, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + 1
        return tuple(input_shape[:-1]) + (last,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="genlab")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, section 3.2): features that compare a sample with its batch.

    Why: a D that looks at one sample at a time cannot tell that G makes the
    same digit for every z; this layer lets it. Each sample's features
    f(x_i) in R^A are multiplied by a learned tensor T in R^(A x B x C), giving
    a matrix M_i in R^(B x C). For each of the B rows,
    c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1) and
    o(x_i)_b = sum over the other samples j of the batch of c_b(x_i, x_j);
    o(x_i) in R^B is concatenated to f(x_i), and D's next layer sees both. A
    batch of near-identical samples gives o_b near n - 1, a diverse one near 0.
    The paper's formula sums over all j, which adds exp(0) = 1 to every o_b;
    the authors' released code (openai/improved-gan) leaves j = i out, as done
    here: the two differ by that constant. As in the paper, real and generated
    samples must come in separate batches (D is called on each alone).

    Args:
        num_kernels: B, the number of projections (features added).
        kernel_dim: C, the length of each projection.
        stddev: standard deviation of T's normal initialisation (small, so the
            L1 distances start near 1, where exp(-d) still has a gradient).
        **kwargs: passed to ``keras.layers.Layer``.

    Example::

        x = layers.Dense(128)(x)
        x = MinibatchDiscrimination(32, 8)(x)      # (N, 128) -> (N, 160)

    Reference: Salimans, Goodfellow, Zaremba, Cheung, Radford and Chen,
    "Improved Techniques for Training GANs", NeurIPS 2016, section 3.2.
    """

    def __init__(self, num_kernels=32, kernel_dim=8, stddev=0.05, **kwargs):
        super().__init__(**kwargs)
        if num_kernels < 1 or kernel_dim < 1:
            raise ValueError(f"num_kernels and kernel_dim must be positive, got {num_kernels}, {kernel_dim}")
        self.num_kernels, self.kernel_dim, self.stddev = int(num_kernels), int(kernel_dim), float(stddev)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"MinibatchDiscrimination takes flat features (N, A), got shape {input_shape}; "
                             "put a Flatten layer before it")
        self.T = self.add_weight(name="T", shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
                                 initializer=keras.initializers.RandomNormal(stddev=self.stddev))

    def call(self, inputs):
        m = keras.ops.reshape(keras.ops.matmul(inputs, self.T), (-1, self.num_kernels, self.kernel_dim))  # (N, B, C)
        distances = keras.ops.sum(keras.ops.abs(m[:, None] - m[None, :]), axis=-1)                       # (N, N, B)
        closeness = keras.ops.sum(keras.ops.exp(-distances), axis=1) - 1.0                    # leave out j = i
        return keras.ops.concatenate([inputs, keras.ops.cast(closeness, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.num_kernels,)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim,
                "stddev": self.stddev}
