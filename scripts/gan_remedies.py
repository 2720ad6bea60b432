"""Measure notebook 07's study (the case "D too strong", its remedies on the ring and on MNIST, batch sizes, ranges).

Writes data/results/gan_remedies.json: every section's rows (mean, std and
per-seed values over the seeds), each run's curves, the floor and ceiling of
the metric at the same N, the command, date, machine and seconds. The
notebook's quick mode runs the same functions (genlab.models.gan_challenges)
on a reduced plan and shows this file beside it. Sections run separately are
merged into the file.

The image sections ("mnist": every remedy on the 60,000 MNIST digits, 3 seeds,
about 1.5 hours of CPU; "mnist_batch": batch sizes 16 to 512 at equal examples
and at equal steps, about 45 minutes; "mnist_norm": G with and without batch normalization,
about 5 minutes) are saved after each finished run; ``--resume`` keeps the
runs the file already holds with the same settings and runs the others, so a
run killed with its session continues where it stopped:

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/gan_remedies.py --mode full
    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/gan_remedies.py --sections mnist --resume
    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/gan_remedies.py --sections mnist_batch --resume
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

from genlab import config, paths
from genlab.models import gan_challenges

OUTPUT = paths.REPO_ROOT / "data" / "results" / "gan_remedies.json"
SECTIONS = ["ring", "mnist", "mnist_batch", "mnist_norm", "batch", "sweep", "mechanism"]
IMAGE_SECTIONS = {"mnist": gan_challenges.image_plan, "mnist_batch": gan_challenges.image_batch_plan,
                  "mnist_norm": gan_challenges.image_norm_plan}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def read(path, mode):
    """The results file's contents if it exists and was measured in ``mode``, else an empty study."""
    if path.exists():
        previous = json.loads(path.read_text())
        if previous.get("mode") == mode:
            return previous
    return {"mode": mode, "seeds": list(config.pick(**gan_challenges.SEEDS, mode=mode)), "sections": {}}


def write(path, mode, sections, command):
    """Merge ``sections`` into the file (the others stay) and replace it atomically (a kill never leaves half a file)."""
    result = read(path, mode)
    result["sections"].update(sections)
    result.update(command=command, date=now(), machine=config.machine(),
                  seconds=round(sum(s["seconds"] for s in result["sections"].values()
                                    if isinstance(s, dict) and "seconds" in s), 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(partial, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--resume", action="store_true",
                        help="image section: keep the runs the file already holds with the same settings")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    command = "python scripts/gan_remedies.py " + " ".join(sys.argv[1:] if argv is None else argv)
    progress = lambda line: print(line, flush=True)   # noqa: E731
    for name in [name for name in args.sections if name in IMAGE_SECTIONS]:
        def save(section, name=name):
            section.update(command=command, date=now(), seconds=section["run_seconds"])
            write(args.out, args.mode, {name: section}, command)

        start = read(args.out, args.mode)["sections"].get(name) if args.resume else None
        section = gan_challenges.run_image_section(args.mode, start, save, progress,
                                                   plan=IMAGE_SECTIONS[name](args.mode))
        save(section)
        print(f"image section {name}: {section['runs_finished']} of {section['runs_planned']} runs in {args.out}")
    others = [name for name in args.sections if name not in IMAGE_SECTIONS]
    if others:
        began = time.perf_counter()
        result = gan_challenges.study(args.mode, tuple(others), progress=progress)
        seconds = round(time.perf_counter() - began, 1)
        for section in result["sections"].values():   # each section remembers the run that measured it
            section.update(command=command, date=now(), seconds=seconds)
        write(args.out, args.mode, result["sections"], command)
        print(f"wrote {args.out} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
