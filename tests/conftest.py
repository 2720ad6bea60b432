"""Shared test set-up: quick mode, a headless matplotlib, TensorFlow imported quietly first."""

import os

os.environ.setdefault("GENLAB_MODE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")

from genlab import quiet  # noqa: E402,F401  (imports TensorFlow without its start-up logs)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _mode_unchanged():
    """A test that changes GENLAB_MODE in this process fails: the notebook kernels nbval starts later
    inherit the environment (--nbval-current-env), and would run in the wrong mode (as happened when a
    script set it at import)."""
    before = os.environ.get("GENLAB_MODE")
    yield
    after = os.environ.get("GENLAB_MODE")
    if after != before:
        if before is None:
            os.environ.pop("GENLAB_MODE", None)
        else:
            os.environ["GENLAB_MODE"] = before
        pytest.fail(f"GENLAB_MODE changed from {before!r} to {after!r} during the test; restore it "
                    "(monkeypatch.setenv) or set it only under `if __name__ == '__main__'`")
