"""Denoising diffusion (DDPM, DDIM, classifier-free guidance, latent diffusion): layers, builders, settings.

Notebook 11 (``notebooks/11_diffusion.ipynb``) teaches the diffusion models of
Lectures 13-14: a fixed forward noising process, a U-Net that predicts the
noise from (x_t, t), ancestral DDPM sampling (Ho et al., 2020), DDIM sampling
with far fewer steps (Song et al., 2021), classifier-free guidance (Ho &
Salimans, 2022) and diffusion in a VAE's latent space (Rombach et al., 2022).
The notebook writes the loss, the training step and one sampling update where
the student reads them; this module (with the U-Net's layers in
:mod:`genlab.models.unet`) holds the same pieces for the tests
(``tests/test_diffusion.py``), the registry and the shipped weights
(``diffusion_mnist``). Every setting is defined here once.

One network serves conditional and unconditional sampling: labels are dropped
to the null class ``NUM_CLASSES`` with probability ``P_UNCOND`` in training.
"""

import keras
import numpy as np
from keras import ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models import diffusion_training, unet
from genlab.models.diffusion_sampling import ddim_sample, ddim_step, ddpm_sample, ddpm_step  # noqa: F401  (the notebook's names)
from genlab.models.unet import ResidualBlock, SelfAttention, SinusoidalEmbedding  # noqa: F401  (the notebook's names)

NOTEBOOK = "11_diffusion"
IMAGE_SHAPE = (28, 28, 1)
TIMESTEPS = 1000                  # T, as in Ho et al. (2020)
SCHEDULE = "cosine"               # what the shipped model trains with; "linear" is DDPM's
BETA_START, BETA_END = 1e-4, 0.02  # the linear schedule's ends (Ho et al.)
FILTERS = (16, 32, 64)            # U-Net channels at 28x28, 14x14 and 7x7 (attention at 7x7)
BLOCKS = 1                        # residual blocks per resolution on each path (Ho et al.: 2)
EMBED_DIM = 128                   # timestep (and label) embedding width
HEADS = 4                         # self-attention heads at 7x7
NUM_CLASSES = 10                  # digits; label NUM_CLASSES is the null ("no label") class
P_UNCOND = 0.1                    # label dropout for classifier-free guidance
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EMA_MOMENTUM = 0.995              # Keras' optimizer EMA (use_ema=True) of the weights
ITERATIONS = {"quick": 2, "full": 5000}          # U-Net training steps
# The shipped run's recipe (genlab.models.diffusion_training; chosen by scripts/diffusion_recipes.py):
PREDICTION = "eps"                # what the network predicts: "eps" (Ho et al.) or "v" (Salimans & Ho, 2022)
WEIGHTING = "none"                # timestep weights: "none" (L_simple) or "min_snr" (Hang et al., 2023)
MIN_SNR_GAMMA = 5.0
WARMUP_STEPS, FINAL_LR_FRACTION = 500, 0.1        # linear warm-up, then cosine decay to 10 % of the rate
CLIPNORM = 1.0                                    # global gradient-norm clipping (Ho et al.)
CHECKPOINT_EVERY, CURVE_EVERY = 500, 4000         # steps between checkpoints, between learning-curve points
DDIM_STEPS = {"quick": 10, "full": 25}           # DDIM sampling steps (DDPM uses all T)
GUIDANCE = 2.0                                    # w of the class grids
GUIDANCE_SWEEP = (0.0, 1.0, 2.0, 4.0)             # w = 0: unconditional; 1: conditional
# genlab's w is the "guidance scale" of eps_uncond + w (eps_cond - eps_uncond); Ho & Salimans (2022) write
# (1 + w_HS) eps_cond - w_HS eps_uncond, so w = 1 + w_HS (their w_HS = 0 is the conditional model).
LATENT_UNITS = 256                                # the latent denoiser's MLP width
LATENT_ITERATIONS = {"quick": 3, "full": 3000}
ELBO_N, ELBO_TERMS = 1000, 60                     # the recorded bound: test digits, strided KL terms per digit
SWEEP_N, SWEEP_DDIM_STEPS = 10_000, 20            # the recorded guidance sweep: the standard N, DDIM steps per sample
TIMED = 500                                       # images timed per sampler when latent and pixel sampling are compared
SEED = 42
SHIPPED_BUILDER = "Shipped"
MANIFEST_SETTINGS = ("TIMESTEPS", "SCHEDULE", "FILTERS", "BLOCKS", "EMBED_DIM", "BATCH_SIZE", "LEARNING_RATE",
                     "EMA_MOMENTUM", "P_UNCOND", "PREDICTION", "WEIGHTING", "MIN_SNR_GAMMA", "WARMUP_STEPS",
                     "FINAL_LR_FRACTION", "CLIPNORM", "DDIM_STEPS", "LATENT_UNITS", "LATENT_ITERATIONS")


