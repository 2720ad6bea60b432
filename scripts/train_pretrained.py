"""Train a model of the collection with its notebook's full-mode settings and ship its weights.

Why it exists: quick mode (CPU, CI) trains only briefly, so notebooks load
shipped weights for their results sections (:mod:`genlab.pretrained`). This
script is the one command that makes each shipped file: it trains the
registered model's family exactly as the notebook's full mode does, on the
60,000 MNIST training digits, writes ``data/pretrained/<name>.weights.h5`` and
a manifest ``<name>.json``: the SHA-256, the command, the data, the steps, the
wall time of the whole run (all its pieces), the machine, the commit, the
settings and the evaluation (:mod:`genlab.evaluation`'s standard protocol:
N = 10,000 against the test digits, with the real-vs-real floor and the noise
ceiling at the same N; beside it ``evaluation_check``, the same at N = 1,000,
which the tests reproduce quickly). data/README.md records the same. It
refuses to write a file over the size limit. A family whose ``STORAGE_DTYPE``
is "float16" is stored in float16; its manifest then records the evaluation of
the stored weights and, beside it, that of the float32 ones.

Long runs (genlab.runs): training checkpoints into a git-ignored folder
(``build/checkpoints/pretrained_<name>``); a run that was cut off (a session's
end, a disconnect) continues from its last checkpoint with ``--resume``; a lock
refuses a second run of the same model while one is going; the manifest's
``train_seconds`` adds up every piece of the run. A finished training keeps its
weights there (``trained.weights.h5``) before the evaluation starts, so a run
cut off while evaluating is evaluated, not trained again, by ``--resume``.

Usage::

    python scripts/train_pretrained.py dcgan_mnist            # a new run (refused if a checkpoint exists)
    python scripts/train_pretrained.py dcgan_mnist --resume   # continue an interrupted run
    python scripts/train_pretrained.py dcgan_mnist --restart  # discard the checkpoint, start again
    python scripts/train_pretrained.py dcgan_mnist --evaluate-only   # re-measure the shipped weights

Run heavy trainings one at a time on a shared machine:
``flock /tmp/genlab_heavy.lock python scripts/train_pretrained.py NAME --resume``.
"""

import argparse
import datetime
import json
import os
import shutil
import sys
from pathlib import Path

from genlab import config, data, evaluation, paths, pretrained, registry, runs


def _rounded(scores):
    return {label: {metric: round(float(value), 4) for metric, value in by_metric.items()}
            for label, by_metric in scores.values.items()}


def measure(sample_fn, dataset, n, seed):
    """``{"evaluation": ..., "evaluation_check": ...}``: the standard N and the tests' N = 1,000, same seed."""
    records = {}
    for key, size in (("evaluation", n), ("evaluation_check", min(n, evaluation.QUICK_N))):
        scores = evaluation.evaluate(sample_fn(size, seed=seed), dataset, n=size, seed=seed)
        print(f"{key}:", scores, sep="\n")
        records[key] = {"n": scores.n, "extractor": scores.extractor, "seed": seed, "values": _rounded(scores)}
    return records


def _command(argv):
    return "python scripts/train_pretrained.py " + " ".join(argv if argv is not None else sys.argv[1:])


def _today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def family_measures(family, model, dataset, seed):
    """A family's own measures for the manifest: its held-out likelihood, its extra evaluation."""
    measures = {}
    if hasattr(family, "likelihood"):   # likelihood-based families also record their held-out likelihood
        measures["likelihood"] = family.likelihood(model, dataset, seed=seed)
    if hasattr(family, "extra_evaluation"):  # a family's own measures, e.g. cgan's class agreement
        measures.update(family.extra_evaluation(model, dataset, seed=seed))
    print(measures)
    return measures


