"""Benchmark: the book's DCGAN in float32 and in mixed_bfloat16, speed and sample quality, over seeds.

Why it exists: ``genlab.config``'s precision setting ``auto`` chooses Keras'
``mixed_bfloat16`` policy where the hardware computes bfloat16 natively. Before
``auto`` may be the default it has to earn it on the DCGAN notebook 05
trains: faster, and samples as good (genlab.config's docstring has the
verdict: float32 stays the default). For each seed this script:

* builds the DCGAN (``genlab.models.dcgan.build_gan``) in float32 after
  ``config.seed_everything(seed)`` (so the float32 run is the one
  ``benchmarks/dcgan.py --seed S`` trains), builds it again under
  ``mixed_bfloat16`` and copies every variable across (weights, moving
  statistics, dropout seeds: both runs start from the same state);
* trains both with notebook 05's loop (``gan.train``: batch 32, the same
  batches and noise for both) for ``--iterations`` iterations, interleaved in
  ``--blocks`` alternating blocks (which policy goes first alternates too), so
  a shared machine loads both alike. Each block resumes the run from a
  checkpoint, so the blocks add up to one uninterrupted run;
* reports each policy's ms/iteration (mean over the run, without the first
  WARMUP iterations, which trace the steps, and without each block's last
  iteration, which writes the checkpoint), and the FID of 1,000 samples (the
  same noise for both) with the real-vs-real floor and the noise ceiling,
  from ``genlab.evaluation`` (the feature extractor is float32 under both).

Then the mean speed-up (float32 ms / mixed_bfloat16 ms) and FID difference over the seeds.

Usage::

    python benchmarks/precision.py [--iterations 2000] [--seeds 42 43 44] [--blocks 10] [--samples 1000]
"""

import argparse
import datetime
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from genlab import config, data, evaluation, gan
from genlab.models import dcgan

POLICIES = ("float32", "mixed_bfloat16")
WARMUP = 10


def build_pair(seed):
    """``{policy: (G, D, combined)}``: the same initial state under each policy."""
    config.seed_everything(seed)
    with config.precision_scope("float32"):
        models = {"float32": dcgan.build_gan()}
    with config.precision_scope("mixed_bfloat16"):
        models["mixed_bfloat16"] = dcgan.build_gan()
    for source, target in zip(models["float32"][:2], models["mixed_bfloat16"][:2]):
        for variable, value in zip(target.variables, source.variables, strict=True):
            variable.assign(value)  # mixed_bfloat16 keeps float32 variables: exact copies
    return models


def measure_seed(seed, images, iterations, blocks, n, progress=print):
    """Train both policies from one initial state, interleaved; their ms/iteration and FID."""
    models = build_pair(seed)
    noise = np.random.default_rng([seed, 10**9]).normal(size=(n, dcgan.LATENT_DIM)).astype(np.float32)
    ends = np.linspace(0, iterations, blocks + 1).round().astype(int)[1:]
    seconds = {policy: [] for policy in POLICIES}
    results = {}
    with tempfile.TemporaryDirectory(prefix="genlab-precision-") as folder:
        for block, end in enumerate(ends):
            for policy in (POLICIES if block % 2 == 0 else POLICIES[::-1]):
                generator, discriminator, combined = models[policy]
                result = gan.train(generator, discriminator, combined, images, iterations=int(end),
                                   batch_size=dcgan.BATCH_SIZE, sample_interval=None, seed=seed,
                                   checkpoint_dir=Path(folder) / policy, checkpoint_interval=iterations + 1,
                                   progress=False)
                seconds[policy].extend(result.seconds[:-1])  # the last one also saved the checkpoint
                results[policy] = result
            progress(f"  seed {seed}: {end:,}/{iterations:,} iterations", flush=True)
    measured = {}
    for policy in POLICIES:
        generator = models[policy][0]
        samples = data.to_uint8(generator.predict(noise, batch_size=250, verbose=0))
        scores = evaluation.evaluate(samples, "mnist", n=n, seed=seed, which=("FID",))
        history = results[policy].history
        measured[policy] = {
            "ms": 1000 * float(np.mean(seconds[policy][WARMUP:])),
            "timed": len(seconds[policy][WARMUP:]),
            "fid": float(scores[evaluation.SAMPLES]["FID"]),
            "floor": float(scores[evaluation.FLOOR]["FID"]),
            "ceiling": float(scores[evaluation.CEILING]["FID"]),
            "d_acc": float(np.mean(history["d_acc"][-100:])),
            "iterations": len(history["g_loss"]),
        }
    measured["speedup"] = measured["float32"]["ms"] / measured["mixed_bfloat16"]["ms"]
    return measured