class Schedule:
    """The noise schedule: beta_t, alpha_t = 1 - beta_t and abar_t = prod_{s<=t} alpha_s (float64, index 0..T-1).

    Args:
        kind: "linear" (Ho et al.: beta from BETA_START to BETA_END) or "cosine"
            (Nichol & Dhariwal, 2021: abar_t = cos^2(((t/T + s) / (1 + s)) pi/2), s = 0.008).
        timesteps: T.
    """

    def __init__(self, kind=SCHEDULE, timesteps=TIMESTEPS):
        if kind == "linear":
            betas = np.linspace(BETA_START, BETA_END, timesteps, dtype=np.float64)
        elif kind == "cosine":
            steps = np.arange(timesteps + 1, dtype=np.float64) / timesteps
            f = np.cos((steps + 0.008) / 1.008 * np.pi / 2) ** 2
            # beta_t capped at 0.999, as in the paper: the last steps would otherwise be singular.
            betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
        else:
            raise ValueError(f"kind must be 'linear' or 'cosine', got {kind!r}")
        self.kind, self.timesteps = kind, int(timesteps)
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alpha_bars = np.cumprod(self.alphas)

    def q_sample(self, x0, t, noise):
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise: the closed form of q(x_t | x_0) (NumPy)."""
        shape = (-1,) + (1,) * (np.ndim(x0) - 1)
        abar = self.alpha_bars[np.asarray(t)].reshape(shape)
        return (np.sqrt(abar) * x0 + np.sqrt(1.0 - abar) * noise).astype(np.float32)


def build_unet(image_shape=IMAGE_SHAPE, filters=FILTERS, embed_dim=EMBED_DIM, heads=HEADS, num_classes=NUM_CLASSES,
               blocks=BLOCKS, name="unet"):
    """The notebook's U-Net eps_theta([x_t, t, label]) with these settings (:func:`genlab.models.unet.build_unet`)."""
    return unet.build_unet(image_shape, filters, embed_dim, heads, num_classes, blocks=blocks, name=name)


def build_latent_denoiser(latent_dim=16, units=LATENT_UNITS, embed_dim=EMBED_DIM, num_classes=NUM_CLASSES,
                          name="latent_denoiser"):
    """The latent-diffusion MLP eps_theta([z_t, t, label]) (:func:`genlab.models.unet.build_latent_denoiser`)."""
    return unet.build_latent_denoiser(latent_dim, units, embed_dim, num_classes, name=name)


def guided_eps(network, x, t, labels=None, w=GUIDANCE):
    """eps_uncond + w (eps_cond - eps_uncond) (NumPy); ``labels=None``: the unconditional eps only.

    ``w`` is the guidance scale: 0 ignores the label, 1 is the conditional model. Ho & Salimans
    (2022) write the same guidance with ``w_HS = w - 1`` (their 0 is the conditional model).

    Both predictions come from one batched forward pass of twice the size.
    """
    n = len(x)
    steps = np.full((n,), t, "int32")
    if labels is None:
        return _as_eps(network, _forward(network, x, steps, np.full((n,), NUM_CLASSES, "int32")), x, t)
    both = _forward(network, np.concatenate([x, x]), np.concatenate([steps, steps]),
                    np.concatenate([np.asarray(labels, "int32"), np.full((n,), NUM_CLASSES, "int32")]))
    eps_cond, eps_uncond = np.split(_as_eps(network, both, np.concatenate([x, x]), t), 2)
    return eps_uncond + w * (eps_cond - eps_uncond)


