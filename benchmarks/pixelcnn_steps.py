"""Benchmark: what one training step of each PixelCNN variant costs on this machine.

Why it exists: notebook 03 ships the residual PixelCNN rather than the gated one
(which has no blind spot) because of its cost per step on two CPU cores. That
claim must come from a measurement printed as a ratio in one run (STYLE.md), so
this script builds each network of ``genlab.models.pixelcnn`` with its default
settings, compiles it as ``pixelcnn.train`` does, and times training steps on the
same binarized batches in alternating blocks (the order rotates every block), so
a change in the machine's load hits every network alike. Each network's first
``--warmup`` steps (tracing) are left out. It prints the median ms per step, its
spread over blocks and the ratio to the shipped (residual) network, and writes
them with the date, machine and command to ``--out``.

Usage::

    python benchmarks/pixelcnn_steps.py [--blocks 5] [--steps 5] [--out data/results/pixelcnn_steps.json]
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, data
from genlab.models import pixelcnn

NETWORKS = {   # name: (builder, its settings in genlab.models.pixelcnn)
    "residual PixelCNN (shipped)": (pixelcnn.build_residual_pixelcnn,
                                    f"{pixelcnn.RESIDUAL_BLOCKS} blocks, {pixelcnn.RESIDUAL_FILTERS} maps"),
    "gated PixelCNN": (pixelcnn.build_gated_pixelcnn,
                       f"{pixelcnn.GATED_LAYERS} gated layers, {pixelcnn.GATED_FILTERS} maps per stack"),
    "PixelCNN (lesson)": (pixelcnn.build_pixelcnn, f"{pixelcnn.HIDDEN_LAYERS} mask-B layers, {pixelcnn.FILTERS} maps"),
    "PixelRNN, Row LSTM (lesson)": (pixelcnn.build_pixelrnn, f"{pixelcnn.RNN_UNITS} units"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per network and block")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("data/results/pixelcnn_steps.json"))
    args = parser.parse_args(argv)

    import keras

    (x_train, _), _ = data.load_binarized_mnist(mode="quick")
    batches = iter(pixelcnn._batches(x_train, pixelcnn.SEED))
    fixed = [tuple(part.numpy() for part in next(batches)) for _ in range(args.steps)]
    models = {}
    for name, (builder, _) in NETWORKS.items():
        config.seed_everything(pixelcnn.SEED)
        model = builder()
        model.compile(optimizer=keras.optimizers.Adam(pixelcnn.LEARNING_RATE),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        for x, y in fixed[:args.warmup]:
            model.train_on_batch(x, y)
        models[name] = model
    seconds = {name: [] for name in models}
    names = list(models)
    for block in range(args.blocks):
        for name in names[block % len(names):] + names[:block % len(names)]:
            start = time.perf_counter()
            for x, y in fixed:
                models[name].train_on_batch(x, y)
            seconds[name].append((time.perf_counter() - start) / len(fixed))
    reference = float(np.median(seconds[names[0]]))
    rows = {name: {"settings": NETWORKS[name][1], "parameters": int(models[name].count_params()),
                   "ms_per_step_median": round(1000 * float(np.median(values)), 1),
                   "ms_per_step_min": round(1000 * min(values), 1), "ms_per_step_max": round(1000 * max(values), 1),
                   "ratio_to_shipped": round(float(np.median(values)) / reference, 2)}
            for name, values in seconds.items()}
    print(f"training step, batch {pixelcnn.BATCH_SIZE}, median over {args.blocks} alternating blocks of {args.steps}:")
    for name, row in rows.items():
        print(f"  {name:30s} {row['parameters']:>9,} params  {row['ms_per_step_median']:7.1f} ms "
              f"({row['ms_per_step_min']:.0f}-{row['ms_per_step_max']:.0f})  x{row['ratio_to_shipped']:.2f}")
    record = {"date": datetime.date.today().isoformat(), "machine": config.machine(),
              "command": "python benchmarks/pixelcnn_steps.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "load_average_1min_at_end": round(os.getloadavg()[0], 2),   # a shared machine slows all alike
              "batch_size": pixelcnn.BATCH_SIZE, "blocks": args.blocks, "steps_per_block": args.steps,
              "networks": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
