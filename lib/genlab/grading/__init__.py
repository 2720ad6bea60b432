"""Assignments and grading for the genlab notebooks (``genlab assign`` and ``genlab grade``).

Why it exists: students complete exercise cells in the course notebooks and
instructors grade them without a server and without nbgrader, on the same
tools the test suite uses (nbformat, pytest, nbval). Modules:

* :mod:`~genlab.grading.authoring`: the markers (``### BEGIN SOLUTION``,
  ``# CHECK <id> <points>``, ``# HIDDEN CHECK``) and the assignment structure;
* :mod:`~genlab.grading.notebook`: student version, graded notebook;
* :mod:`~genlab.grading.submission`: reading and matching submissions
  (tamper and drift);
* :mod:`~genlab.grading.runner`: one pytest + nbval run in its own process;
* :mod:`~genlab.grading.assign`: ``build``, ``check``, ``validate``;
* :mod:`~genlab.grading.grade` and :mod:`~genlab.grading.feedback`:
  ``grades.csv`` and per-student feedback.
"""
