"""Assignments and grading for the genlab notebooks (``genlab assign`` and ``genlab grade``).

Why it exists: students complete exercise cells in the course notebooks and
instructors grade them without a server and without nbgrader, on the same
tools the test suite uses (nbformat, pytest, nbval). Modules:

* :mod:`~genlab.course.grading.authoring`: the markers (``### BEGIN SOLUTION``,
  ``# CHECK <id> <points>``, ``# HIDDEN CHECK``) and the assignment structure;
* :mod:`~genlab.course.grading.versions`: student version, graded notebook;
* :mod:`~genlab.course.grading.model_answers`: the model-answer cells a student
  version leaves out;
* :mod:`~genlab.course.grading.submission`: reading and matching submissions
  (tamper and drift);
* :mod:`~genlab.course.grading.runner`: one pytest + nbval run in its own process,
  with a time limit, a memory ceiling and a capped log;
* :mod:`~genlab.course.grading.isolation`: the run's private folder, the memory
  ceiling's per-process limit and the optional bubblewrap sandbox;
* :mod:`~genlab.course.grading.assign`: ``build``, ``check``, ``validate``;
* :mod:`~genlab.course.grading.grade` and :mod:`~genlab.course.grading.feedback`:
  ``grades.csv`` and per-student feedback;
* :mod:`~genlab.course.grading.summary`: the class summary (``summary.md``, ``summary.png``).

The package imports nothing of genlab but :mod:`genlab.paths`, and never
TensorFlow: only the graded notebooks' kernels load it.
"""