def cpu_name():
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else ():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--blocks", type=int, default=10, help="alternating blocks per seed (default 10)")
    parser.add_argument("--samples", type=int, default=1000, help="samples for the FID (default 1000)")
    args = parser.parse_args(argv)
    if args.blocks < 1 or args.iterations < args.blocks * 2 + WARMUP:
        parser.error(f"need --blocks >= 1 and --iterations >= 2 * blocks + {WARMUP}")

    (x_train, _), (x_test, _) = data.load("mnist")
    n = min(args.samples, len(x_test))
    env = config.environment_report()
    flags = sorted(set(config.BF16_CPU_FLAGS) & config.cpu_flags())
    print(f"genlab precision benchmark, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"command: python benchmarks/precision.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"machine: {cpu_name()}, {platform.machine()}, bfloat16 CPU flags: {', '.join(flags) or 'none'}, "
          f"GPU: {env['gpu']}; TensorFlow {env['tensorflow']}, Keras {env['keras']}")
    print(f"genlab's precision setting here: {env['precision']}")
    print(f"DCGAN (genlab.models.dcgan), batch {dcgan.BATCH_SIZE}, {args.iterations:,} iterations per run "
          f"on MNIST ({data.last_source()}: {len(x_train):,} train), {args.blocks} interleaved blocks; "
          f"FID of {n:,} samples vs {n:,} held-out digits")

    rows = {}
    for seed in args.seeds:
        rows[seed] = row = measure_seed(seed, x_train, args.iterations, args.blocks, n)
        print(f"  seed {seed}: " + ", ".join(f"{policy} {row[policy]['ms']:.1f} ms/iteration, FID {row[policy]['fid']:.2f}"
                                          for policy in POLICIES) + f"; speed-up {row['speedup']:.2f}x", flush=True)

    print()
    print(f"{'seed':>5} {'policy':>15} {'ms/iter':>8} {'timed':>6} {'FID':>7} {'floor':>6} {'ceiling':>8} "
          f"{'d_acc':>6}   speed-up")
    for seed, row in rows.items():
        for policy in POLICIES:
            m = row[policy]
            speedup = f"{row['speedup']:.2f}x" if policy == POLICIES[-1] else ""
            print(f"{seed:>5} {policy:>15} {m['ms']:8.1f} {m['timed']:6d} {m['fid']:7.2f} {m['floor']:6.2f} "
                  f"{m['ceiling']:8.1f} {m['d_acc']:6.2f}   {speedup}")
    speedups = np.array([row["speedup"] for row in rows.values()])
    fids = {policy: np.array([row[policy]["fid"] for row in rows.values()]) for policy in POLICIES}
    differences = fids["mixed_bfloat16"] - fids["float32"]
    spread = f", sd {np.std(speedups, ddof=1):.2f}" if len(speedups) > 1 else ""
    print(f"speed-up float32 ms / mixed_bfloat16 ms: mean {speedups.mean():.2f}x over {len(speedups)} seeds "
          f"(min {speedups.min():.2f}x, max {speedups.max():.2f}x{spread})")
    print(f"FID: float32 mean {fids['float32'].mean():.2f}, mixed_bfloat16 mean {fids['mixed_bfloat16'].mean():.2f}; "
          f"difference (bf16 - f32) per seed {', '.join(f'{d:+.2f}' for d in differences)}, "
          f"mean {differences.mean():+.2f}")
    if len(rows) > 1:
        print(f"seed-to-seed spread of the FID (sd): float32 {np.std(fids['float32'], ddof=1):.2f}, "
              f"mixed_bfloat16 {np.std(fids['mixed_bfloat16'], ddof=1):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
