"""GAN losses on D's logits: saturating and non-saturating (minimax), Wasserstein, hinge.

Why it exists: notebooks 04 and 07 compare these losses on one GAN, so they
live in one place with one convention: every function takes the
discriminator's **logits** (pre-sigmoid scores; a critic's raw scores for
Wasserstein and hinge) and returns a scalar to **minimise**. TF-GAN has
reference implementations of all of them, so genlab calls TF-GAN's
(through :mod:`genlab.tfgan`) instead of rewriting them. The book's
discriminator ends in a sigmoid; :func:`logit` turns its probabilities back
into logits.

Example::

    from genlab import gan
    g_loss = gan.losses.non_saturating_generator(d_fake_logits)
"""

from genlab import quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.tfgan import tfgan_losses  # .wargs: the functions on tensors (not on a GANModel)

import tensorflow as tf  # noqa: E402

_REDUCTION = tf.compat.v1.losses.Reduction.MEAN
_NO_COLLECTION = None  # eager code: no TF1 loss collection


def logit(probabilities, epsilon=1e-7):
    """log(p / (1 - p)), with p clipped to [epsilon, 1 - epsilon]: a sigmoid D's logits."""
    p = tf.clip_by_value(tf.convert_to_tensor(probabilities, tf.float32), epsilon, 1.0 - epsilon)
    return tf.math.log(p) - tf.math.log1p(-p)


def discriminator(real_logits, fake_logits, label_smoothing=0.0):
    """D's minimax loss: -log D(x) - log(1 - D(G(z))), with one-sided smoothing of the real label."""
    return tfgan_losses.wargs.modified_discriminator_loss(
        real_logits, fake_logits, label_smoothing=label_smoothing,
        loss_collection=_NO_COLLECTION, reduction=_REDUCTION)


def saturating_generator(fake_logits):
    """The minimax game's own G loss, E[log(1 - D(G(z)))]: its gradient vanishes when D rejects fakes.

    Written here, not taken from TF-GAN: TF-GAN's ``minimax_generator_loss``
    adds the constant log sigmoid(1) (it reuses D's loss with logits of 1 for
    "real"), which leaves the gradient alone but makes the printed value
    disagree with the formula students compute. log(1 - sigmoid(l)) = -softplus(l).
    """
    return tf.reduce_mean(-tf.nn.softplus(tf.convert_to_tensor(fake_logits, tf.float32)))


def non_saturating_generator(fake_logits):
    """-log D(G(z)), the book's ``combined.train_on_batch(noise, ones)``: strong gradients early on."""
    return tfgan_losses.wargs.modified_generator_loss(fake_logits, loss_collection=_NO_COLLECTION,
                                                reduction=_REDUCTION)


def wasserstein_discriminator(real_scores, fake_scores):
    """The critic's loss E[D(G(z))] - E[D(x)] (WGAN; pair it with a gradient penalty)."""
    return tfgan_losses.wargs.wasserstein_discriminator_loss(real_scores, fake_scores,
                                                       loss_collection=_NO_COLLECTION, reduction=_REDUCTION)


def wasserstein_generator(fake_scores):
    """-E[D(G(z))]: the generator loss of WGAN and of the hinge GAN alike."""
    return tfgan_losses.wargs.wasserstein_generator_loss(fake_scores, loss_collection=_NO_COLLECTION,
                                                   reduction=_REDUCTION)


def hinge_discriminator(real_scores, fake_scores):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (SAGAN, BigGAN)."""
    return tfgan_losses.wargs.wasserstein_hinge_discriminator_loss(
        real_scores, fake_scores, loss_collection=_NO_COLLECTION, reduction=_REDUCTION)


hinge_generator = wasserstein_generator
