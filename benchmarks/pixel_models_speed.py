"""Benchmark: PixelCNN against PixelRNN (Row LSTM) at equal parameter count, training and sampling, several batch sizes.

Why it exists: the lecture (and an exam question) says the PixelCNN trains
faster than the PixelRNN because a masked convolution computes every pixel's
conditional in parallel, while the Row LSTM walks the image row by row; both
sample pixel by pixel. Notebook 03 must show that as a measurement, not a
sentence, and say what two CPU cores can and cannot tell about a GPU.

What it measures, on this machine, in one run: notebook 03's PixelCNN
(``pixelcnn.build_pixelcnn``) and a Row LSTM PixelRNN (``pixelcnn.build_pixelrnn``)
whose hidden units are chosen so that the two parameter counts are as close as
possible (the count is printed); a training step (``train_on_batch``) at each
``--batch-sizes`` and the time to draw one pixel for ``--sample-n`` images with
the same sampler for both (one full network call per pixel, ``pixelcnn.sample``
with ``window=False``), extrapolated to the 784 pixels of an image. The two
networks alternate in blocks whose order rotates (``--blocks``), the first calls
(tracing) are left out, and the median and the range over blocks are printed
with the ratio PixelRNN / PixelCNN. The load average is recorded at the start
and the end: a busy machine is reported, not hidden.

What it predicts for a GPU comes from the structure, printed beside the times:
the number of steps that must run one after another in one training pass (a
PixelCNN: its layers; a Row LSTM: its layers plus one step per image row). A
GPU computes each step's positions in parallel, so the sequential count, not
the arithmetic, bounds its time; batch 1 on a CPU, where neither network has
enough work to fill two cores, is the closest this machine comes to that regime.

Usage::

    python benchmarks/pixel_models_speed.py [--blocks 5] [--batch-sizes 1 16 64 256] [--out ...]
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config
from genlab.models import pixelcnn

OUTPUT = Path("data") / "results" / "pixel_models_speed.json"


def matched_units(target, low=1, high=512):
    """The Row LSTM's hidden units whose network has the parameter count nearest ``target``.

    The count grows with the units, so a bisection builds ~10 networks instead of hundreds.
    """
    count = lambda units: pixelcnn.build_pixelrnn(units=units).count_params()   # noqa: E731
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) <= target else (low, middle)
    return min((low, high), key=lambda units: abs(count(units) - target))


def sequential_steps(name, model):
    """Steps that must run one after another in one training pass: layers, plus one per row for a Row LSTM."""
    layers = [layer for layer in model.layers if layer.weights]
    rows = pixelcnn.IMAGE_SHAPE[0] if "RNN" in name else 0
    return len(layers) - (1 if rows else 0) + rows


def timed_blocks(calls, blocks):
    """Run each of ``calls`` (name -> function) once per block, rotating the order; seconds per name."""
    names, seconds = list(calls), {name: [] for name in calls}
    for block in range(blocks):
        for name in names[block % len(names):] + names[:block % len(names)]:
            start = time.perf_counter()
            calls[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def summary(values, scale=1000.0):
    return {"median": round(scale * float(np.median(values)), 2), "min": round(scale * min(values), 2),
            "max": round(scale * max(values), 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed block")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--sample-n", type=int, default=16, help="images drawn at once when timing sampling")
    parser.add_argument("--sample-pixels", type=int, default=56, help="pixels drawn per timed sampling block")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    import keras

    load_start = os.getloadavg()[0]
    config.seed_everything(pixelcnn.SEED)
    cnn = pixelcnn.build_pixelcnn()
    units = matched_units(cnn.count_params())
    builders = {"PixelCNN": pixelcnn.build_pixelcnn, "PixelRNN (Row LSTM)": lambda: pixelcnn.build_pixelrnn(units=units)}
    models = {}
    for name, builder in builders.items():
        config.seed_everything(pixelcnn.SEED)
        models[name] = builder()
        models[name].compile(optimizer=keras.optimizers.Adam(pixelcnn.LEARNING_RATE),
                             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    training = {}
    for batch in args.batch_sizes:
        y = (rng.random((batch, 28, 28)) < 0.13).astype("int32")      # MNIST's share of ink
        x = y[..., None].astype("float32")

        def step(model, x=x, y=y):
            return lambda: [model.train_on_batch(x, y) for _ in range(args.steps)]

        calls = {name: step(model) for name, model in models.items()}
        for call in calls.values():
            call()                                                     # tracing, left out
        seconds = timed_blocks(calls, args.blocks)
        training[str(batch)] = {name: summary([s / args.steps for s in values]) for name, values in seconds.items()}
        cnn_ms, rnn_ms = (training[str(batch)][name]["median"] for name in builders)
        training[str(batch)]["ratio PixelRNN / PixelCNN"] = round(rnn_ms / cnn_ms, 2)
        print(f"training step, batch {batch:4d}: PixelCNN {cnn_ms:8.1f} ms, PixelRNN {rnn_ms:8.1f} ms, "
              f"ratio {rnn_ms / cnn_ms:.2f}", flush=True)

    def draw(model):
        return lambda: pixelcnn.sample(model, args.sample_n, window=False, pixels=args.sample_pixels)

    calls = {name: draw(model) for name, model in models.items()}
    for call in calls.values():
        call()
    seconds = timed_blocks(calls, args.blocks)
    pixels = int(np.prod(pixelcnn.IMAGE_SHAPE[:2]))
    sampling = {name: dict(summary([s / args.sample_pixels for s in values]),
                           seconds_per_image_batch=round(float(np.median(values)) / args.sample_pixels * pixels, 1))
                for name, values in seconds.items()}
    cnn_ms, rnn_ms = (sampling[name]["median"] for name in builders)
    sampling["ratio PixelRNN / PixelCNN"] = round(rnn_ms / cnn_ms, 2)
    print(f"sampling, {args.sample_n} images, per pixel: PixelCNN {cnn_ms:.1f} ms, PixelRNN {rnn_ms:.1f} ms, "
          f"ratio {rnn_ms / cnn_ms:.2f}; a whole image batch: "
          + ", ".join(f"{name} {sampling[name]['seconds_per_image_batch']} s" for name in builders))
    networks = {name: {"parameters": int(model.count_params()),
                       "sequential_steps_per_training_pass": sequential_steps(name, model)}
                for name, model in models.items()}
    networks["PixelCNN"]["settings"] = f"{pixelcnn.HIDDEN_LAYERS} mask-B layers, {pixelcnn.FILTERS} maps"
    networks["PixelRNN (Row LSTM)"]["settings"] = f"one Row LSTM layer, {units} units (parameters matched)"
    for name, row in networks.items():
        print(f"  {name:20s} {row['parameters']:>8,} parameters, "
              f"{row['sequential_steps_per_training_pass']} sequential steps per training pass")
    record = {"date": datetime.date.today().isoformat(), "machine": config.machine(),
              "command": "python benchmarks/pixel_models_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "load_average_1min": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
              "blocks": args.blocks, "steps_per_block": args.steps, "networks": networks,
              "training_ms_per_step": training,
              "sampling": {"images": args.sample_n, "pixels_timed": args.sample_pixels, "ms_per_pixel": sampling}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
