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


@pytest.fixture
def load_script():
    """``load_script("scripts/<name>.py")``: a script or benchmark of the repository, imported as a module."""
    import importlib.util

    from genlab import paths

    def load(relative):
        path = paths.REPO_ROOT / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
