"""genlab: helpers for the generative-models notebooks.

Import modules as namespaces, e.g. ``from genlab import config, data, plots``.
Importing the package itself loads nothing heavy: the course tools
(``genlab grade``, ``genlab assign``, in :mod:`genlab.course`) never load
TensorFlow. The modules that need TensorFlow import it through
:mod:`genlab.quiet`, which keeps its start-up logs out of notebook outputs.

Layout: :mod:`genlab.models` (one module per model family, with its one set
of defaults), :mod:`genlab.gan` (the combined model with a frozen D, the
alternating loop, GAN losses), :mod:`genlab.callbacks` (progress, sample
grids, checkpoints for every family), :mod:`genlab.registry`,
:mod:`genlab.evaluation` and :mod:`genlab.pretrained` (shipped weights).
"""

__version__ = "0.2.0"


def check(name, notebook=None):
    """Run the visible checks of one exercise in this notebook's kernel and print the grader's verdict.

    ``genlab.check("diagnose")`` (like otter's ``grader.check``) works in Jupyter and on Colab;
    see :mod:`genlab.course.grading.selfcheck`. Pass ``notebook`` (its path) where the notebook
    cannot be found by itself.
    """
    from genlab.course.grading import selfcheck

    return selfcheck.check(name, notebook)
