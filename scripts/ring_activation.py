"""Notebook 04's ring GAN with plain ReLU and with LeakyReLU(0.2), over several seeds: modes covered.

Notebook 04 trains its 2-D GAN on the ring of 8 Gaussians with plain ReLU
(``genlab.models.mlp_gan.RING_NEGATIVE_SLOPE``), not the LeakyReLU(0.2) of its
MNIST GAN. One seed is not a reason, so this script trains the same networks
with the same settings (``mlp_gan.build_gan`` at ring size: 2-D noise, units
``RING_UNITS``, no BatchNormalization, no dropout, linear output; batch
``RING_BATCH_SIZE``, Adam(``RING_LEARNING_RATE``, beta_1 = ``BETA_1``);
``genlab.gan.train``) with both activations, for each seed and each budget
(quick mode's ``RING_ITERATIONS`` over every seed, full mode's over the first
``--full-seeds`` of them, to keep the run to a few CPU minutes), and counts the modes that
1,000 samples of fixed noise cover, as the notebook's snapshots do (a sample
hits a mode within 3 standard deviations of its centre, a mode is covered by at
least 5 hits). Each seed seeds everything the notebook's cell seeds: the ring's
points, Keras' initial weights, the fixed noise and the training loop.
Writes data/results/ring_activation.json (command, date, machine, seconds),
which notebook 04 prints.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/ring_activation.py
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, data, gan, paths
from genlab.gan import coverage
from genlab.models import mlp_gan

import keras

OUTPUT = paths.REPO_ROOT / "data" / "results" / "ring_activation.json"
RING_STD = 0.02            # notebook 04's ring (cell 04-ring)
RING_POINTS = 20000
SAMPLES = 1000             # fixed noise vectors whose samples are counted
MIN_COUNT = 5              # hits a mode needs to count as covered (notebook 04's snapshots)
ACTIVATIONS = {"ReLU": 0.0, "LeakyReLU(0.2)": 0.2}
SEEDS = (42, 0, 1, 2, 3)   # 42: the notebook's own seed (mlp_gan.SEED)


def covered_modes(negative_slope, seed, iterations):
    """Train notebook 04's ring GAN once; the modes its samples of fixed noise cover, and its hits."""
    ring = data.ring_of_gaussians(RING_POINTS, std=RING_STD, seed=seed)
    keras.utils.set_random_seed(seed)
    generator, discriminator, combined = mlp_gan.build_gan(
        mlp_gan.RING_LATENT_DIM, (2,), mlp_gan.RING_UNITS, mlp_gan.RING_UNITS, mlp_gan.RING_LEARNING_RATE,
        activation=None, batch_norm=False, dropout=0.0, negative_slope=negative_slope)
    noise = np.random.default_rng(seed).normal(size=(SAMPLES, mlp_gan.RING_LATENT_DIM)).astype("float32")
    gan.train(generator, discriminator, combined, ring, iterations=iterations, batch_size=mlp_gan.RING_BATCH_SIZE,
              sample_interval=None, seed=seed, progress=False)
    counted = coverage.ring_coverage(generator(noise).numpy(), data.ring_centres(), std=RING_STD, min_count=MIN_COUNT)
    return int(counted.covered), round(float(counted.hits), 4)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--full-seeds", type=int, default=3,
                        help="how many of the seeds also train full mode's iterations (0: none)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    began = time.perf_counter()
    record = {"what": "notebook 04's ring GAN: modes covered (of 8) with ReLU and with LeakyReLU(0.2), per seed",
              "command": "python scripts/ring_activation.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": config.machine(),
              "settings": {"ring_std": RING_STD, "ring_points": RING_POINTS, "units": list(mlp_gan.RING_UNITS),
                           "batch_size": mlp_gan.RING_BATCH_SIZE, "learning_rate": mlp_gan.RING_LEARNING_RATE,
                           "beta_1": mlp_gan.BETA_1, "samples": SAMPLES, "hit_within_stds": 3.0,
                           "min_count": MIN_COUNT},
              "seeds": args.seeds, "runs": []}
    budgets = {mlp_gan.RING_ITERATIONS["quick"]: args.seeds}
    if args.full_seeds:
        budgets[mlp_gan.RING_ITERATIONS["full"]] = args.seeds[:args.full_seeds]
    for iterations, seeds in budgets.items():
        for name, slope in ACTIVATIONS.items():
            for seed in seeds:
                covered, hits = covered_modes(slope, seed, iterations)
                record["runs"].append({"iterations": iterations, "activation": name, "negative_slope": slope,
                                       "seed": seed, "covered": covered, "hits": hits})
                print(f"{iterations:>5} iterations, {name:<15} seed {seed:>2}: {covered} of 8 modes "
                      f"(hits {hits:.3f})", flush=True)
    record["seconds"] = round(time.perf_counter() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out} ({record['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
