"""What every GAN of the collection shares: the combined model, the alternating loop, the losses.

* :mod:`~genlab.gan.combined`: the book's combined model z -> G -> D with a
  really frozen D on Keras 3 (:func:`build_combined`), and the probe
  :func:`statistics_used` (notebook 05's trap table);
* :mod:`~genlab.gan.loop`: the book's alternating ``train_on_batch`` loop
  (:func:`train`) with history, grids, checkpoints and resume, and the plain
  ``tf.function`` step the benchmark times it against;
* :mod:`~genlab.gan.losses`: saturating, non-saturating, Wasserstein and hinge
  losses (TF-GAN's where TF-GAN has them);
* :mod:`~genlab.gan.regularizers`, :mod:`~genlab.gan.monitor`, :mod:`~genlab.gan.coverage`,
  :mod:`~genlab.gan.experiments`, :mod:`~genlab.gan.study_nets`: notebook 07's remedies
  (gradient penalty, spectral norm, minibatch stddev, minibatch discrimination, feature
  matching), training monitor, mode coverage, study trainer and its networks.

Use it as a namespace: ``from genlab import gan`` then ``gan.build_combined(...)``,
``gan.train(...)``, ``gan.losses.non_saturating_generator(...)``.
"""

from genlab.gan import coverage, losses, monitor, regularizers  # noqa: F401
from genlab.gan.combined import (  # noqa: F401
    CombinedModel,
    build_combined,
    statistics_used,
    training_mode_trainable,
)
from genlab.gan.loop import (  # noqa: F401
    HISTORY_KEYS,
    TrainingResult,
    load_checkpoint,
    make_plain_train_step,
    save_checkpoint,
    train,
)
