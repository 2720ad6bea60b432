"""Check the answers of a review notebook, and read the measurements its questions are about.

Why it exists: notebook 14 (``notebooks/14_review_and_self_test.ipynb``) asks the
lecture's case-study questions and the exam's questions, and grades each answer in a
``# HIDDEN CHECK`` cell, which ``genlab assign build`` removes from the student version.
Those cells pass the answer key to the functions here; this module holds no key. A right
answer prints ``<question>: correct`` (the check cell's reference output); a wrong or
malformed one raises :class:`WrongAnswer`, whose message names the notebook section to
reread and never the key: the grading feedback shows a hidden check's last error line.

The figures the questions are about (and that the model answers quote) are read here
from ``data/pretrained/*.json`` and ``data/results/*.json`` at run time, by key, so
they follow every re-measurement. Nothing here loads TensorFlow.

Example::

    from genlab.course import selftest
    selftest.result("results/dbn_pretraining.json", "summary", "pre-trained", "mean")
    selftest.check_choice("cs3-frozen", "b", key="b", options="abcd",
                          reread=("05_dcgan", "The combined model, and why D is frozen"))
"""

import json
import math

from genlab import paths


class WrongAnswer(AssertionError):
    """An answer that does not match the key; the message says what to reread."""


def reread_text(reread):
    """'notebook 07 (07_gan_training_challenges.ipynb), section "Remedies ..."' for a (stem, heading) pair."""
    stem, heading = reread
    return f'notebook {stem[:2]} ({stem}.ipynb), section "{heading}"'


def _wrong(question, reread, why="not the expected answer"):
    raise WrongAnswer(f"{question}: {why}. Reread {reread_text(reread)}.")


def _correct(question):
    print(f"{question}: correct")


def result(relative, *keys):
    """A value of a shipped results file under ``data/`` (e.g. ``"results/gan_remedies.json"``), by key path.

    Raises:
        FileNotFoundError: the file is missing (the message says how to restore it).
        KeyError: a key is missing (the message names the path walked so far).
    """
    path = paths.DATA_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing. {paths.RESTORE}")
    value = json.loads(path.read_text(encoding="utf-8"))
    walked = []
    for key in keys:
        walked.append(str(key))
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{relative} has no {' -> '.join(walked)}: was the file re-measured "
                           f"with a different layout? Its keys here: {_keys(value)}") from None
    return value


def _keys(value):
    return sorted(map(str, value)) if isinstance(value, dict) else f"a {type(value).__name__}"


def manifest(name, *keys):
    """A value of a shipped model's manifest, ``data/pretrained/<name>.json``, by key path."""
    return result(f"pretrained/{name}.json", *keys)


def row(rows, name):
    """The one row of a results table whose ``name`` starts with ``name`` (case-insensitive).

    Raises:
        LookupError: no row or several rows start with it (the message lists the names).
    """
    wanted = str(name).strip().lower()
    found = [r for r in rows if wanted and r["name"].lower().startswith(wanted)]
    if len(found) != 1:
        names = "; ".join(r["name"] for r in rows)
        raise LookupError(f"{len(found)} rows start with {name!r}; the rows are: {names}")
    return found[0]


def _letter(answer):
    return str(answer).strip().strip("()").strip().lower()


def check_choice(question, answer, key, options, reread):
    """A multiple-choice answer: one letter of ``options`` (``"B"``, ``"(b)"`` and ``"b"`` are the same)."""
    letter = _letter(answer)
    if len(letter) != 1 or letter not in options:
        _wrong(question, reread, f"{answer!r} is not one of the letters {', '.join(options)}")
    if letter != _letter(key):
        _wrong(question, reread)
    _correct(question)


def check_number(question, answer, expected, reread, rel=0.01, abs_tol=0.0):
    """A computed answer: a number within ``rel`` (relative) or ``abs_tol`` of ``expected``."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        _wrong(question, reread, f"{answer!r} is not a number")
    if not math.isfinite(value) or not math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        _wrong(question, reread)
    _correct(question)


def _norm(value):
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, dict):
        return {_norm(k): _norm(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset, list, tuple)):
        return frozenset(_norm(v) for v in value)
    return value


def check_same(question, answer, key, reread):
    """A name, a set of names or a mapping: equal to ``key`` ignoring case, spaces and order."""
    if type(_norm(answer)) is not type(_norm(key)):
        kind = {dict: "a dict", frozenset: "a set or list", str: "a string"}.get(type(_norm(key)), "a value")
        _wrong(question, reread, f"the answer must be {kind}")
    if _norm(answer) != _norm(key):
        _wrong(question, reread)
    _correct(question)


def check_that(question, passed, reread):
    """A prediction checked against a measurement: ``passed`` is the comparison the check computed."""
    if not passed:
        _wrong(question, reread, "the shipped measurement says otherwise")
    _correct(question)
