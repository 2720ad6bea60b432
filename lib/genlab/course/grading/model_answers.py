"""Model answers: cells of an instructor notebook that the student version leaves out.

Why it exists: a review notebook (notebook 14) shows the instructor a model answer
after each question, in collapsible Markdown (``<details>``), and sometimes a code
cell that quotes the measured figure from the shipped results files. Students must
not receive either. The markers are comments in the cell's first line, like the
check markers (notebook formatters and Colab drop cell tags):

* a Markdown cell whose first non-blank line is ``<!-- MODEL ANSWER -->``;
* a code cell whose first non-blank line starts with ``# MODEL ANSWER``.

:func:`genlab.course.grading.versions.student_version` drops such cells; graded
notebooks keep them (they are the instructor's notebook).
"""

from genlab.course.grading import authoring

MARKDOWN_MARKER = "<!-- MODEL ANSWER -->"
CODE_MARKER = "# MODEL ANSWER"


def is_model_answer(cell):
    """True for a Markdown or code cell marked as a model answer."""
    line = authoring.first_line(cell.get("source", ""))
    if cell.get("cell_type") == "markdown":
        return line == MARKDOWN_MARKER
    if cell.get("cell_type") == "code":
        return line.startswith(CODE_MARKER)
    return False