def evaluate_only(name, n, argv=None, reason=None, extras_only=False):
    """Re-measure shipped weights at ``n`` with the manifest's seed (e.g. after the metrics changed).

    Rewrites ``evaluation`` and ``evaluation_check`` (values, the command and the
    date of the measurement; not with ``extras_only``) and the family's own
    measures (likelihood, extra evaluation); the weights, their SHA-256 and the
    training record stay.
    """
    info = pretrained.info(name)
    entry = registry.get(name)
    seed = info["evaluation"]["seed"]
    model = pretrained.load(name)
    if not extras_only:
        for key, record in measure(entry.module().sampler(model), entry.dataset, n, seed).items():
            info[key] = dict(record, command=_command(argv), date=_today())
        # The float32 weights were not shipped, so their figures cannot be re-measured in the new space.
        info.pop("evaluation_float32_weights", None)
        info.pop("evaluation_n_reason", None)
        if n != evaluation.STANDARD_N:
            info["evaluation_n_reason"] = reason or "not given"
    info.update(family_measures(entry.module(), model, entry.dataset, seed))
    (pretrained.directory() / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return 0


TRAINED_WEIGHTS = "trained.weights.h5"   # a finished training's weights, in its checkpoint folder


def _load_stored(family, weights, storage_dtype="float32"):
    """The shipped builder's model with the weights just stored, read back as genlab.pretrained.load reads them."""
    return pretrained.load_stored_weights(getattr(family, family.SHIPPED_BUILDER)(), weights, storage_dtype)


def _checkpoint_state(checkpoint_dir, record, iterations, args):
    """Refuse to mix runs: a checkpoint is continued only with --resume, and only with its own length."""
    found = checkpoint_dir.is_dir() and any(path.name != runs.RunRecord.FILE for path in checkpoint_dir.iterdir())
    pieces = record.pieces()
    if args.restart:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
        return
    if not found and not pieces:
        return
    if not args.resume:
        raise SystemExit(
            f"{args.name} has a checkpoint from an earlier run in {checkpoint_dir}. Continue it with "
            f"--resume, or discard it and start again with --restart.")
    planned = pieces[0]["iterations"] if pieces else iterations
    if planned != iterations:
        raise SystemExit(
            f"the checkpoint in {checkpoint_dir} is of a run of {planned:,} iterations, not {iterations:,}: "
            f"resume it with --iterations {planned}, or start again with --restart.")
    print(f"resuming {args.name} from {checkpoint_dir}: {len(pieces)} earlier piece(s), "
          f"{record.seconds():.0f} s of training so far", flush=True)


def train(args, argv, entry):
    family = entry.module()
    seed = family.SEED if args.seed is None else args.seed
    iterations = args.iterations or config.pick(**family.ITERATIONS, mode="full")
    checkpoint_dir = Path(args.checkpoint_dir or paths.build_dir() / "checkpoints" / f"pretrained_{args.name}")
    record = runs.RunRecord(checkpoint_dir)
    trained = checkpoint_dir / TRAINED_WEIGHTS
    with runs.RunLock(checkpoint_dir.with_name(checkpoint_dir.name + ".lock"), f"training of {args.name}"):
        _checkpoint_state(checkpoint_dir, record, iterations, args)
        if args.resume and trained.is_file():
            print(f"{args.name} finished training in an earlier piece; evaluating {trained}", flush=True)
            return _load_stored(family, trained), family, seed, iterations, record, checkpoint_dir
        with record.piece(iterations=iterations, machine=config.machine(), commit=runs.git_commit()):
            generator = family.train(dataset=entry.dataset, mode="full", seed=seed, checkpoint_dir=checkpoint_dir,
                                     iterations=iterations, progress=True)
        # Kept before the evaluation, which can take longer than the training (a sequential sampler)
        # and can fail: --resume then evaluates these weights instead of training again.
        pretrained.store_weights(generator, trained)
        return generator, family, seed, iterations, record, checkpoint_dir


def main(argv=None, entry=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a registered model with shipped weights, e.g. dcgan_mnist")
    parser.add_argument("--iterations", type=int, default=None, help="default: the notebook's full mode")
    parser.add_argument("--seed", type=int, default=None, help="default: the family's SEED")
    parser.add_argument("--checkpoint-dir", default=None)
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run whose checkpoint is there")
    again.add_argument("--restart", action="store_true", help="discard an earlier run's checkpoint first")
    parser.add_argument("--n", type=int, default=evaluation.STANDARD_N,
                        help=f"samples for the evaluation (default {evaluation.STANDARD_N:,}, the standard)")
    parser.add_argument("--extras-only", action="store_true",
                        help="with --evaluate-only: only the family's likelihood and extra evaluation")
    parser.add_argument("--n-reason", default=None,
                        help="with an --n below the standard: why (recorded in the manifest)")
    parser.add_argument("--out", default=None, help="folder for the weights and manifest (default data/pretrained)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: re-measure the shipped weights and rewrite only the manifest's evaluation")
    args = parser.parse_args(argv)
    if args.evaluate_only:
        return evaluate_only(args.name, args.n, argv, args.n_reason, args.extras_only)
    # ``entry``: a model that is not in the registry (the tests' tiny one).
    entry = entry or registry.get(args.name)
    if entry.pretrained != args.name:
        parser.error(f"{args.name} is not registered with shipped weights (registry.py)")
    try:
        generator, family, seed, iterations, record, checkpoint_dir = train(args, argv, entry)
    except runs.RunLockedError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 3

    sample_fn = family.sampler(generator)
    scores = measure(sample_fn, entry.dataset, args.n, seed)
    folder = Path(args.out) if args.out else pretrained.directory()
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{args.name}.weights.h5"
    # A family too large for the size limit in float32 ships float16 weights (genlab.models.mlp_gan):
    # the evaluation above is then of the float32 weights, recorded beside that of the float16 ones.
    storage_dtype = getattr(family, "STORAGE_DTYPE", "float32")
    pretrained.store_weights(generator, weights, storage_dtype)
    if storage_dtype != "float32":   # everything recorded below is of the weights as shipped
        float32_scores, generator = scores, _load_stored(family, weights, storage_dtype)
        print(f"stored in {storage_dtype}:")
        scores = measure(family.sampler(generator), entry.dataset, args.n, seed)
    size = weights.stat().st_size
    if size > pretrained.MAX_BYTES:
        weights.unlink()
        print(f"FAILED: {weights.name} is {size:,} bytes, over the {pretrained.MAX_BYTES:,}-byte limit",
              file=sys.stderr)
        return 1
    env = config.environment_report()
    (x_train, _), (x_test, _) = data.load(entry.dataset, mode="full")
    pieces = record.pieces()
    manifest = {
        "name": args.name, "file": weights.name, "bytes": size, "sha256": paths.sha256(weights),
        "builder": f"{entry.family}:{family.SHIPPED_BUILDER}", "notebook": entry.notebook,
        "dataset": entry.dataset,
        "data": {"train_images": len(x_train), "test_images": len(x_test), "source": data.last_source()},
        "settings": {"iterations": iterations, "seed": seed,
                     **{name.lower(): getattr(family, name) for name in family.MANIFEST_SETTINGS}},
        "command": _command(argv),
        "train_seconds": round(record.seconds()),
        "pieces": pieces,
        "date": _today(),
        "machine": config.machine(),
        "commit": pieces[-1]["commit"] if pieces else runs.git_commit(),
        "versions": {key: env[key] for key in ("tensorflow", "keras", "numpy", "genlab")},
        **scores,
    }
    curve = checkpoint_dir / "curve.json"   # a family's learning curve, if it records one (genlab.callbacks)
    if curve.is_file():
        manifest["curve"] = json.loads(curve.read_text(encoding="utf-8"))
    if args.n != evaluation.STANDARD_N:     # as evaluate_only records it
        manifest["evaluation_n_reason"] = args.n_reason or "not given"
    if storage_dtype != "float32":
        manifest["storage_dtype"] = storage_dtype
        manifest["evaluation_float32_weights"] = float32_scores["evaluation"]
    manifest.update(family_measures(family, generator, entry.dataset, seed))
    (folder / f"{args.name}.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum(path.stat().st_size for path in folder.glob("*.weights.h5"))
    print(f"wrote {weights} ({size:,} bytes, SHA-256 {manifest['sha256']}) after {manifest['train_seconds']} s "
          f"of training in {len(pieces)} piece(s); all shipped weights: {total:,} bytes")
    return 0 if total <= pretrained.MAX_TOTAL_BYTES else 1


if __name__ == "__main__":
    # The whole process is in full mode: training, the data (all 60,000 digits) and a family's own
    # measures (likelihoods on all 10,000 test digits), exactly as the notebook's full mode. Set
    # here, not at import, so that importing this module never changes the importer's mode.
    os.environ["GENLAB_MODE"] = "full"
    sys.exit(main())
