"""Benchmark: the cost of one iteration of notebook 07's image GANs, and how far the balanced GAN gets.

Why it exists: the image table of notebook 07 (every remedy x 3 seeds on
MNIST) has a CPU budget (2 hours of 2-core time, issue 25), so its number of
iterations is chosen from a measurement, not guessed. For each network (the
MLP GAN and the small conv GAN of :mod:`genlab.gan.study_nets`) this times,
after a warm-up, blocks of iterations of the balanced GAN (1 D step per G
step), of the strong D (5 D steps per G step) and of WGAN-GP (5 critic steps
with the penalty), and one FID evaluation; then trains the balanced GAN for
``--pilot`` iterations on the 60,000 training digits with the FID every 500
iterations (does it make digits at that budget?) and saves a sample grid.
Run it under the heavy lock, on an otherwise idle machine:

    flock /tmp/genlab_heavy.lock .venv/bin/python benchmarks/gan_remedies_steps.py

Writes ``build/remedies/steps.json`` and ``build/remedies/pilot_<network>.png``.
"""

import argparse
import dataclasses
import json
import time

import numpy as np

from genlab import config, data, paths, plots
from genlab.gan import experiments
from genlab.models import gan_challenges

import tensorflow as tf  # noqa: E402

OUT = paths.REPO_ROOT / "build" / "remedies"


def seconds_per_iteration(settings, x_train, block=25, repeats=4):
    """Median seconds per iteration over ``repeats`` blocks, after one block of warm-up (tracing)."""
    trainer = experiments.Trainer(settings, 0, x_train)
    trainer.iterations(tf.constant(block)).numpy()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        trainer.iterations(tf.constant(block)).numpy()
        times.append((time.perf_counter() - began) / block)
    return float(np.median(times)), [round(t, 5) for t in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["mlp", "conv"])
    parser.add_argument("--pilot", type=int, default=3000, help="iterations of the balanced GAN (0: none)")
    parser.add_argument("--n-eval", type=int, default=gan_challenges.N_EVAL["mnist"])
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    x_train = data.load_mnist(mode="full")[0][0]
    report = {"machine": config.machine(), "n_train": len(x_train), "n_eval": args.n_eval, "networks": {}}
    evaluator = experiments.evaluator_for(gan_challenges.settings("mnist", 1), args.n_eval)
    for network in args.networks:
        balanced = gan_challenges.settings("mnist", 1, dict(network=network), strong=False)
        kinds = {"balanced (1 D step)": balanced,
                 "strong D (5 D steps)": dataclasses.replace(balanced, d_steps=5),
                 "WGAN-GP (5 critic steps)": dataclasses.replace(balanced, d_steps=5, loss="wgan_gp")}
        entry = {"seconds_per_iteration": {}}
        for kind, settings in kinds.items():
            median, times = seconds_per_iteration(settings, x_train)
            entry["seconds_per_iteration"][kind] = median
            print(f"{network}: {kind}: {1000 * median:.1f} ms per iteration (blocks: {times})", flush=True)
        trainer = experiments.Trainer(balanced, 0, x_train)
        began = time.perf_counter()
        evaluator(trainer.sample(evaluator.n))
        entry["seconds_per_evaluation"] = time.perf_counter() - began
        print(f"{network}: one FID evaluation at N={evaluator.n}: {entry['seconds_per_evaluation']:.2f} s", flush=True)
        if args.pilot:
            result = experiments.run(dataclasses.replace(balanced, iterations=args.pilot), 0, evaluate_every=500,
                                     n_eval=args.n_eval, x_train=x_train)
            entry["pilot"] = {"iterations": args.pilot, "seconds": round(result.seconds, 1),
                              "FID": [(e["iteration"], round(e["FID"], 2), e["covered"])
                                      for e in result.monitor.evaluations]}
            print(f"{network}: balanced GAN, {args.pilot} iterations in {result.seconds:.0f} s; "
                  f"(iteration, FID, classes covered): {entry['pilot']['FID']}; floor {evaluator.floor['FID']:.3g}, "
                  f"ceiling {evaluator.ceiling['FID']:.3g}", flush=True)
            plots.sample_grid(data.to_uint8(result.trainer.sample(64).reshape(-1, 28, 28)), ncols=16,
                              title=f"{network}, balanced, {args.pilot} iterations", path=OUT / f"pilot_{network}.png")
        report["networks"][network] = entry
    report["floor"], report["ceiling"] = evaluator.floor["FID"], evaluator.ceiling["FID"]
    (OUT / "steps.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {OUT / 'steps.json'}")


if __name__ == "__main__":
    main()
