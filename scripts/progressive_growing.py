"""Train notebook 10's progressive-growing demo against the same GAN trained at 28x28 from the start.

For each seed: the progressive run (7x7, fade in 14x14, 14x14, fade in 28x28,
28x28; ``progan.PHASE_ITERATIONS`` updates each) keeps 16 samples at the end of
every phase (the first seed's, for the notebook's grids) and its FID (genlab's space, N = progan.N_EVAL against the test
digits, floor and ceiling at the same N); the direct run trains the same
networks at 28x28 for as many updates in all and gets the same FID. Writes
progressive_growing.json in data/results after each seed, with the command, date,
machine and seconds; ``--resume`` keeps the seeds the file holds.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/progressive_growing.py --resume
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from genlab import config, data, evaluation, paths, runs
from genlab.models import progan

OUTPUT = paths.REPO_ROOT / "data" / "results" / "progressive_growing.json"
SAMPLES_KEPT = 16


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    mode = args.mode
    iterations, seeds = config.pick(**progan.PHASE_ITERATIONS, mode=mode), config.pick(**progan.SEEDS, mode=mode)
    n = config.pick(quick=200, full=progan.N_EVAL, mode=mode)
    settings = {"phase_iterations": iterations, "phases": [list(p) for p in progan.PHASES], "seeds": list(seeds),
                "batch_size": progan.BATCH_SIZE, "channels": list(progan.CHANNELS), "n_eval": n}
    record = {"what": "progressive growing (notebook 10) against the same GAN at 28x28 from the start",
              "command": "python scripts/progressive_growing.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "settings": settings, "runs": [], "seconds": 0.0}
    earlier = runs.continue_results(args.out, settings, args.resume)
    if earlier:
        record["runs"], record["seconds"] = earlier["runs"], earlier["seconds"]
        record.update({key: earlier[key] for key in ("complete", "machine", "date") if key in earlier})
    (x_train, _), _ = data.load_mnist(mode=mode)
    images = data.scale_images(x_train)
    done = {(run["seed"], run["progressive"]) for run in record["runs"]}
    for seed in seeds:
        for progressive in (True, False):
            if (seed, progressive) in done:
                print(f"seed {seed}, progressive={progressive}: finished before, skipped", flush=True)
                continue
            began, phases = time.perf_counter(), []

            def keep(stage, fading, generator):
                phase = {"stage": stage, "fading": fading, "seconds": round(time.perf_counter() - began, 1)}
                if seed == seeds[0]:      # the grids the notebook shows: the first seed's
                    phase.update(progan.encode(progan.generate(generator, SAMPLES_KEPT, seed=seed, stage=stage)))
                phases.append(phase)
                print(f"seed {seed}, progressive={progressive}: phase {len(phases)} ({progan.RESOLUTIONS[stage]}x"
                      f"{progan.RESOLUTIONS[stage]}{', fade-in' if fading else ''}) at {phases[-1]['seconds']:.0f} s",
                      flush=True)

            generator, _ = progan.train(images, iterations, seed=seed, progressive=progressive, on_phase=keep)
            train_seconds = time.perf_counter() - began
            scores = evaluation.evaluate(progan.generate(generator, n, seed=seed), "mnist", n=n, seed=seed,
                                         which=("FID",))
            run = {"seed": seed, "progressive": progressive, "train_seconds": round(train_seconds, 1),
                   "FID": round(float(scores.values[evaluation.SAMPLES]["FID"]), 2),
                   "floor": round(float(scores.values[evaluation.FLOOR]["FID"]), 2),
                   "ceiling": round(float(scores.values[evaluation.CEILING]["FID"]), 2), "phases": phases}
            print(f"seed {seed}, progressive={progressive}: FID {run['FID']} (floor {run['floor']}, "
                  f"ceiling {run['ceiling']}), {train_seconds:.0f} s of training", flush=True)
            record["runs"].append(run)
            record["seconds"] = round(record["seconds"] + time.perf_counter() - began, 1)
            record.update(complete=len(record["runs"]) == 2 * len(seeds), summary=summary(record["runs"]),
                          machine=config.machine(),
                          date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(record) + "\n")
    if record["runs"] and record.get("summary") != summary(record["runs"]):   # a file written before summaries
        record["summary"] = summary(record["runs"])
        args.out.write_text(json.dumps(record) + "\n")
    for label, row in record.get("summary", {}).items():
        print(f"{label}: FID {row['mean']:.1f} +- {row['std']:.1f} over {row['seeds']} seeds")
    print(f"wrote {args.out}")


def summary(finished):
    """{"progressive" | "direct": the final FIDs over seeds, their mean and standard deviation (ddof 1), and how
    many runs ended below the uniform-noise ceiling (the others drew nothing digit-like)}."""
    result = {}
    for label, progressive in (("progressive", True), ("direct", False)):
        chosen = [run for run in finished if run["progressive"] == progressive]
        fids = [run["FID"] for run in chosen]
        if fids:
            result[label] = {"mean": round(float(np.mean(fids)), 2), "seeds": len(fids), "fids": fids,
                             "std": round(float(np.std(fids, ddof=1)), 2) if len(fids) > 1 else 0.0,
                             "below_ceiling": sum(run["FID"] < run["ceiling"] for run in chosen)}
    return result


if __name__ == "__main__":
    main()
