"""scripts/train_pretrained.py on a tiny GAN: a killed run resumes, a second run is refused, the manifest adds up."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = ("import sys; sys.path[:0] = [{tests!r}, {scripts!r}]; import tiny_family, train_pretrained; "
       "sys.exit(train_pretrained.main(sys.argv[1:], entry=tiny_family.ENTRY))").format(
    tests=str(REPO / "tests"), scripts=str(REPO / "scripts"))
ITERATIONS = 300


def start(tmp_path, *extra, sleep="0.05"):
    env = dict(os.environ, TINY_SLEEP=sleep, TINY_LOG=str(tmp_path / "executed.txt"), GENLAB_MODE="quick")
    command = [sys.executable, "-c", RUN, "tiny_mnist", "--iterations", str(ITERATIONS), "--n", "60",
               "--out", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path / "checkpoint"), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def checkpoint_iteration(tmp_path):
    state = tmp_path / "checkpoint" / "state.npz"
    if not state.exists():
        return 0
    try:
        with np.load(state) as arrays:
            return int(arrays["iteration"])
    except (OSError, ValueError, KeyError):  # being replaced this instant
        return 0


def wait_for(condition, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def executed(tmp_path):
    return [int(line) for line in (tmp_path / "executed.txt").read_text().split()]


@pytest.mark.timeout(600)
def test_a_killed_run_resumes_from_its_checkpoint_and_a_second_run_is_refused(tmp_path):
    from genlab import runs

    first = start(tmp_path)
    try:
        assert wait_for(lambda: checkpoint_iteration(tmp_path) >= 30), "no checkpoint was written"
        assert wait_for(lambda: runs.RunRecord(tmp_path / "checkpoint").seconds() > 0), "no time recorded"
        # While it runs, a second run of the same model is refused at once, with a clear message.
        second = start(tmp_path, "--resume")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 3
        assert "training of tiny_mnist is already running (pid" in err and "--resume" in err
    finally:
        first.send_signal(signal.SIGKILL)          # as a session's end does
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    saved = checkpoint_iteration(tmp_path)
    done_before = len(executed(tmp_path))
    assert 30 <= saved < ITERATIONS and done_before < ITERATIONS
    assert not (tmp_path / "out").exists()       # nothing shipped from a run that did not finish

    # Without --resume, an existing checkpoint is not silently continued, nor overwritten.
    fresh = start(tmp_path, sleep="0")
    _, err = fresh.communicate(timeout=120)
    assert fresh.returncode != 0 and "Continue it with --resume" in err
    assert checkpoint_iteration(tmp_path) == saved

    resumed = start(tmp_path, "--resume", sleep="0")
    out, err = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, err[-2000:]
    assert f"resuming tiny_mnist from {tmp_path / 'checkpoint'}: 1 earlier piece(s)" in out
    runs_ = executed(tmp_path)
    # The resumed piece started after the checkpoint: it ran iterations saved+1 .. 300 once more.
    assert runs_[done_before:] == list(range(saved + 1, ITERATIONS + 1))

    manifest = json.loads((tmp_path / "out" / "tiny_mnist.json").read_text())
    assert manifest["settings"]["iterations"] == ITERATIONS
    assert len(manifest["pieces"]) == 2 and all(piece["iterations"] == ITERATIONS for piece in manifest["pieces"])
    assert manifest["train_seconds"] == round(sum(piece["seconds"] for piece in manifest["pieces"]))
    assert manifest["pieces"][0]["seconds"] > 0          # the killed piece's time counts too
    assert "CPU cores" in manifest["machine"] and manifest["data"]["train_images"] == 60_000
    assert manifest["evaluation"]["n"] == 60 and manifest["evaluation_check"]["n"] == 60
    assert set(manifest["evaluation"]["values"]) == {"samples", "real train (floor)", "uniform noise (ceiling)"}
    assert (tmp_path / "out" / "tiny_mnist.weights.h5").stat().st_size == manifest["bytes"]


def test_restart_discards_the_checkpoint_and_resume_checks_the_length(tmp_path):
    from genlab import runs

    record = runs.RunRecord(tmp_path / "checkpoint")
    with record.piece(iterations=ITERATIONS + 1):
        pass
    other = start(tmp_path, "--resume", sleep="0")
    _, err = other.communicate(timeout=120)
    assert other.returncode != 0 and f"a run of {ITERATIONS + 1:,} iterations" in err
    restarted = start(tmp_path, "--restart", sleep="0")
    out, err = restarted.communicate(timeout=400)
    assert restarted.returncode == 0, err[-2000:]
    assert len(json.loads((tmp_path / "out" / "tiny_mnist.json").read_text())["pieces"]) == 1


def test_a_run_record_keeps_the_time_of_a_piece_that_is_still_going(tmp_path):
    from genlab import runs

    record = runs.RunRecord(tmp_path, interval=0.05)
    with record.piece(iterations=5):
        time.sleep(0.3)
        assert record.pieces()[0]["seconds"] > 0.1     # written while running: a kill keeps it
    assert record.seconds() >= 0.3 and len(record.pieces()) == 1


def test_git_commit_names_this_checkout():
    from genlab import runs

    commit = runs.git_commit()
    assert commit is None or (len(commit.split("+")[0]) == 40)


def test_a_run_cut_off_while_evaluating_is_evaluated_not_trained_again_on_resume(tmp_path):
    """The trained weights are kept before the evaluation: --resume then loads them and only evaluates."""
    first = start(tmp_path, "--n", "-1", sleep="0")     # an evaluation that fails after the training
    _, err = first.communicate(timeout=400)
    assert first.returncode != 0 and not (tmp_path / "out").exists()
    assert (tmp_path / "checkpoint" / "trained.weights.h5").is_file()
    done = len(executed(tmp_path))
    assert done == ITERATIONS
    resumed = start(tmp_path, "--resume", sleep="0")
    out, err = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, err[-2000:]
    assert "finished training in an earlier piece" in out
    assert len(executed(tmp_path)) == done                  # no iteration ran again
    manifest = json.loads((tmp_path / "out" / "tiny_mnist.json").read_text())
    assert manifest["evaluation"]["n"] == 60 and len(manifest["pieces"]) == 1
    assert manifest["evaluation_n_reason"] == "not given"    # below the standard N: the reason is asked for


def test_save_results_stamps_the_record_and_leaves_no_partial_file(tmp_path):
    from genlab import runs

    out = tmp_path / "sub" / "results.json"
    runs.save_results(out, {"what": "a test", "rows": {"a": 1}}, "a machine")
    saved = json.loads(out.read_text())
    assert saved["rows"] == {"a": 1} and saved["machine"] == "a machine" and saved["date"].endswith("UTC")
    assert [path.name for path in out.parent.iterdir()] == ["results.json"]
