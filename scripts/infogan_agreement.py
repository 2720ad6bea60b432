"""Train notebook 06's InfoGAN for full mode's iterations and record its code-to-class agreement curve.

Quick mode can train InfoGAN only a few iterations, which shows the loop but
not whether the categorical code finds the digit classes. This script runs
the same networks and step (genlab.models.cgan.train_infogan) for
``cgan.INFO_ITERATIONS["full"]`` iterations and writes
data/results/infogan_agreement.json: the agreement (best one-to-one matching
of the 10 code values to the classifier's classes, N = cgan.N_AGREEMENT) every
500 iterations, with the command, date, machine and seconds. The file is
rewritten after every measurement, marked "complete": false until the run
ends, so an interrupted run still records what it measured. Notebook 06 shows
the curve beside its quick run.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/infogan_agreement.py
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from genlab import config, paths
from genlab.models import cgan

OUTPUT = paths.REPO_ROOT / "data" / "results" / "infogan_agreement.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=cgan.INFO_ITERATIONS["full"])
    parser.add_argument("--seed", type=int, default=cgan.SEED)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    record = {"what": "InfoGAN (notebook 06): code-to-class agreement during training",
              "command": "python scripts/infogan_agreement.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": config.machine(),
              "iterations": args.iterations, "seed": args.seed, "n": cgan.N_AGREEMENT,
              "batch_size": cgan.BATCH_SIZE, "info_weight": cgan.INFO_WEIGHT,
              "chance_reference": "about 0.1 (a little above: the matching is chosen after counting)",
              "complete": False, "curve": []}
    began = time.perf_counter()

    def save(point=None):
        if point is not None:
            record["curve"].append(point)
            print(f"iteration {point['iteration']}: agreement {point['agreement']:.3f} ({point['seconds']:.0f} s)",
                  flush=True)
        record["seconds"] = round(time.perf_counter() - began, 1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")

    cgan.train_infogan(args.iterations, seed=args.seed, on_measure=save, progress=True)
    record["complete"] = True
    save()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
