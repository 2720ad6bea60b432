"""Retrain notebook 11's latent-diffusion denoiser after ``vae_mnist`` changed, and re-measure it.

Latent diffusion runs in the latent space of the shipped VAE (``genlab.models.diffusion``):
a new VAE has a new latent space, so the denoiser of the shipped ``diffusion_mnist`` must be
retrained on its latents, or its samples decode to noise. The U-Net is untouched. This script
loads the shipped diffusion model, retrains ``.latent`` with notebook 11's full-mode settings on
the 60,000 training digits, stores the weights in place and updates the manifest: SHA-256 and
size, a ``latent_retrained`` record (date, command, seconds, machine, the VAE's SHA-256) and the
family's own measures (the guidance sweep and latent diffusion's FID).

    flock /tmp/genlab_heavy.lock python scripts/retrain_latent_diffusion.py
"""

import datetime
import json
import os
import sys
import time


def main():
    from genlab import config, data, paths, pretrained
    from genlab.models import diffusion

    name = "diffusion_mnist"
    info = pretrained.info(name)
    shipped = pretrained.load(name)
    config.seed_everything(diffusion.SEED)
    (x_train, y_train), _ = data.load("mnist", mode="full")
    start = time.perf_counter()
    diffusion.train_latent(shipped, x_train, y_train, mode="full", seed=diffusion.SEED, progress=True)
    seconds = round(time.perf_counter() - start)
    weights = pretrained.directory() / info["file"]
    pretrained.store_weights(shipped, weights)
    info.update(bytes=weights.stat().st_size, sha256=paths.sha256(weights))
    info["latent_retrained"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "command": "python scripts/retrain_latent_diffusion.py", "train_seconds": seconds,
        "machine": config.machine(), "vae_sha256": pretrained.info("vae_mnist")["sha256"],
        "data": {"train_images": len(x_train)},
        "why": "vae_mnist was retrained; latent diffusion runs in its latent space"}
    info.update(diffusion.extra_evaluation(shipped, "mnist", seed=info["evaluation"]["seed"]))
    (pretrained.directory() / f"{name}.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"retrained {name}.latent in {seconds} s; latent diffusion: {info['latent_diffusion']}")
    return 0


if __name__ == "__main__":
    os.environ["GENLAB_MODE"] = "full"
    sys.exit(main())