def _as_eps(network, output, x, t):
    """The noise a network's output implies: a v-predicting network (``network.prediction = "v"``) is converted."""
    output = np.asarray(output)
    if getattr(network, "prediction", "eps") == "eps":
        return output
    abar = _default_alpha_bars()[np.asarray(t)]              # t: one step for all, or one per image
    abar = abar.reshape((-1,) + (1,) * (np.ndim(x) - 1)) if np.ndim(abar) else abar
    return diffusion_training.eps_from_output(output, x, abar, network.prediction)


def _default_alpha_bars():
    if not hasattr(_default_alpha_bars, "value"):
        _default_alpha_bars.value = Schedule().alpha_bars
    return _default_alpha_bars.value


def _forward(network, x, t, labels):
    if not hasattr(network, "_genlab_forward"):
        import tensorflow as tf

        network._genlab_forward = tf.function(lambda a, b, c: network([a, b, c], training=False), reduce_retracing=True)
    return network._genlab_forward(np.asarray(x, "float32"), t, labels)


class Shipped(keras.Model):
    """The notebook's trained networks in one weights file: ``unet`` (pixels) and ``latent`` (VAE latents).

    ``latent_scale`` (a non-trainable weight) is the standard deviation of the VAE's
    latent means, which latent diffusion divides by so its data has unit scale.
    """

    def __init__(self, latent_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.unet = build_unet()
        self.unet.prediction = PREDICTION          # what the samplers convert the output from (guided_eps)
        self.latent = build_latent_denoiser(latent_dim)
        self.latent.prediction = PREDICTION
        self.latent_scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="latent_scale")
        self.built = True

    def call(self, inputs, training=False):
        return self.unet(inputs, training=training)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


def vae_latents(vae_model, images, seed=SEED):
    """The VAE encoder's means of uint8 ``images``, binarized as the VAE saw them (stochastically)."""
    from genlab import data
    from genlab.models import vae

    inner = getattr(vae_model, "vae", vae_model)
    binary = vae.as_input(data.binarize_stochastic(images, seed))
    return inner.encoder.predict(binary, batch_size=500, verbose=0)[0]


def train_latent(shipped, x_train, y_train, mode=None, seed=SEED, checkpoint_dir=None, progress=False):
    """Train ``shipped.latent`` (in place) on the shipped VAE's latent means of ``x_train``; sets the scale.

    Latent diffusion lives in the VAE's latent space: whenever ``vae_mnist`` is retrained, this
    is retrained too (``scripts/retrain_latent_diffusion.py``). Same recipe as the U-Net.
    """
    from genlab import config, pretrained

    latents = vae_latents(pretrained.load("vae_mnist"), x_train, seed=seed)
    scale = float(latents.std())
    shipped.latent_scale.assign(scale)
    _train_network(shipped.latent, latents / scale, y_train, config.pick(**LATENT_ITERATIONS, mode=mode), seed,
                   checkpoint_dir, progress)
    return shipped


def recipe(**changes):
    """The shipped run's recipe as a dict (these settings), with ``changes`` applied (:mod:`genlab.models.diffusion_training`)."""
    return diffusion_training.recipe(
        {"prediction": PREDICTION, "weighting": WEIGHTING, "min_snr_gamma": MIN_SNR_GAMMA, "learning_rate": LEARNING_RATE,
         "warmup": WARMUP_STEPS, "final_lr_fraction": FINAL_LR_FRACTION, "clipnorm": CLIPNORM, "ema": EMA_MOMENTUM,
         "batch_size": BATCH_SIZE, "p_uncond": P_UNCOND, "schedule": SCHEDULE}, **changes)


