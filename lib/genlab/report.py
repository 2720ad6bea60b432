"""The results report: every registered generative model, measured the same way.

Why this module exists: the README's quality table must come from a run that
actually happened, so one command (``genlab report`` / ``make report``)
evaluates every model registered here and writes ``build/report.md`` (plus
``build/report.json`` and plots in ``build/report/``). A model plugs in with one call::

    from genlab import report
    report.register("dcgan_mnist", dataset="mnist", train_fn=train, load_fn=load,
                    checkpoint="build/checkpoints/dcgan_mnist_{mode}.keras", notebook="05_dcgan")

``sample_fn(n, seed)`` returns uint8 images (n, 28, 28). Where it comes from,
in order: ``sample_fn`` given directly (a model in memory, e.g. in a
notebook); else ``load_fn(checkpoint)`` when the checkpoint file exists; else
``train_fn(mode, seed, checkpoint)`` (which trains in the chosen mode, may save
the checkpoint, and returns a sample_fn). Metrics: FID, KID, classifier score,
precision and recall (``genlab.metrics``) at the same N as the real-vs-real floor.
"""

import argparse
import dataclasses
import datetime
import json
import platform
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from genlab import paths, quiet  # noqa: F401  (quiet silences TF before it is imported)

EXTRACTOR_FOR = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
COLUMNS = ("model", "dataset", "metric", "extractor", "n", "value", "training", "mode", "source")


