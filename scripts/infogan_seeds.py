"""Train InfoGAN (Chen et al.'s recipe, genlab.models.infogan) for several seeds and record every seed.

InfoGAN is known to depend on its seed: whether the categorical code lines up
with the digit classes is decided early in training. Notebook 06 shows every
seed, not the best one. For each seed this writes to infogan_seeds.json in
data/results: the code-to-class agreement every ``infogan.CURVE_EVERY``
iterations (best one-to-one matching, N = infogan.N_AGREEMENT), the final
agreement and mapping, the continuous codes' measured effects (rank correlation
of slant and ink with each code) and the seconds, then the mean and spread over
seeds, with the command, date and machine. Each seed checkpoints into
build/checkpoints/infogan_<mode>_seed<seed>; the file is rewritten after every
measurement, and ``--resume`` continues an interrupted seed and skips finished ones.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/infogan_seeds.py --resume
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

from genlab import config, paths, runs
from genlab.models import infogan

OUTPUT = paths.REPO_ROOT / "data" / "results" / "infogan_seeds.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the mode's infogan.SEEDS")
    parser.add_argument("--iterations", type=int, default=None, help="default: the mode's infogan.ITERATIONS")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    seeds = args.seeds or list(config.pick(**infogan.SEEDS, mode=args.mode))
    iterations = args.iterations or config.pick(**infogan.ITERATIONS, mode=args.mode)
    settings = {"iterations": iterations, "batch_size": infogan.BATCH_SIZE, "g_lr": infogan.G_LEARNING_RATE,
                "d_lr": infogan.D_LEARNING_RATE, "info_weight": infogan.INFO_WEIGHT, "n": infogan.N_AGREEMENT}
    record = {"what": "InfoGAN (Chen et al.'s MNIST recipe, notebook 06): code-to-class agreement per seed",
              "command": "python scripts/infogan_seeds.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "settings": settings, "seeds": {}}
    earlier = runs.continue_results(args.out, settings, args.resume)
    if earlier:
        record["seeds"] = earlier["seeds"]

    def save():
        finished = [row for row in record["seeds"].values() if row.get("complete")]
        shares = [row["agreement"] for row in finished]
        record.update(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      machine=config.machine(), seeds_finished=len(finished), seeds_planned=len(seeds),
                      complete=len(finished) == len(seeds))
        if shares:
            record["summary"] = {"mean": round(float(np.mean(shares)), 4), "min": min(shares), "max": max(shares),
                                 "std": round(float(np.std(shares, ddof=1)), 4) if len(shares) > 1 else 0.0}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")

    for seed in seeds:
        key = str(seed)
        if record["seeds"].get(key, {}).get("complete"):
            print(f"seed {seed}: finished before, skipped", flush=True)
            continue

        def measured(point, key=key):
            # A point measured after the last checkpoint is measured again on resume: keep the newer one.
            row = record["seeds"].setdefault(key, {"seed": int(key), "complete": False, "curve": []})
            row["curve"] = [p for p in row["curve"] if p["iteration"] < point["iteration"]] + [point]
            print(f"seed {key}, iteration {point['iteration']}: agreement {point['agreement']:.3f} "
                  f"({point['seconds']:.0f} s)", flush=True)
            save()

        folder = paths.REPO_ROOT / "build" / "checkpoints" / f"infogan_{args.mode}_seed{seed}"
        generator, curve = infogan.train_run(iterations, seed=seed, mode=args.mode, checkpoint_dir=folder,
                                             on_measure=measured, progress=False)
        share, mapping = infogan.agreement(generator, seed=seed)
        record["seeds"][key] = {"seed": seed, "complete": True, "agreement": round(share, 4), "mapping": mapping,
                                "continuous_codes": infogan.continuous_effects(generator, seed=seed),
                                "seconds": curve[-1]["seconds"], "curve": curve}
        save()
    print(json.dumps(record.get("summary", {})))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