def trainer(network, iterations, settings=None, seed=SEED, checkpoint_dir=None):
    """A :class:`genlab.models.diffusion_training.Trainer` of ``network`` with these settings (``settings``: a recipe)."""
    settings = settings or recipe()
    return diffusion_training.Trainer(network, iterations, settings, Schedule(settings["schedule"]).alpha_bars,
                                      NUM_CLASSES, seed, checkpoint_dir, CHECKPOINT_EVERY)


def _train_network(network, x, labels, iterations, seed, checkpoint_dir, progress, curve=None):
    """Train ``network`` in place with the shipped recipe; its EMA weights end in it."""
    run = trainer(network, iterations, seed=seed, checkpoint_dir=checkpoint_dir)
    ema = run.run(np.asarray(x, "float32"), np.asarray(labels, "int32"), progress, curve and curve(run.ema))
    network.set_weights(ema.get_weights())


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train notebook 11's U-Net (and, on MNIST, its latent denoiser) for ``mode``; returns a :class:`Shipped`.

    With ``checkpoint_dir`` the run resumes from its checkpoints (``unet/``, ``latent/``) and, in
    full mode, records its learning curve (FID at N = 2,000 every ``CURVE_EVERY`` steps) in ``curve.json``.
    """
    from pathlib import Path

    from genlab import config, data

    config.seed_everything(seed)
    mode = config.check_mode(mode)
    (x_train, y_train), _ = data.load(dataset, mode=mode)
    shipped = Shipped()
    folder = (lambda name: None) if checkpoint_dir is None else (lambda name: Path(checkpoint_dir) / name)
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    curve = None
    if checkpoint_dir is not None and mode == "full":
        curve = (lambda ema: diffusion_training.fid_curve(sampler(ema), dataset, Path(checkpoint_dir) / "curve.json",
                                                          iterations, CURVE_EVERY))
    _train_network(shipped.unet, data.scale_images(x_train), y_train, iterations, seed, folder("unet"), progress, curve)
    if dataset == "mnist":
        train_latent(shipped, x_train, y_train, mode, seed, folder("latent"), progress)
    return shipped


def sampler(model, steps=None, guidance=None):
    """``sample_fn(n, seed=0, label=None, w=GUIDANCE, steps=DDIM_STEPS["full"])`` -> uint8 (n, 28, 28).

    DDIM (eta = 0) with the U-Net; ``label`` (an int or array) samples those classes with
    classifier-free guidance of weight ``w``; ``label=None`` samples unconditionally.
    """
    from genlab import data

    network = getattr(model, "unet", model)
    schedule = Schedule()

    def sample_fn(n, seed=0, label=None, w=GUIDANCE if guidance is None else guidance,
                  steps=DDIM_STEPS["full"] if steps is None else steps, batch=250):
        out = []
        for start in range(0, n, batch):
            size = min(batch, n - start)
            labels = None if label is None else np.broadcast_to(np.asarray(label), (n,))[start:start + size]
            eps_fn = (lambda x, t, labels=labels: guided_eps(network, x, t, labels, w))
            out.append(ddim_sample(eps_fn, (size, *IMAGE_SHAPE), schedule, steps, seed=seed + start))
        return data.to_uint8(np.concatenate(out), from_range="tanh").reshape(n, *IMAGE_SHAPE[:2])

    sample_fn.model = network
    return sample_fn


def unconditional_eps(network):
    """``eps_fn(x_t, t)`` -> the network's noise prediction with the null label; ``t`` one step per image."""
    return lambda x, t: _as_eps(network, _forward(network, x, np.asarray(t, "int32"), np.full(len(x), NUM_CLASSES, "int32")),
                                x, t)


def likelihood(network, dataset="mnist", n=ELBO_N, terms=ELBO_TERMS, seed=SEED):
    """The unconditional model's variational bound on the first ``n`` test digits, in bits/dim (a manifest record).

    :mod:`genlab.models.diffusion_bound` with the null label: an upper bound on the negative
    log-likelihood of the 8-bit digits, comparable with the PixelCNN's and the flow's bits/dim.
    """
    from genlab import data
    from genlab.models import diffusion_bound

    _, (x_test, _) = data.load(dataset, mode="full")
    value, error, _ = diffusion_bound.bits_per_dim(unconditional_eps(network), x_test[:n], Schedule(),
                                                   terms=terms, seed=seed)
    return {"metric": "bits/dim (variational bound: an upper bound on the NLL)", "value": round(value, 4),
            "standard_error": round(error, 4), "n": n, "data": f"the first {n:,} test digits, 256 levels",
            "terms": terms, "exact_ends": diffusion_bound.EXACT_ENDS, "variance": "posterior", "label": "none (unconditional)"}