@dataclasses.dataclass
class Entry:
    """One registered model (see :func:`register`)."""

    name: str
    dataset: str
    sample_fn: Optional[Callable] = None
    train_fn: Optional[Callable] = None
    load_fn: Optional[Callable] = None
    checkpoint: object = None  # str or list of str
    notebook: Optional[str] = None
    train_seconds: Optional[float] = None

    def checkpoint_paths(self, mode):
        """Candidate checkpoint paths for ``mode``, in the order they are tried."""
        candidates = [self.checkpoint] if isinstance(self.checkpoint, str) else list(self.checkpoint or ())
        return [Path(str(c).format(mode=mode)) for c in candidates]

    def sampler(self, mode, seed=0, retrain=False):
        """(sample_fn, source description, training seconds or None); ``retrain`` ignores checkpoints."""
        if self.sample_fn is not None:
            return self.sample_fn, "in memory", self.train_seconds
        candidates = self.checkpoint_paths(mode)
        for path in candidates if self.load_fn is not None and not retrain else ():
            if path.exists():
                try:
                    sample_fn = self.load_fn(path)
                except FileNotFoundError:  # an incomplete checkpoint (a run still going)
                    continue
                meta = path.with_name(path.name + ".json")
                seconds = json.loads(meta.read_text()).get("train_seconds") if meta.exists() else None
                return sample_fn, f"checkpoint {path.name}", seconds
        path = candidates[-1] if candidates else None
        if self.train_fn is None:
            raise RuntimeError(f"{self.name}: no sample_fn, no checkpoint at {path}, and no train_fn")
        start = time.time()
        sample_fn = self.train_fn(mode, seed, path)
        seconds = time.time() - start
        if path is not None and path.exists():
            path.with_name(path.name + ".json").write_text(json.dumps(
                {"train_seconds": round(seconds, 1), "mode": mode, "seed": seed,
                 "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}))
        return sample_fn, f"trained now ({mode})", seconds


_REGISTRY = {}


def register(name, dataset, sample_fn=None, train_fn=None, load_fn=None, checkpoint=None,
             notebook=None, train_seconds=None):
    """Register (or replace) a model for the report and notebook 08.

    Args:
        name: short id, e.g. "dcgan_mnist".
        dataset: "mnist" or "fashion_mnist" (decides real data and extractor).
        sample_fn: ``sample_fn(n, seed) -> uint8 (n, 28, 28)`` of a model in memory.
        train_fn: ``train_fn(mode, seed, checkpoint_path) -> sample_fn``.
        load_fn: ``load_fn(checkpoint_path) -> sample_fn``.
        checkpoint: path, may contain ``{mode}`` (quick and full runs kept apart); or a
            list of paths: the first that exists is loaded, training writes the last.
        notebook: the notebook that teaches the model.
        train_seconds: training time of an in-memory model, if known.
    """
    if dataset not in EXTRACTOR_FOR:
        raise ValueError(f"dataset must be one of {tuple(EXTRACTOR_FOR)}, got {dataset!r}")
    if sample_fn is None and train_fn is None and load_fn is None:
        raise ValueError("give at least one of sample_fn, train_fn, load_fn")
    if checkpoint is not None:
        checkpoint = str(checkpoint) if isinstance(checkpoint, (str, Path)) else [str(c) for c in checkpoint]
    _REGISTRY[name] = Entry(name, dataset, sample_fn, train_fn, load_fn, checkpoint, notebook, train_seconds)
    return _REGISTRY[name]


def registered():
    """Names of the registered models, built-in ones included."""
    from genlab import registrations  # noqa: F401  (registers the collection's models)

    return list(_REGISTRY)


def get(name):
    """The :class:`Entry` registered as ``name``."""
    registered()
    if name not in _REGISTRY:
        raise ValueError(f"no model registered as {name!r}; registered: {list(_REGISTRY)}")
    return _REGISTRY[name]


def real_images(dataset, n, seed=0):
    """(reference, floor) uint8 sets of n real images: held-out test and (disjoint) train."""
    from genlab import data

    (x_train, _), (x_test, _) = data.load(dataset)
    rng = np.random.default_rng(seed)
    n = min(n, len(x_test), len(x_train))
    return x_test[rng.permutation(len(x_test))[:n]], x_train[rng.permutation(len(x_train))[:n]]


def measure(images, reference, extractor):
    """FID, KID, classifier score, precision and recall of ``images`` against ``reference``."""
    from genlab import metrics

    real = metrics.extract(reference, extractor)[0]
    fake, name = metrics.extract(images, extractor)
    logits = metrics.extract(images, extractor, logits=True)[0]
    results = [metrics.frechet_distance(real, fake), metrics.kernel_distance(real, fake),
               metrics.classifier_score(logits), *metrics.precision_recall(real, fake)]
    return [dataclasses.replace(r, extractor=name) for r in results]


def _rows(model, dataset, results, training, mode, source):
    return [dict(model=model, dataset=dataset, metric=r.metric, extractor=r.extractor, n=r.n_generated,
                 value=float(r.value), std=r.std, training=training, mode=mode, source=source)
            for r in results]


def evaluate(name, n=1000, mode=None, seed=0, with_references=True, retrain=False):
    """Rows (dicts) for one model, plus the real floor and noise ceiling at the same N."""
    from genlab import config

    entry = get(name) if isinstance(name, str) else name
    mode = mode or config.MODE
    extractor = EXTRACTOR_FOR[entry.dataset]
    reference, floor = real_images(entry.dataset, n, seed)
    sample_fn, source, seconds = entry.sampler(mode, seed, retrain=retrain)
    images = np.asarray(sample_fn(len(reference), seed))
    training = "-" if seconds is None else f"{seconds:.0f} s"
    rows = _rows(entry.name, entry.dataset, measure(images, reference, extractor), training, mode, source)
    if with_references:
        noise = np.random.default_rng(seed).integers(0, 256, reference.shape, dtype=np.uint8)
        rows += _rows("real train (floor)", entry.dataset, measure(floor, reference, extractor), "-", "-", "data")
        rows += _rows("uniform noise (ceiling)", entry.dataset, measure(noise, reference, extractor), "-", "-", "-")
    return rows, images


def table(rows):
    """The rows from :func:`evaluate` as a Markdown table (also readable as plain text)."""
    lines = ["| model | dataset | metric | extractor | N | value | training time | mode | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        value = f"{row['value']:.4g}" + (f" ± {row['std']:.2g}" if row.get("std") else "")
        lines.append(f"| {row['model']} | {row['dataset']} | {row['metric']} | {row['extractor']} | "
                     f"{row['n']:,} | {value} | {row['training']} | {row['mode']} | {row['source']} |")
    return "\n".join(lines)


def summary(rows):
    """One line per model (FID, KID, IS, precision, recall side by side) as a Markdown table."""
    order, by_model = [], {}
    for row in rows:
        if row["model"] not in by_model:
            order.append(row["model"])
            by_model[row["model"]] = dict(row)
        by_model[row["model"]][row["metric"]] = row["value"]
    lines = ["| model | dataset | extractor | N | FID | KID | IS | precision | recall | training time | mode |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in order:
        r = by_model[name]
        values = " | ".join(f"{r[m]:.3g}" if m in r else "-" for m in ("FID", "KID", "IS", "precision", "recall"))
        lines.append(f"| {name} | {r['dataset']} | {r['extractor']} | {r['n']:,} | {values} | "
                     f"{r['training']} | {r['mode']} |")
    return "\n".join(lines)


def machine():
    """A one-line description of this machine (CPU, cores, GPU)."""
    import os

    from genlab import config

    gpu = config.environment_report()["gpu"]
    return f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPU cores, GPU: {gpu}"


def write(rows, samples, out_dir, mode, seconds, skipped=()):
    """Write report.md and report.json into ``out_dir``, plots into ``out_dir/report/``."""
    from genlab import config, plots

    out_dir = Path(out_dir)
    (out_dir / "report").mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    env = config.environment_report()
    lines = ["# genlab results report", "",
             f"Date: {now}. Machine: {machine()}. Mode: {mode}. TensorFlow {env['tensorflow']}, "
             f"Keras {env['keras']}, genlab {env['genlab']}. Report run time: {seconds:.0f} s.", "",
             "Generated images are compared with held-out real images (test split); "
             "the floor compares real training images with the same test images at the same N. "
             "Lower is better for FID and KID, higher for IS, precision and recall.", "",
             summary(rows), "", "## All values", "", table(rows)]
    lines += ["", "Precision and recall are k-nearest-neighbour estimates (k=3, Kynkaanniemi et al. 2019). "
              "Samples far from every real image can still land inside the real manifold in the "
              "classifier's feature space (uniform noise does, with the MNIST classifier): read "
              "precision together with recall and FID."]
    lines += [f"\nSkipped {reason}" for reason in skipped]
    for name in samples:
        lines += ["", f"![{name} samples](report/{name}_samples.png)"]
    lines += ["", "![FID](report/fid.png)", ""]
    (out_dir / "report.md").write_text("\n".join(lines))
    (out_dir / "report.json").write_text(json.dumps(
        {"date": now, "machine": machine(), "mode": mode, "environment": env, "rows": rows,
         "skipped": list(skipped), "seconds": round(seconds)}, indent=1))
    for name, images in samples.items():
        plots.sample_grid(images[:64], ncols=8, title=name, path=out_dir / "report" / f"{name}_samples.png")
    _fid_plot([r for r in rows if r["metric"] == "FID"], out_dir / "report" / "fid.png")
    plots.close_all()
    return out_dir / "report.md"


def _fid_plot(rows, path):
    import matplotlib.pyplot as plt

    unique = {f"{r['model']} ({r['dataset']})": r["value"] for r in rows}
    figure, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(unique)))
    ax.barh(list(unique), list(unique.values()), color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel(f"FID (log scale, N={rows[0]['n'] if rows else 0:,})")
    ax.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    """``genlab report [--mode quick|full] [--models a,b] [--n N] [--out DIR] [--retrain]``."""
    from genlab import config

    parser = argparse.ArgumentParser(prog="genlab report", description="Evaluate every registered model.")
    parser.add_argument("--mode", choices=config.MODES, default=None, help="default: GENLAB_MODE / hardware")
    parser.add_argument("--models", default=None, help="comma-separated names (default: all registered)")
    parser.add_argument("--n", type=int, default=None, help="samples per metric (default quick 1000, full 10000)")
    parser.add_argument("--out", default=str(paths.BUILD_DIR),
                        help="writes OUT/report.md, OUT/report.json and OUT/report/*.png (default build/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrain", action="store_true",
                        help="train every model now in this mode, ignoring existing checkpoints")
    args = parser.parse_args(argv)
    mode = config.set_mode(args.mode) if args.mode else config.MODE
    n = args.n or config.pick(quick=1000, full=10000)
    names = args.models.split(",") if args.models else registered()
    start = time.time()
    rows, samples, seen = [], {}, set()
    skipped = []
    for name in names:
        entry = get(name)
        print(f"evaluating {name} ({mode} mode, N up to {n:,}) ...", flush=True)
        try:
            model_rows, images = evaluate(entry, n=n, mode=mode, seed=args.seed, retrain=args.retrain,
                                          with_references=entry.dataset not in seen)
        except RuntimeError as error:  # e.g. Fashion-MNIST offline: report it, go on
            skipped.append(f"{name}: {error}")
            print(f"skipped {name}: {error}", flush=True)
            continue
        seen.add(entry.dataset)
        rows += model_rows
        samples[name] = images
    path = write(rows, samples, args.out, mode, time.time() - start, skipped)
    print(f"wrote {path}")
    return 0
