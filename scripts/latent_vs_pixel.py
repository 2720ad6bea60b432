"""Latent against pixel diffusion with the same network: what the smaller space alone buys, measured in one run.

Notebook 11's latent diffusion (Rombach et al., 2022) runs in the 16-dimensional latent
space of notebook 02's VAE with a small MLP denoiser, while its pixel model is a U-Net:
comparing those two changes the space and the network at once. This script trains the
*same* MLP (``diffusion.build_latent_denoiser``, same width, depth, recipe, steps and seed)
on the 60,000 training digits twice: on their 784 pixels in [-1, 1] and on their VAE
latent means divided by their standard deviation. For each it records the seconds per
training step and per sampled image (DDIM, ``--ddim-steps``, batch 250; latent samples
include the VAE's decoding) and FID, precision and recall of ``--n`` unconditional samples
against as many test digits (genlab.evaluation), with two bounds at the same N: the
train-digit floor and the FID of the VAE's own reconstructions of training digits (what
a perfect latent model would score). Written to data/results/latent_vs_pixel.json.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/latent_vs_pixel.py
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, data, evaluation, paths, pretrained, runs
from genlab.models import diffusion, vae

OUTPUT = paths.REPO_ROOT / "data" / "results" / "latent_vs_pixel.json"
WHICH = ("FID", "precision", "recall")


def score(images, n, seed):
    values = evaluation.evaluate(images, "mnist", n=n, seed=seed, which=WHICH, references_too=False)["samples"]
    return {key: round(float(value), 4) for key, value in values.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=diffusion.LATENT_ITERATIONS["full"])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--ddim-steps", type=int, default=diffusion.DDIM_STEPS["full"])
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    seed = diffusion.SEED
    (x_train, y_train), _ = data.load("mnist", mode="full")
    vae_model = pretrained.load("vae_mnist")
    latents = diffusion.vae_latents(vae_model, x_train, seed=seed)
    scale = float(latents.std())
    decode = (lambda z: data.to_uint8(vae.decode(vae_model.vae, z * scale), from_range="sigmoid"))
    spaces = {"pixels": ("pixels (784 values in [-1, 1])", data.scale_images(x_train).reshape(len(x_train), -1),
                         lambda x: data.to_uint8(x.reshape(-1, 28, 28, 1))),
              "latents": ("VAE latents (16 means / their s.d.)", latents / scale, decode)}
    settings = {"iterations": args.iterations, "n": args.n, "ddim_steps": args.ddim_steps, "seed": seed,
                "units": diffusion.LATENT_UNITS, "recipe": diffusion.recipe()}
    record = {"what": "the same MLP denoiser trained in pixel space and in the VAE's latent space (issue 25)",
              "command": "python scripts/latent_vs_pixel.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "settings": settings, "rows": {},
              "bounds": {"floor (training digits)": score(x_train[:args.n], args.n, seed),
                         "VAE reconstructions": score(decode(latents[-args.n:] / scale), args.n, seed)}}
    for name, (space, x, to_images) in spaces.items():
        config.seed_everything(seed)
        network = diffusion.build_latent_denoiser(x.shape[1])
        trainer = diffusion.trainer(network, args.iterations, seed=seed)
        start = time.perf_counter()
        ema = trainer.run(x.astype("float32"), y_train.astype("int32"), progress=True)
        train_seconds = time.perf_counter() - start
        eps_fn = (lambda z, t, ema=ema: diffusion.guided_eps(ema, z, t))
        eps_fn(x[:250].astype("float32"), 0)                          # trace once, untimed
        start = time.perf_counter()
        draws = np.concatenate([diffusion.ddim_sample(eps_fn, (250, x.shape[1]), diffusion.Schedule(), args.ddim_steps,
                                                      seed=seed + i, clip=1.0 if x.shape[1] == 784 else None)
                                for i in range(0, args.n, 250)])[:args.n]
        images = to_images(draws)
        sample_seconds = time.perf_counter() - start
        record["rows"][name] = {"space": space, "dimensions": int(x.shape[1]), "parameters": network.count_params(),
                                "train_seconds_per_step": round(train_seconds / args.iterations, 5),
                                "sample_seconds_per_image": round(sample_seconds / args.n, 5), **score(images, args.n, seed)}
        print(name, record["rows"][name], flush=True)
    runs.save_results(args.out, record, config.machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