def _draw(network, shape, w, labels, steps, seed, clip=1.0, batch=500):
    """DDIM samples of ``shape`` (images or latents) from ``network``, guided with ``w`` when ``labels`` and w are given."""
    parts = []
    for start in range(0, shape[0], batch):
        part = None if labels is None or not w else labels[start:start + batch]
        parts.append(ddim_sample(lambda x, t, part=part: guided_eps(network, x, t, part, w),
                                           (min(batch, shape[0] - start), *shape[1:]), Schedule(), steps,
                                           seed=seed + start, clip=clip))
    return np.concatenate(parts)


def extra_evaluation(model, dataset="mnist", seed=SEED, n=SWEEP_N, steps=SWEEP_DDIM_STEPS):
    """What the manifest records beside the FID: the guidance sweep, and latent diffusion beside pixel diffusion.

    For each w of GUIDANCE_SWEEP, ``n`` DDIM samples (``steps`` steps) with labels 0-9 in turn:
    the project classifier's class accuracy, FID, precision and recall against ``n`` held-out
    digits. Then latent diffusion, decoded by the shipped VAE: the same guided measure at
    w = GUIDANCE; ``n`` unconditional samples at ``DDIM_STEPS["full"]``, the protocol of the
    pixel model's own FID; and the seconds per image of both samplers at those steps, timed
    in this run on ``TIMED`` images each.
    """
    import time

    from genlab import data, evaluation, pretrained
    from genlab.models import classifier, vae

    labels = np.arange(n) % NUM_CLASSES
    reference = evaluation.references(dataset, n, seed=seed)[0]
    recognise = classifier.load(dataset)
    which = ("FID", "precision", "recall")

    def measure(images, labels=labels):
        values = evaluation.measure(images, reference, dataset, which=which)
        result = {name: round(float(value), 4) for name, value in zip(which, values)}
        if labels is not None:
            predicted = np.argmax(recognise.predict(data.to_unit_range(images), verbose=0), axis=1)
            result["class_accuracy"] = round(float(np.mean(predicted == labels)), 4)
        return result

    sweep = {str(w): measure(data.to_uint8(_draw(model.unet, (n, *IMAGE_SHAPE), w, labels, steps, seed))) for w in GUIDANCE_SWEEP}
    result = {"guidance_sweep": {"n": n, "ddim_steps": steps, "seed": seed, "by_w": sweep}}
    if dataset != "mnist":
        return result
    decoder = pretrained.load("vae_mnist").vae

    def latent_images(w, labels, count, steps):
        z0 = _draw(model.latent, (count, model.latent_dim), w, labels, steps, seed, clip=None)
        return data.to_uint8(vae.decode(decoder, z0 * float(model.latent_scale)), from_range="sigmoid")

    full_steps, seconds = DDIM_STEPS["full"], {}
    for name, sample in (("pixel U-Net", lambda: _draw(model.unet, (TIMED, *IMAGE_SHAPE), 0.0, None, full_steps, seed)),
                         ("latent MLP + VAE decoder", lambda: latent_images(0.0, None, TIMED, full_steps))):
        sample()                                                             # traced once, untimed
        start = time.perf_counter()
        sample()
        seconds[name] = round((time.perf_counter() - start) / TIMED, 5)
    result["latent_diffusion"] = {
        "n": n, "ddim_steps": steps, "w": GUIDANCE, **measure(latent_images(GUIDANCE, labels, n, steps)),
        "unconditional": {"n": n, "ddim_steps": full_steps, **measure(latent_images(0.0, None, n, full_steps), None)},
        "seconds_per_image": {"ddim_steps": full_steps, "images": TIMED, **seconds}}
    return result
