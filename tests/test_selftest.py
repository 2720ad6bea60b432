"""genlab.course.selftest: answers normalised, hints that name a section and never the key, figures read by key."""

import json

import pytest

from genlab import paths
from genlab.course import selftest

REREAD = ("07_gan_training_challenges", "Remedies, each on the same baseline and budget")


def test_right_answers_print_correct(capsys):
    selftest.check_choice("q", " (B) ", key="b", options="abcd", reread=REREAD)
    selftest.check_number("q", "0.5", expected=0.5004, reread=REREAD, rel=0.01)
    selftest.check_same("q", {"VAE_mnist ": "Vae"}, key={"vae_mnist": "vae"}, reread=REREAD)
    selftest.check_same("q", ["b", "A"], key={"a", "b"}, reread=REREAD)
    selftest.check_that("q", True, reread=REREAD)
    assert capsys.readouterr().out == "q: correct\n" * 5


@pytest.mark.parametrize("call", [
    lambda: selftest.check_choice("q", "c", key="b", options="abcd", reread=REREAD),
    lambda: selftest.check_choice("q", "e", key="b", options="abcd", reread=REREAD),
    lambda: selftest.check_number("q", 0.6, expected=0.5, reread=REREAD),
    lambda: selftest.check_number("q", "about a half", expected=0.5, reread=REREAD),
    lambda: selftest.check_number("q", float("nan"), expected=0.5, reread=REREAD),
    lambda: selftest.check_same("q", {"vae_mnist": "gan"}, key={"vae_mnist": "vae"}, reread=REREAD),
    lambda: selftest.check_same("q", "vae", key={"vae_mnist": "vae"}, reread=REREAD),
    lambda: selftest.check_that("q", False, reread=REREAD),
])
def test_wrong_answers_name_the_section_to_reread_not_the_key(call):
    with pytest.raises(selftest.WrongAnswer) as failure:
        call()
    message = str(failure.value)
    assert message.startswith("q: ")
    assert message.endswith('Reread notebook 07 (07_gan_training_challenges.ipynb), '
                            'section "Remedies, each on the same baseline and budget".')
    assert "0.5" not in message and "'vae'" not in message and "is not one of" in message or "'b'" not in message
    assert isinstance(failure.value, AssertionError)


def test_result_reads_by_key_and_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "t.json").write_text(json.dumps({"a": {"b": [1, 2]}, "rows": []}))
    assert selftest.result("results/t.json", "a", "b", -1) == 2
    with pytest.raises(KeyError, match=r"results/t.json has no a -> c.*Its keys here: \['b'\]"):
        selftest.result("results/t.json", "a", "c")
    with pytest.raises(FileNotFoundError, match="git checkout -- data/"):
        selftest.result("results/missing.json")
    with pytest.raises(FileNotFoundError):
        selftest.manifest("no_such_model", "evaluation")


def test_row_finds_one_row_by_the_start_of_its_name():
    rows = [{"name": "slow D: all"}, {"name": "slow D: 1 step"}, {"name": "WGAN-GP"}]
    assert selftest.row(rows, "wgan")["name"] == "WGAN-GP"
    with pytest.raises(LookupError, match="2 rows start with 'slow D'"):
        selftest.row(rows, "slow D")
    with pytest.raises(LookupError, match="0 rows"):
        selftest.row(rows, "")


def test_shipped_files_have_the_keys_notebook_14_reads():
    assert selftest.row(selftest.result("results/gan_remedies.json", "sections", "ring", "rows"), "case study")
    assert selftest.manifest("dcgan_mnist", "evaluation", "values", "samples", "FID") > 0
