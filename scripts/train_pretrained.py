"""Train a model of the collection with its notebook's full-mode settings and ship its weights.

Why it exists: quick mode (CPU, CI) trains only briefly, so notebooks load
shipped weights for their results sections (:mod:`genlab.pretrained`). This
script is the one command that makes each shipped file: it trains the
registered model's family exactly as the notebook's full mode does, writes
``data/pretrained/<name>.weights.h5`` and a manifest ``<name>.json`` with the
SHA-256, the command, the time it took, the machine, the settings and the
evaluation (FID, KID, IS, precision, recall with the real-vs-real floor and the
noise ceiling at the same N, :mod:`genlab.evaluation`). data/README.md records
the same. It refuses to write a file over the size limit. A family whose
``STORAGE_DTYPE`` is "float16" (its float32 weights would be over the limit)
is stored in float16; its manifest then records the evaluation of the stored
weights and, beside it, that of the float32 ones on the same samples.

Usage::

    python scripts/train_pretrained.py dcgan_mnist [--iterations N] [--checkpoint-dir DIR]
    python scripts/train_pretrained.py dcgan_mnist --evaluate-only   # re-measure the shipped weights

Training resumes from ``--checkpoint-dir`` (default
``build/checkpoints/pretrained_<name>``) if a run was interrupted.
"""

import argparse
import datetime
import json
import sys
import time

from genlab import config, evaluation, paths, pretrained, registry

def _load_stored(family, weights):
    """The shipped builder's model with the weights just stored (float16 ones come back as float32)."""
    model = getattr(family, family.SHIPPED_BUILDER)()
    model.load_weights(weights)
    return model


def evaluate_only(name, argv=None):
    """Re-measure shipped weights with the manifest's N and seed (e.g. after the metrics changed).

    Rewrites only ``evaluation`` (values, the command and the date of the
    measurement); the weights, their SHA-256 and the training record stay.
    """
    info = pretrained.info(name)
    recorded = info["evaluation"]
    scores = evaluation.remeasure_shipped(name)
    print(scores)
    info["evaluation"] = dict(
        recorded, extractor=scores.extractor,
        values={label: {metric: round(float(value), 4) for metric, value in by_metric.items()}
                for label, by_metric in scores.values.items()},
        command="python scripts/train_pretrained.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"))
    (pretrained.directory() / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a registered model with shipped weights, e.g. dcgan_mnist")
    parser.add_argument("--iterations", type=int, default=None, help="default: the notebook's full mode")
    parser.add_argument("--seed", type=int, default=None, help="default: the family's SEED")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--n", type=int, default=1000, help="samples for the evaluation (default 1000)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: re-measure the shipped weights and rewrite only the manifest's evaluation")
    args = parser.parse_args(argv)
    if args.evaluate_only:
        return evaluate_only(args.name, argv)
    entry = registry.get(args.name)
    if entry.pretrained != args.name:
        parser.error(f"{args.name} is not registered with shipped weights (registry.py)")
    # A family that ships weights names the builder of the shipped network and the settings
    # its manifest records (genlab.models.dcgan: build_generator; BATCH_SIZE, LEARNING_RATE, ...).
    family = entry.module()
    seed = family.SEED if args.seed is None else args.seed
    iterations = args.iterations or config.pick(**family.ITERATIONS, mode="full")
    checkpoint_dir = args.checkpoint_dir or paths.build_dir() / "checkpoints" / f"pretrained_{args.name}"

    start = time.time()
    generator = family.train(dataset=entry.dataset, mode="full", seed=seed, checkpoint_dir=checkpoint_dir,
                             iterations=iterations, progress=True)
    seconds = time.time() - start
    samples = family.sampler(generator)(args.n, seed=seed)
    scores = evaluation.evaluate(samples, entry.dataset, n=args.n, seed=seed)
    print(scores)

    folder = pretrained.directory()
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{args.name}.weights.h5"
    # A family too large for the size limit in float32 ships float16 weights (genlab.models.mlp_gan):
    # the evaluation above is then of the float32 weights, recorded beside that of the float16 ones.
    storage_dtype = getattr(family, "STORAGE_DTYPE", "float32")
    pretrained.store_weights(generator, weights, storage_dtype)
    if storage_dtype != "float32":
        float32_scores, stored = scores, family.sampler(_load_stored(family, weights))(args.n, seed=seed)
        scores = evaluation.evaluate(stored, entry.dataset, n=args.n, seed=seed)
        print(f"stored in {storage_dtype}:", scores)
    size = weights.stat().st_size
    if size > pretrained.MAX_BYTES:
        weights.unlink()
        print(f"FAILED: {weights.name} is {size:,} bytes, over the {pretrained.MAX_BYTES:,}-byte limit",
              file=sys.stderr)
        return 1
    env = config.environment_report()
    manifest = {
        "name": args.name, "file": weights.name, "bytes": size, "sha256": paths.sha256(weights),
        "builder": f"{entry.family}:{family.SHIPPED_BUILDER}", "notebook": entry.notebook,
        "dataset": entry.dataset,
        "settings": {"iterations": iterations, "seed": seed,
                     **{name.lower(): getattr(family, name) for name in family.MANIFEST_SETTINGS}},
        "command": "python scripts/train_pretrained.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "train_seconds": round(seconds),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "machine": config.machine(),
        "versions": {key: env[key] for key in ("tensorflow", "keras", "numpy", "genlab")},
        "evaluation": {"n": scores.n, "extractor": scores.extractor, "seed": seed,
                       "values": {label: {metric: round(float(value), 4) for metric, value in by_metric.items()}
                                  for label, by_metric in scores.values.items()}},
    }
    if storage_dtype != "float32":
        manifest["storage_dtype"] = storage_dtype
        manifest["evaluation_float32_weights"] = {
            "values": {label: {metric: round(float(value), 4) for metric, value in by_metric.items()}
                       for label, by_metric in float32_scores.values.items()}}
    if hasattr(family, "likelihood"):   # likelihood-based families also record their held-out likelihood
        manifest["likelihood"] = family.likelihood(generator, entry.dataset, seed=seed)
        print(manifest["likelihood"])
    if hasattr(family, "extra_evaluation"):  # a family's own measures, e.g. cgan's class agreement
        extra = family.extra_evaluation(generator, entry.dataset, seed=seed)
        manifest.update(extra)
        print(extra)
    (folder / f"{args.name}.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum(path.stat().st_size for path in folder.glob("*.weights.h5"))
    print(f"wrote {weights} ({size:,} bytes, SHA-256 {manifest['sha256']}) in {seconds:.0f} s of training; "
          f"all shipped weights: {total:,} bytes")
    return 0 if total <= pretrained.MAX_TOTAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
