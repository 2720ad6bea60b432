"""The collection's generative models, one :func:`register` line each.

Why it exists: ``genlab report`` and notebook 08 evaluate "every model the
collection has" with one protocol (:mod:`genlab.evaluation`). A model joins
with one line at the bottom of this module naming its family module in
:mod:`genlab.models`, which provides ``train(dataset, mode, seed,
checkpoint_dir) -> generator`` and ``sampler(generator) -> sample_fn``.
Families are imported by name only when a model is used, so this module
imports none of them and nothing imports it back (no cycle).

Each registered model is one definition: the shipped weights (when the
registration names them, trained with the notebook's full-mode settings) or,
with ``source="train"``, the same family trained now in the chosen mode.
"""

import dataclasses
import importlib
from typing import Optional

from genlab import callbacks, config


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered model (see :func:`register`)."""

    name: str
    dataset: str
    family: str
    notebook: str
    pretrained: Optional[str] = None
    translates: Optional[str] = None

    def module(self):
        """The family module, e.g. :mod:`genlab.models.dcgan`."""
        return importlib.import_module(self.family)

    def default_source(self):
        """"shipped" when weights ship for this model, else "train"."""
        return "shipped" if self.pretrained else "train"

    def generator(self, source=None, mode=None, seed=0):
        """The model's generator: the shipped one, or (``source="train"``) trained now in ``mode``.

        Training resumes from, and saves to, the checkpoint
        ``callbacks.checkpoint_dir("report_<name>", dataset, mode)``.
        """
        source = source or self.default_source()
        if source == "shipped":
            if not self.pretrained:
                raise RuntimeError(f"{self.name}: no shipped weights; use source='train' "
                                   f"(genlab report --retrain) to train it")
            from genlab import pretrained

            return pretrained.load(self.pretrained)
        if source != "train":
            raise ValueError(f"source must be 'shipped' or 'train', got {source!r}")
        mode = config.check_mode(mode)
        return self.module().train(dataset=self.dataset, mode=mode, seed=seed,
                                   checkpoint_dir=callbacks.checkpoint_dir(f"report_{self.name}", self.dataset, mode))

    def sampler(self, source=None, mode=None, seed=0):
        """``sample_fn(n, seed=0, **options)`` -> uint8 images of the model (see :meth:`generator`)."""
        return self.module().sampler(self.generator(source, mode, seed))

    def describe(self, source=None, mode=None):
        """One line saying which model this is (for reports and notebooks)."""
        source = source or self.default_source()
        if source == "shipped":
            from genlab import pretrained

            settings = pretrained.info(self.pretrained)["settings"]
            text = f"{self.name}: shipped weights ({settings['iterations']:,} iterations, notebook {self.notebook}'s full mode)"
        else:
            text = f"{self.name}: trained now in {config.check_mode(mode)} mode (notebook {self.notebook}'s settings)"
        if self.translates:
            text += (f"; its images are made from {self.translates}, the very digits FID compares them with, "
                     f"so its FID can fall below the real-vs-real floor without being better than real")
        return text


_REGISTRY = {}


def register(name, dataset, family, notebook, pretrained=None, translates=None):
    """Register a model: ``family`` is the module in genlab.models that builds and trains it.

    Args:
        name: short id, e.g. "dcgan_mnist".
        dataset: "mnist" or "fashion_mnist" (decides the real data and the extractor).
        family: module path, e.g. "genlab.models.dcgan".
        notebook: the notebook that teaches it, e.g. "05_dcgan".
        pretrained: the name of its shipped weights in :mod:`genlab.pretrained`, if any.
        translates: for an image-to-image model (notebook 09), what its sampler's images are
            made from, e.g. "masked held-out digits": its FID then compares outputs with their
            own sources (:meth:`Entry.describe` says so).
    """
    if dataset not in ("mnist", "fashion_mnist"):
        raise ValueError(f"dataset must be 'mnist' or 'fashion_mnist', got {dataset!r}")
    if not family.startswith("genlab.models."):
        raise ValueError(f"family must be a module of genlab.models, got {family!r}")
    _REGISTRY[name] = Entry(name, dataset, family, notebook, pretrained, translates)
    return _REGISTRY[name]


def names():
    """The registered models' names, in registration order."""
    return list(_REGISTRY)


def get(name):
    """The :class:`Entry` registered as ``name``."""
    if name not in _REGISTRY:
        raise ValueError(f"no model registered as {name!r}; registered: {names()}")
    return _REGISTRY[name]


# The collection's models: one line per model, in notebook order.
register("autoencoder_mnist", "mnist", "genlab.models.autoencoder", "01_autoencoders", pretrained="autoencoder_mnist")
register("vae_mnist", "mnist", "genlab.models.vae", "02_vae", pretrained="vae_mnist")
register("pixelcnn_mnist", "mnist", "genlab.models.pixelcnn", "03_pixelcnn", pretrained="pixelcnn_mnist")
register("mlp_gan_mnist", "mnist", "genlab.models.mlp_gan", "04_gan_basics", pretrained="mlp_gan_mnist")
register("dcgan_mnist", "mnist", "genlab.models.dcgan", "05_dcgan", pretrained="dcgan_mnist")
register("dcgan_fashion_mnist", "fashion_mnist", "genlab.models.dcgan", "05_dcgan")
register("cgan_mnist", "mnist", "genlab.models.cgan", "06_conditional_gan", pretrained="cgan_mnist")
register("infogan_mnist", "mnist", "genlab.models.infogan", "06_conditional_gan", pretrained="infogan_mnist")
register("pix2pix_mnist", "mnist", "genlab.models.pix2pix", "09_image_to_image", pretrained="pix2pix_mnist",
         translates="masked held-out digits")
register("cyclegan_mnist", "mnist", "genlab.models.cyclegan", "09_image_to_image", pretrained="cyclegan_mnist",
         translates="bold versions of held-out digits")
register("superres_mnist", "mnist", "genlab.models.superres", "09_image_to_image", pretrained="superres_mnist",
         translates="7x7 versions of held-out digits")
register("stylegan_mnist", "mnist", "genlab.models.stylegan", "10_stylegan_concepts", pretrained="stylegan_mnist")
register("diffusion_mnist", "mnist", "genlab.models.diffusion", "11_diffusion", pretrained="diffusion_mnist")
register("rbm_mnist", "mnist", "genlab.models.rbm", "12_boltzmann_rbm_dbn", pretrained="rbm_mnist")
register("realnvp_mnist", "mnist", "genlab.models.flows", "13_normalizing_flows", pretrained="realnvp_mnist")
