"""Identical and near-identical answers across students, for the instructor to look at.

Why it exists: two submissions with the same answer cell (or the same prose)
may be honest (a short, canonical answer) or copied; only a person can tell.
This module finds them and the class summary lists them; nothing here
changes a score. Each answer is normalised first (code: Python tokens
without comments, blank lines or indentation differences; prose: lower
case, words only), so renaming nothing but adding comments or spaces still
matches. Identical normalised answers are grouped by their SHA-256;
other pairs whose normalised token sequences are at least
:data:`NEAR` similar (difflib's ratio) are listed as near-identical. Answers
left as the stub, or equal to the instructor's own solution, are skipped:
sharing the model answer says nothing.
"""

import difflib
import hashlib
import io
import itertools
import re
import tokenize

NEAR = 0.9        # difflib ratio from which two answers are "near-identical"
MIN_TOKENS = 8    # shorter answers are too short to compare meaningfully
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENCODING, tokenize.ENDMARKER}


def tokens(source, kind="code"):
    """The normalised token list of an answer (see the module docstring)."""
    if kind == "code":
        try:
            return [token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                    if token.type not in _SKIP]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # not valid Python: compare its words
    return re.findall(r"\w+", source.lower())


def fingerprint(token_list):
    return hashlib.sha256("\x00".join(token_list).encode("utf-8")).hexdigest()


def compare(answers, ignore=(), kind="code"):
    """Groups of identical answers and near-identical pairs among students.

    Args:
        answers: student -> answer text.
        ignore: texts whose normalised form is skipped (the stub, the model answer).

    Returns:
        (identical, near): identical is [sorted students] (groups of 2 or more);
        near is [(student_a, student_b, ratio)] with ratio >= :data:`NEAR`, not identical.
    """
    skip = {fingerprint(tokens(text, kind)) for text in ignore}
    normal = {}
    for student, text in answers.items():
        token_list = tokens(text or "", kind)
        if len(token_list) >= MIN_TOKENS and fingerprint(token_list) not in skip:
            normal[student] = token_list
    groups = {}
    for student, token_list in normal.items():
        groups.setdefault(fingerprint(token_list), []).append(student)
    identical = sorted(sorted(group) for group in groups.values() if len(group) > 1)
    near = []
    for a, b in itertools.combinations(sorted(normal), 2):
        if normal[a] == normal[b]:
            continue
        matcher = difflib.SequenceMatcher(None, normal[a], normal[b], autojunk=False)
        if matcher.real_quick_ratio() >= NEAR and matcher.quick_ratio() >= NEAR and matcher.ratio() >= NEAR:
            near.append((a, b, round(matcher.ratio(), 3)))
    return identical, near


def report(rows, assignment, instructor):
    """[(label, identical, near)] for every answer cell and manual question with a match."""
    from genlab.course.grading import authoring

    sources = {cell.get("id"): cell.source for cell in instructor.cells}
    found = []
    items = [(cell_id, "code", lambda row, c=cell_id: row.answers.get(c, "")) for cell_id in assignment.answers]
    items += [(q.cell_id, q.cell_type, lambda row, q=q: row.manual.get(q.question_id, {}).get("answer", ""))
              for q in assignment.manual]
    for cell_id, kind, pick in items:
        model = sources.get(cell_id, "")
        stub = authoring.strip_solutions(model, authoring.MARKDOWN_STUB if kind == "markdown"
                                         else authoring.STUB_LINES)
        answers = {row.student: pick(row) for row in rows if row.status != "invalid"}
        identical, near = compare(answers, ignore=(model, stub), kind=kind)
        if identical or near:
            found.append((cell_id, identical, near))
    return found
