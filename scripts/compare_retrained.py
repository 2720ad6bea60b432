"""Compare a retrained model with the shipped one in one run, and ship it only if it is better.

Why it exists: a retrained model replaces the shipped weights only when its
evaluation beats them, and "beats" means measured in one process, with one
feature extractor, one N, one seed, one real reference, one floor and one
ceiling (FID figures from different runs or spaces do not compare). The
candidate comes from ``scripts/train_pretrained.py NAME --out build/candidates``.
The comparison is written to ``data/results/retrained_<name>.json`` (with the
candidate's learning curve, date, machine and command); ``--install`` then
copies the candidate's weights and manifest into ``data/pretrained/`` if its FID
is lower.

    python scripts/compare_retrained.py dcgan_mnist --candidate build/candidates [--install]
"""

import argparse
import datetime
import json
import os
import shutil
import sys
from pathlib import Path

from genlab import config, evaluation, paths, pretrained, registry


def load_candidate(name, folder):
    """The candidate's model (its manifest's builder, its weights after their SHA-256 check) and manifest."""
    manifest = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    weights = paths.verify_sha256(folder / manifest["file"], manifest["sha256"],
                                  restore=f"Train it again: python scripts/train_pretrained.py {name} --out {folder}")
    model = pretrained.build(name)
    model.load_weights(weights)
    return model, manifest


def values(scores, label=evaluation.SAMPLES):
    return {metric: round(float(value), 4) for metric, value in scores[label].items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--candidate", default="build/candidates", help="folder with the retrained weights and manifest")
    parser.add_argument("--n", type=int, default=evaluation.STANDARD_N)
    parser.add_argument("--install", action="store_true", help="copy the candidate into data/pretrained if its FID is lower")
    args = parser.parse_args(argv)
    folder = Path(args.candidate)
    entry = registry.get(args.name)
    shipped_info = pretrained.info(args.name)
    candidate, candidate_info = load_candidate(args.name, folder)
    seed = candidate_info["evaluation"]["seed"]
    sample = entry.module().sampler
    shipped_scores = evaluation.evaluate(sample(pretrained.load(args.name))(args.n, seed=seed), entry.dataset,
                                         n=args.n, seed=seed)
    candidate_scores = evaluation.evaluate(sample(candidate)(args.n, seed=seed), entry.dataset, n=args.n, seed=seed,
                                           references_too=False)
    print("shipped:", shipped_scores, "retrained:", candidate_scores, sep="\n")
    floor = float(shipped_scores[evaluation.FLOOR]["FID"])
    better = float(candidate_scores[evaluation.SAMPLES]["FID"]) < float(shipped_scores[evaluation.SAMPLES]["FID"])
    result = {
        "name": args.name, "n": args.n, "seed": seed, "extractor": shipped_scores.extractor,
        "shipped": {"sha256": shipped_info["sha256"], "train_images": shipped_info.get("data", {}).get("train_images", 4000),
                    "iterations": shipped_info["settings"]["iterations"], "values": values(shipped_scores),
                    "fid_over_floor": round(float(shipped_scores[evaluation.SAMPLES]["FID"]) / floor, 2)},
        "retrained": {"sha256": candidate_info["sha256"], "train_images": candidate_info["data"]["train_images"],
                      "iterations": candidate_info["settings"]["iterations"],
                      "train_seconds": candidate_info["train_seconds"], "values": values(candidate_scores),
                      "fid_over_floor": round(float(candidate_scores[evaluation.SAMPLES]["FID"]) / floor, 2),
                      "curve": candidate_info.get("curve")},
        "floor": values(shipped_scores, evaluation.FLOOR), "ceiling": values(shipped_scores, evaluation.CEILING),
        "retrained_fid_lower": better,
        "command": "python scripts/compare_retrained.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "machine": config.machine(),
    }
    out = paths.DATA_DIR / "results" / f"retrained_{args.name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"FID shipped {result['shipped']['values']['FID']} ({result['shipped']['fid_over_floor']}x the floor), "
          f"retrained {result['retrained']['values']['FID']} ({result['retrained']['fid_over_floor']}x); "
          f"floor {result['floor']['FID']}, ceiling {result['ceiling']['FID']}, N = {args.n:,}; wrote {out}")
    if args.install:
        if not better:
            print("not installed: the retrained model's FID is not lower", file=sys.stderr)
            return 1
        for file in (candidate_info["file"], f"{args.name}.json"):
            shutil.copy(folder / file, pretrained.directory() / file)
        print(f"installed {args.name} into {pretrained.directory()}")
    return 0


if __name__ == "__main__":
    # The family's own measures on the whole test set, as train_pretrained. Set here, not at import,
    # so that importing this module (the tests do) never changes the importing process's mode.
    os.environ["GENLAB_MODE"] = "full"
    sys.exit(main())
