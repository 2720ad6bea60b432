"""The course tooling: the ``genlab`` command, notebook runs, the results report, grading.

Why it is a wing of its own: instructors run ``genlab grade`` and
``genlab assign`` on many submissions, and those must start fast and never
load TensorFlow (only the graded notebooks' kernels do). Nothing in this
package imports TensorFlow at import time; :mod:`genlab.course.report`, the
one tool that evaluates models, imports the model side of genlab when it runs.

* :mod:`~genlab.course.cli`: the ``genlab`` command line;
* :mod:`~genlab.course.notebook_runner`: ``genlab notebooks run|refresh``;
* :mod:`~genlab.course.report`: ``genlab report``;
* :mod:`~genlab.course.timing`: the per-notebook time table ``make test`` prints;
* :mod:`~genlab.course.selftest`: the answer checks of notebook 14's review questions
  (the keys stay in its hidden checks) and the shipped figures they read;
* :mod:`~genlab.course.grading`: ``genlab assign`` and ``genlab grade``.
"""
