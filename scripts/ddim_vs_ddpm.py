"""DDIM against DDPM-style sampling at equal numbers of steps, on the shipped diffusion model (notebook 11).

The lecture (and Song et al., 2021, Table 1) says DDIM keeps its quality with far fewer
steps than ancestral sampling. Both samplers are one family here (``diffusion.ddim_sample``):
eta = 0 is DDIM, eta = 1 adds DDPM's posterior noise at each of the S steps (with S = T it is
Ho et al.'s ancestral sampler). For each S in ``--steps`` and each eta, ``--n`` unconditional
samples of the shipped U-Net (same seed) are scored by FID, precision and recall against as
many test digits, with the train-digit floor at that N; seconds per image are recorded too.
Written to ``ddim_vs_ddpm.json`` in the results folder (``OUTPUT``), with the SHA-256 of the weights it measured.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/ddim_vs_ddpm.py
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, data, evaluation, paths, pretrained, runs
from genlab.models import diffusion

OUTPUT = paths.REPO_ROOT / "data" / "results" / "ddim_vs_ddpm.json"
WHICH = ("FID", "precision", "recall")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 50, 100])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    seed = diffusion.SEED
    network = pretrained.load("diffusion_mnist").unet
    eps_fn = (lambda x, t: diffusion.guided_eps(network, x, t))
    eps_fn(np.zeros((250, *diffusion.IMAGE_SHAPE), "float32"), 0)          # trace once, untimed
    (x_train, _), _ = data.load("mnist", mode="full")

    def score(images):
        values = evaluation.evaluate(images, "mnist", n=args.n, seed=seed, which=WHICH, references_too=False)["samples"]
        return {key: round(float(value), 4) for key, value in values.items()}

    manifest = pretrained.info("diffusion_mnist")
    record = {"what": "DDIM (eta 0) against DDPM-style (eta 1) sampling at equal steps, shipped diffusion_mnist",
              "command": "python scripts/ddim_vs_ddpm.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "weights_sha256": manifest["sha256"], "n": args.n, "seed": seed,
              "floor": score(x_train[np.random.default_rng(seed).permutation(len(x_train))[:args.n]]), "rows": []}
    for steps in args.steps:
        for eta, name in ((0.0, "DDIM"), (1.0, "DDPM")):
            start = time.perf_counter()
            images = np.concatenate([diffusion.ddim_sample(eps_fn, (min(250, args.n - i), *diffusion.IMAGE_SHAPE),
                                                           diffusion.Schedule(), steps, eta=eta, seed=seed + i)
                                     for i in range(0, args.n, 250)])
            seconds = (time.perf_counter() - start) / args.n
            row = {"sampler": name, "eta": eta, "steps": steps, "seconds_per_image": round(seconds, 5),
                   **score(data.to_uint8(images))}
            record["rows"].append(row)
            print(row, flush=True)
    runs.save_results(args.out, record, config.machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
