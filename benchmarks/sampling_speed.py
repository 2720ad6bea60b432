"""Benchmark: how fast each shipped generative model draws samples, measured in one run.

Why it exists: notebook 13's family table compares sampling speed across the
GAN, VAE, PixelCNN, flow and diffusion families (the lecture's "one pass against
784 sequential passes against hundreds of denoising steps"). Timing five
samplers inside the notebook cost about 9 s of its 45 s quick-mode budget and
gave a different figure on every run and machine; this script measures them
once, on an idle machine, and writes a results file the notebook reads.

What it measures: for each model (``--models``, default the families of
notebook 13's table), its registered sampler (``registry.get(name).sampler()``,
the shipped weights) draws ``--batch`` samples per call, the same batch
for every family, since throughput depends on the batch; after a warm-up call
(loading, tracing) the models alternate in ``--blocks`` blocks whose order rotates, and the
median and range of samples per second over the blocks are recorded. Each row
keeps the SHA-256 of the weights it timed, so a reader can tell when the
shipped model has changed since. The load average is recorded at the start
and the end: a busy machine is reported, not hidden.

Usage::

    python benchmarks/sampling_speed.py [--blocks 5] [--models dcgan_mnist ...] [--out ...]
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, pretrained, registry

OUTPUT = Path("data") / "results" / "sampling_speed.json"
MODELS = ("dcgan_mnist", "vae_mnist", "pixelcnn_mnist", "realnvp_mnist", "diffusion_mnist")


def measure(names, blocks=5, batch=64, log=print):
    """{name: row} with samples per second (median, min, max over ``blocks``), the batch and the weights' SHA."""
    samplers, times = {}, {name: [] for name in names}
    for name in names:
        samplers[name] = registry.get(name).sampler()
        samplers[name](batch, seed=0)                      # loading and tracing, not timed
        log(f"{name}: warmed up")
    for block in range(blocks):
        order = names[block % len(names):] + names[:block % len(names)]
        for name in order:
            start = time.perf_counter()
            samplers[name](batch, seed=10 + block)
            times[name].append(batch / (time.perf_counter() - start))
        log(f"block {block + 1}/{blocks}: " + ", ".join(f"{name} {times[name][-1]:,.1f}/s" for name in names))
    rows = {}
    for name in names:
        entry = registry.get(name)
        manifest = pretrained.info(entry.pretrained)
        speeds = np.asarray(times[name])
        rows[name] = {"samples_per_second": {"median": float(np.median(speeds)), "min": float(speeds.min()),
                                             "max": float(speeds.max())},
                      "batch": batch, "weights_sha256": manifest["sha256"]}
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64, help="samples per call, the same for every model")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = measure(args.models, args.blocks, args.batch)
    record = {"what": "samples per second of each shipped model's sampler (notebook 13's family table)",
              "command": "python benchmarks/sampling_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": config.machine(), "blocks": args.blocks, "batch": args.batch,
              "load_average": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
              "models": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    for name, row in rows.items():
        speed = row["samples_per_second"]
        print(f"{name:<18} {speed['median']:>10,.1f} samples/s  (range {speed['min']:,.1f}-{speed['max']:,.1f}, "
              f"{row['batch']} per call)")
    print(f"load average {record['load_average']['start']} -> {record['load_average']['end']}; wrote {args.out}")


if __name__ == "__main__":
    main()
