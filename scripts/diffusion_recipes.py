"""Compare training recipes for notebook 11's U-Net at equal budget, before the long run, and record the table.

Issue 21 asks for the shipped diffusion model's recipe to be chosen by measurement, not
guessed. Each candidate (``CANDIDATES``: what the network predicts and how the timesteps
are weighted; genlab.models.diffusion_training) trains the same U-Net (``--filters``,
``--blocks``) for the same number of steps from the same seed on the 60,000 training
digits, with the shipped run's optimizer (warm-up, cosine decay, clipping, EMA). Then
``--n`` unconditional DDIM samples (``--ddim-steps``) of the EMA network are scored by
FID against as many test digits (genlab.evaluation; the floor at that N is printed
beside). Written to data/results/diffusion_recipes.json after each candidate (seconds
per training step and per sampled image too); ``--resume`` skips finished candidates and
continues an interrupted one from its checkpoint (build/diffusion_recipes/<name>).

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/diffusion_recipes.py --resume
"""

import argparse
import sys
import time
from pathlib import Path

from genlab import config, data, evaluation, paths, runs
from genlab.models import diffusion

OUTPUT = paths.REPO_ROOT / "data" / "results" / "diffusion_recipes.json"
CANDIDATES = {
    "eps (L_simple, Ho et al. 2020)": {"prediction": "eps", "weighting": "none"},
    "v-prediction (Salimans & Ho 2022)": {"prediction": "v", "weighting": "none"},
    "eps, min-SNR-5 weights (Hang et al. 2023)": {"prediction": "eps", "weighting": "min_snr"},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--filters", type=int, nargs=3, default=[32, 64, 128])
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--blocks", type=int, default=diffusion.BLOCKS)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--ddim-steps", type=int, default=50)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    settings = {"iterations": args.iterations, "filters": args.filters, "blocks": args.blocks, "n": args.n,
                "ddim_steps": args.ddim_steps, "seed": diffusion.SEED, "recipe": diffusion.recipe(ema=args.ema)}
    record = {"what": "diffusion U-Net recipes at equal budget (issue 21): FID of unconditional DDIM samples",
              "command": "python scripts/diffusion_recipes.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "settings": settings, "candidates": {}}
    earlier = runs.continue_results(args.out, settings, args.resume)
    if earlier:
        record["candidates"] = earlier["candidates"]
    (x_train, y_train), _ = data.load("mnist", mode="full")
    x, labels = data.scale_images(x_train), y_train.astype("int32")
    floor = evaluation.evaluate(x_train[:args.n], "mnist", n=args.n, seed=diffusion.SEED, which=("FID",),
                                references_too=False)["samples"]["FID"]
    record["floor_train_digits"] = round(float(floor), 3)
    for name, changes in CANDIDATES.items():
        if record["candidates"].get(name, {}).get("complete"):
            continue
        config.seed_everything(diffusion.SEED)
        network = diffusion.build_unet(filters=tuple(args.filters), blocks=args.blocks)
        folder = paths.build_dir() / "diffusion_recipes" / "".join(c if c.isalnum() else "_" for c in name)
        trainer = diffusion.trainer(network, args.iterations, diffusion.recipe(ema=args.ema, **changes),
                                    checkpoint_dir=folder)
        done, start = int(trainer.done.numpy()), time.perf_counter()
        ema = trainer.run(x, labels, progress=True)
        seconds_per_step = (time.perf_counter() - start) / max(args.iterations - done, 1)
        ema.prediction = changes["prediction"]
        start = time.perf_counter()
        samples = diffusion.sampler(ema, steps=args.ddim_steps)(args.n, seed=diffusion.SEED)
        sample_seconds = (time.perf_counter() - start) / args.n
        scores = evaluation.evaluate(samples, "mnist", n=args.n, seed=diffusion.SEED,
                                     which=("FID", "precision", "recall"), references_too=False)["samples"]
        record["candidates"][name] = {**changes, "complete": True, "parameters": network.count_params(),
                                      "seconds_per_step": round(seconds_per_step, 4),
                                      "sample_seconds_per_image": round(sample_seconds, 5),
                                      **{key: round(float(value), 4) for key, value in scores.items()}}
        runs.save_results(args.out, record, config.machine())
        print(name, record["candidates"][name], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
