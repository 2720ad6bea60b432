"""Measure GAN data augmentation (notebook 06): test accuracy of a classifier trained on few labelled digits.

Runs :func:`genlab.gan.augmentation.experiment` for every labelled-set size and
seed of the mode and writes gan_augmentation.json in data/results: per seed and
arm the test accuracy (10,000 test digits) and seconds, the mean and spread
over seeds, with the command, date, machine and settings. The file is rewritten
after every finished (size, seed), marked "complete": false until the end;
``--resume`` skips what the file already holds.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/gan_augmentation.py --resume
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from genlab import config, paths, pretrained, runs
from genlab.gan import augmentation

OUTPUT = paths.REPO_ROOT / "data" / "results" / "gan_augmentation.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--resume", action="store_true", help="keep the finished rows of --out")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    mode = args.mode
    argv = sys.argv[1:] if argv is None else argv

    record = {"what": "GAN data augmentation (notebook 06): classifier test accuracy on the 10,000 test digits",
              "command": "python scripts/gan_augmentation.py " + " ".join(argv),
              "mode": mode, "arms": list(augmentation.ARMS),
              "settings": {"labelled": list(config.pick(**augmentation.LABELLED, mode=mode)),
                           "seeds": list(config.pick(**augmentation.SEEDS, mode=mode)),
                           "classifier_steps": config.pick(**augmentation.CLASSIFIER_STEPS, mode=mode),
                           "batch_size": augmentation.BATCH_SIZE,
                           "subset_gan_iterations": config.pick(**augmentation.SUBSET_GAN_ITERATIONS, mode=mode),
                           "synthetic_per_class": augmentation.SYNTHETIC_PER_CLASS},
              "rows": [], "seconds": 0.0}
    earlier = runs.continue_results(args.out, record["settings"], args.resume)
    if earlier:
        record["rows"], record["seconds"] = earlier["rows"], earlier["seconds"]

    shipped = pretrained.load("cgan_mnist")
    done = {(row["labelled"], row["seed"]) for row in record["rows"]}
    for labelled in record["settings"]["labelled"]:
        for seed in record["settings"]["seeds"]:
            if (labelled, seed) in done:
                print(f"{labelled} labelled, seed {seed}: finished before, skipped", flush=True)
                continue
            seconds, began = {}, time.perf_counter()

            def report(arm, accuracy, took, labelled=labelled, seed=seed):
                seconds[arm] = round(took, 1)
                print(f"{labelled} labelled, seed {seed}, {arm}: test accuracy {accuracy:.4f} ({took:.0f} s)",
                      flush=True)

            accuracy = augmentation.experiment(labelled, seed, shipped, mode=mode, on_arm=report)
            record["rows"].append({"labelled": labelled, "seed": seed, "accuracy": accuracy, "seconds": seconds})
            record["seconds"] = round(record["seconds"] + time.perf_counter() - began, 1)
            record["summary"] = augmentation.summary(record["rows"])
            planned = len(record["settings"]["labelled"]) * len(record["settings"]["seeds"])
            record.update(complete=len(record["rows"]) == planned, machine=config.machine(),
                          date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record.get("summary", {}), indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
