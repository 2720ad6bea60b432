"""docs/results.md, written only from the files that record each run.

Why it exists: a figure typed into a document goes stale the day its model is
retrained. Every shipped model's manifest (``data/pretrained/<name>.json``:
training settings, date, machine, command, and its evaluation with the
real-vs-real floor and the uniform-noise ceiling at the same N) and every
results file (``data/results/*.json``, each with its date, machine and
command) already hold the figures; this module lays them out, grouped by
notebook. It reads JSON only (no TensorFlow, no model evaluation), so it runs
in well under a second and ``tests/test_docs_generated.py`` can regenerate
the page and compare it with the committed one.

``genlab report`` writes the page (see :mod:`genlab.course.report`).
"""

import ast
import json
from pathlib import Path

from genlab.course import markdown

PAGE = Path("docs/results.md")
MANIFEST_GLOB = "data/pretrained/*.json"
RESULTS_GLOB = "data/results/*.json"
# Results files that another generated page shows (docs/testing.md, README.md), not this one.
NOT_HERE = {"test_times.json", "notebook_runs.json"}
METRICS = ("FID", "KID", "IS", "precision", "recall")
# Manifest fields shown in a model's header lines or its evaluation table, not again as extras.
SHOWN = {"name", "file", "bytes", "sha256", "builder", "notebook", "dataset", "settings", "command",
         "train_seconds", "date", "machine", "versions", "evaluation"}


def registered_models(root):
    """[(name, notebook)] of every ``register(...)`` line in lib/genlab/registry.py, read without importing it.

    Importing the registry would load TensorFlow; its register() calls are literal, so reading them is exact.
    """
    path = Path(root) / "lib" / "genlab" / "registry.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register" and len(node.args) >= 4:
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:4]]
            if all(isinstance(a, str) for a in args):
                found.append((args[0], args[3]))
    return found


def _load(paths):
    loaded = {}
    for path in sorted(paths):
        try:
            loaded[path] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise SystemExit(f"genlab report: {path} is not a readable JSON file ({error}); "
                             f"restore it with git checkout or re-run the command that wrote it") from None
    return loaded


def _split_evaluation(values):
    """(samples, floor, ceiling) dicts from an evaluation's ``values``."""
    samples = floor = ceiling = {}
    for key, metrics in values.items():
        if "floor" in key:
            floor = metrics
        elif "ceiling" in key:
            ceiling = metrics
        else:
            samples = metrics
    return samples, floor, ceiling


def _summary(manifests):
    lines = ["| model | notebook | N | FID (floor / ceiling) | KID | IS | precision | recall | evaluated |",
             "|---|---|---|---|---|---|---|---|---|"]
    for manifest in manifests:
        evaluation = manifest.get("evaluation", {})
        samples, floor, ceiling = _split_evaluation(evaluation.get("values", {}))
        fid = f"{markdown.number(samples.get('FID'))} ({markdown.number(floor.get('FID'))} / " \
              f"{markdown.number(ceiling.get('FID'))})"
        others = " | ".join(markdown.number(samples.get(m)) for m in METRICS[1:])
        lines.append(f"| [{manifest['name']}](#{manifest['name']}) | "
                     f"{manifest.get('notebook', '-')[:2]} | {markdown.number(evaluation.get('n'))} | {fid} | "
                     f"{others} | {evaluation.get('date', manifest.get('date', '-'))} |")
    return "\n".join(lines)


def _model_section(manifest):
    name = manifest["name"]
    evaluation = manifest.get("evaluation", {})
    versions = ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())
    lines = [f"### {name}", "",
             f"- trained: {manifest.get('date', '-')} on {manifest.get('machine', '-')}, "
             f"`{manifest.get('command', '-')}`, {markdown.number(manifest.get('train_seconds'))} s"
             + (f" ({versions})" if versions else ""),
             "- settings: " + ", ".join(f"{k} = {markdown.cell(v)}" for k, v in manifest.get("settings", {}).items()),
             f"- evaluated: {evaluation.get('date', manifest.get('date', '-'))}, N = "
             f"{markdown.number(evaluation.get('n'))}, features: {evaluation.get('extractor', '-')}, "
             f"seed {evaluation.get('seed', '-')}, `{evaluation.get('command', manifest.get('command', '-'))}`",
             ""]
    rows = [(key, {m: markdown.number(v.get(m)) for m in METRICS})
            for key, v in evaluation.get("values", {}).items()]
    lines += [markdown.table(rows, first_column="images"), ""]
    for key, value in manifest.items():
        if key not in SHOWN:
            lines += [f"**{key}**", "", markdown.render(value), ""]
    return lines


