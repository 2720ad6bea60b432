"""Assignments and grading for the genlab notebooks (``genlab assign`` and ``genlab grade``).

Why it exists: students complete exercise cells in the course notebooks and
instructors grade them without a server and without nbgrader, on the same
tools the test suite uses (nbformat, pytest, nbval). docs/instructors.md
walks through the whole flow.

Authoring and handing out:

* :mod:`~genlab.course.grading.authoring`: the markers (``### BEGIN SOLUTION``,
  ``# CHECK <id> <points>``, ``# HIDDEN CHECK``, ``<!-- MANUAL <id> <points> -->``,
  parts ``<exercise>.<part>``, cells skipped when grading);
* :mod:`~genlab.course.grading.versions`: student version, graded notebook;
* :mod:`~genlab.course.grading.model_answers`: the model-answer cells a student
  version leaves out;
* :mod:`~genlab.course.grading.assign`: ``build``, ``check``, ``validate``;
* :mod:`~genlab.course.grading.release`: the student tree and its audit;
* :mod:`~genlab.course.grading.selfcheck`: ``genlab.check("<exercise>")`` in Jupyter or Colab.

Grading is a pipeline, one module per stage, each taking the previous one's output
(:mod:`~genlab.course.grading.grade` runs it):

1. read the assignment: :func:`~genlab.course.grading.versions.read_instructor`;
2. take in the submissions: :mod:`~genlab.course.grading.intake` (latest wins, hand-in times);
3. run and score: :mod:`~genlab.course.grading.score` (using
   :mod:`~genlab.course.grading.submission` to extract answers,
   :mod:`~genlab.course.grading.runner` and :mod:`~genlab.course.grading.isolation` to run);
4. record: :mod:`~genlab.course.grading.record` (results, ``grades.csv``, the gradebook and its history);
5. feedback and exports: :mod:`~genlab.course.grading.feedback`,
   :mod:`~genlab.course.grading.manual` (sheets and ``grade merge``),
   :mod:`~genlab.course.grading.summary` with :mod:`~genlab.course.grading.similarity`,
   :mod:`~genlab.course.grading.exports` (totals, Canvas, Gradescope).

The package imports nothing of genlab but :mod:`genlab.paths`, and never
TensorFlow: only the graded notebooks' kernels load it.
"""
