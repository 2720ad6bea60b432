"""``genlab report``: the generated pages, and a fresh evaluation of every registered model.

Why this module exists: every figure in the documentation must come from a
run that actually happened. Two commands:

* ``genlab report`` (``make report``) regenerates docs/results.md
  (:mod:`genlab.course.results_page`), docs/claims.md (the course's claims
  beside their measured figures, :mod:`genlab.course.claims`) and the generated blocks of README.md
  and docs/testing.md (:mod:`genlab.course.pages`) from the recorded files
  only, in under a second and without TensorFlow; ``genlab report --check``
  exits 1 when a committed page differs from what the files produce (the test
  suite runs it);
* ``genlab report --evaluate`` (``make evaluate``) evaluates every model in
  :mod:`genlab.registry` now, with the one protocol of :mod:`genlab.evaluation`
  (samples, real-vs-real floor and noise ceiling at the same N), and writes
  ``build/report.md`` (plus ``build/report.json`` and plots in
  ``build/report/``): a check of the shipped manifests, not a page.

By default a model with shipped weights is evaluated as shipped (trained with
its notebook's full-mode settings); ``--retrain`` trains every model now in
the chosen mode instead. This module imports the model side of genlab only
when it runs, so ``genlab --help`` stays free of TensorFlow.
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

COLUMNS = ("model", "dataset", "metric", "extractor", "n", "value", "source")
SUMMARY_METRICS = ("FID", "KID", "IS", "precision", "recall")


def evaluate(name, n=1000, mode=None, seed=0, source=None, references_too=True):
    """Rows (dicts) for one registered model, plus the floor and ceiling at the same N; and its samples."""
    import numpy as np

    from genlab import config, evaluation, registry

    entry = registry.get(name)
    mode = config.check_mode(mode)
    start = time.time()
    sample_fn = entry.sampler(source=source, mode=mode, seed=seed)
    seconds = time.time() - start
    images = np.asarray(sample_fn(n, seed))
    result = evaluation.evaluate(images, entry.dataset, n=n, seed=seed, references_too=references_too)
    description = entry.describe(source, mode)
    rows = result.rows(model=name)
    for row in rows:
        row["source"] = description if row["model"] == name else "data"
        row["seconds"] = round(seconds, 1) if row["model"] == name else None
    return rows, images


def table(rows):
    """The rows of :func:`evaluate` as a Markdown table (also readable as plain text)."""
    lines = ["| model | dataset | metric | extractor | N | value |", "|---|---|---|---|---|---|"]
    for row in rows:
        value = f"{row['value']:.4g}" + (f" ± {row['std']:.2g}" if row.get("std") else "")
        lines.append(f"| {row['model']} | {row['dataset']} | {row['metric']} | {row['extractor']} | "
                     f"{row['n']:,} | {value} |")
    return "\n".join(lines)


def summary(rows):
    """One line per model (FID, KID, IS, precision, recall side by side) as a Markdown table."""
    order, by_model = [], {}
    for row in rows:
        if row["model"] not in by_model:
            order.append(row["model"])
            by_model[row["model"]] = dict(row)
        by_model[row["model"]][row["metric"]] = row["value"]
    lines = ["| model | dataset | extractor | N | " + " | ".join(SUMMARY_METRICS) + " |",
             "|---|---|---|---|" + "---|" * len(SUMMARY_METRICS)]
    for name in order:
        r = by_model[name]
        values = " | ".join(f"{r[m]:.3g}" if m in r else "-" for m in SUMMARY_METRICS)
        lines.append(f"| {name} | {r['dataset']} | {r['extractor']} | {r['n']:,} | {values} |")
    return "\n".join(lines)


def machine():
    """A one-line description of this machine (CPU, cores, GPU): :func:`genlab.config.machine`."""
    from genlab import config

    return config.machine()


def write(rows, samples, out_dir, mode, seconds, skipped=()):
    """Write report.md and report.json into ``out_dir``, plots into ``out_dir/report/``."""
    from genlab import config, plots

    out_dir = Path(out_dir)
    (out_dir / "report").mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    env = config.environment_report()
    sources = sorted({f"- {row['source']}" for row in rows if row["source"] != "data"})
    lines = ["# genlab results report", "",
             f"Date: {now}. Machine: {machine()}. Mode: {mode}. TensorFlow {env['tensorflow']}, "
             f"Keras {env['keras']}, genlab {env['genlab']}. Report run time: {seconds:.0f} s.", "",
             "Generated images are compared with held-out real images (test split); "
             "the floor compares real training images with the same test images at the same N, "
             "the ceiling uniform noise. Lower is better for FID and KID, higher for IS, precision "
             "and recall.", "", "Models:", *sources, "", summary(rows), "", "## All values", "", table(rows)]
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


def pages(root):
    """{path relative to root: text} of every generated page, from the recorded files under ``root``."""
    from genlab.course import claims, pages as blocks, results_page

    root = Path(root)
    texts = {results_page.PAGE: results_page.build(root), claims.PAGE: claims.build(root)}
    for page, page_blocks in blocks.BLOCKS.items():
        path = root / page
        if not path.is_file():
            raise SystemExit(f"genlab report: {path} is missing; restore it with git checkout")
        texts[page] = blocks.fill(path.read_text(encoding="utf-8"), page_blocks, root, page)
    return texts


def main(argv=None):
    """``genlab report [--check] [--root DIR]``, or ``genlab report --evaluate [options]``."""
    argv = list(argv if argv is not None else [])
    if "--evaluate" in argv:
        argv.remove("--evaluate")
        return evaluate_main(argv)
    from genlab import paths

    parser = argparse.ArgumentParser(
        prog="genlab report", description="Regenerate docs/results.md, docs/claims.md and the generated parts of "
        "README.md and docs/testing.md from data/pretrained/*.json, data/results/*.json and data/claims.toml. "
        "'genlab report --evaluate --help': evaluate every registered model now.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is out of date")
    parser.add_argument("--root", default=str(paths.REPO_ROOT), help="the repository (default: this one)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    stale = []
    for page, text in pages(root).items():
        path = root / page
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(page))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {page}")
    if args.check and stale:
        print(f"genlab report: out of date: {', '.join(stale)}; run `genlab report` and commit the result",
              file=sys.stderr)
        return 1
    if not stale:
        print("genlab report: every generated page is up to date")
    return 0


def evaluate_main(argv=None):
    """``genlab report --evaluate [--mode quick|full] [--models a,b] [--n N] [--out DIR] [--retrain]``."""
    from genlab import config, data, paths, registry

    parser = argparse.ArgumentParser(prog="genlab report --evaluate",
                                     description="Evaluate every registered model now.")
    parser.add_argument("--mode", choices=config.MODES, default=None, help="default: GENLAB_MODE / hardware")
    parser.add_argument("--models", default=None, help="comma-separated names (default: all registered)")
    parser.add_argument("--n", type=int, default=1000, help="samples per set (default 1000)")
    parser.add_argument("--out", default=None,
                        help="writes OUT/report.md, OUT/report.json and OUT/report/*.png (default build/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retrain", action="store_true",
                        help="train every model now in this mode instead of loading its shipped weights")
    args = parser.parse_args(argv)
    mode = config.check_mode(args.mode)
    names = args.models.split(",") if args.models else registry.names()
    for name in names:
        registry.get(name)  # unknown names fail before any work
    start = time.time()
    rows, samples, seen, skipped = [], {}, set(), []
    for name in names:
        entry = registry.get(name)
        print(f"evaluating {name} ({'train, ' + mode + ' mode' if args.retrain else entry.default_source()}, "
              f"N={args.n:,}) ...", flush=True)
        try:
            model_rows, images = evaluate(name, n=args.n, mode=mode, seed=args.seed,
                                          source="train" if args.retrain else None,
                                          references_too=entry.dataset not in seen)
        except (RuntimeError, data.DatasetUnavailableError) as error:  # e.g. Fashion-MNIST offline
            skipped.append(f"{name}: {error}")
            print(f"skipped {name}: {error}", flush=True)
            continue
        seen.add(entry.dataset)
        rows += model_rows
        samples[name] = images
    path = write(rows, samples, args.out or paths.build_dir(), mode, time.time() - start, skipped)
    print(f"wrote {path}")
    return 0