def _results_section(path, record, root):
    lines = [f"### {path.relative_to(root).as_posix()}", ""]
    header = [f"{key}: {record[key]}" for key in ("what", "date", "machine", "mode") if key in record]
    if "command" in record:
        header.append(f"command: `{record['command'].strip()}`")
    if "seconds" in record:
        header.append(f"run time: {markdown.number(record['seconds'])} s")
    lines += [f"- {item}" for item in header] + [""]
    rest = {k: v for k, v in record.items() if k not in ("what", "date", "machine", "mode", "command", "seconds")}
    lines += [markdown.render(rest), ""]
    return lines


def _notebook_of_results(path, notebooks):
    """The numbered notebooks whose source names this results file (they show it)."""
    return [nb.stem for nb in notebooks if path.name in nb.read_text(encoding="utf-8")]


def _classifier(root):
    """The feature space's classifier, from its provenance file (data/mnist_classifier.json)."""
    path = Path(root) / "data" / "mnist_classifier.json"
    if not path.is_file():
        return []
    info = json.loads(path.read_text(encoding="utf-8"))
    return [f"The feature space: genlab's MNIST classifier, trained on {info['trained_on']}, "
            f"**{100 * info['test_accuracy']:.2f} % accuracy** on {info['tested_on']} "
            f"({info['date']}, `{info['command'].strip()}`, {info.get('machine', 'machine not recorded')}).", ""]


def build(root="."):
    """The text of docs/results.md for the repository at ``root``."""
    root = Path(root)
    manifests = list(_load(root.glob(MANIFEST_GLOB)).values())
    results = {p: r for p, r in _load(root.glob(RESULTS_GLOB)).items() if p.name not in NOT_HERE}
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    order = {nb.stem: i for i, nb in enumerate(notebooks)}
    manifests.sort(key=lambda m: (order.get(m.get("notebook"), len(order)), m["name"]))
    lines = ["# Results", "",
             "<!-- Generated by `genlab report` from data/pretrained/*.json and data/results/*.json. "
             "Do not edit: change the files (by re-running the commands they name), then run `genlab report`. -->",
             "",
             "Every figure on this page is read from a file that records the run that produced it: each shipped "
             "model's manifest in `data/pretrained/` (training settings, date, machine, command, and its "
             "evaluation) and the results files in `data/results/`. Quality figures use `genlab.evaluation`: "
             "N generated images against N held-out real images in the features of genlab's MNIST classifier, "
             "with the real-vs-real **floor** (real training images against the same held-out images) and the "
             "uniform-noise **ceiling** at the same N. Lower is better for FID and KID, higher for IS, "
             "precision and recall. Compare figures only at the same N and in the same feature space.",
             ""] + _classifier(root) + ["## Shipped models", "", _summary(manifests), ""]
    registered = registered_models(root)
    shipped = {m["name"] for m in manifests}
    unshipped = [(name, nb) for name, nb in registered if name not in shipped]
    if unshipped:
        lines += ["Registered without shipped weights (no recorded figures; `genlab report --evaluate --retrain` "
                  "trains and measures them): " + ", ".join(f"{name} ({nb[:2]})" for name, nb in unshipped) + ".",
                  ""]
    by_notebook = {}
    for manifest in manifests:
        by_notebook.setdefault(manifest.get("notebook", "other"), []).append(("model", manifest))
    for path, record in results.items():
        for stem in _notebook_of_results(path, notebooks) or ["other"]:
            by_notebook.setdefault(stem, []).append(("results", (path, record)))
    for stem in sorted(by_notebook, key=lambda s: order.get(s, len(order))):
        link = f"[{stem}](../notebooks/{stem}.ipynb)" if stem in order else stem
        lines += [f"## Notebook {link}", ""]
        for kind, item in by_notebook[stem]:
            lines += _model_section(item) if kind == "model" else _results_section(*item, root)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
