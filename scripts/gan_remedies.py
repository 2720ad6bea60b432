"""Measure notebook 07's study (the case "D too strong", its remedies, batch sizes, the plan's ranges).

Writes data/results/gan_remedies.json: every section's rows (mean, std and
per-seed values over the seeds), each run's curves, the floor and ceiling of
the metric at the same N, the command, date, machine and seconds. The
notebook's quick mode runs the same function (genlab.models.gan_challenges.study)
on a reduced plan and shows this file beside it.

    flock /tmp/genlab_heavy.lock .venv/bin/python scripts/gan_remedies.py --mode full
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from genlab import config, paths
from genlab.models import gan_challenges

OUTPUT = paths.REPO_ROOT / "data" / "results" / "gan_remedies.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="full")
    parser.add_argument("--sections", nargs="+", default=["ring", "mnist", "batch", "sweep", "mechanism"])
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    result = gan_challenges.study(args.mode, tuple(args.sections), progress=lambda line: print(line, flush=True))

    result.update(command="python scripts/gan_remedies.py " + " ".join(sys.argv[1:] if argv is None else argv),
                  date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  machine=config.machine(),
                  seconds=round(time.perf_counter() - began, 1))
    for section in result["sections"].values():   # each section remembers the run that measured it
        section.update(command=result["command"], date=result["date"], seconds=result["seconds"])
    if args.out.exists():                          # sections run separately are merged into one file
        previous = json.loads(args.out.read_text())
        if previous.get("mode") == args.mode:
            result["sections"] = {**previous["sections"], **result["sections"]}
            result["seconds"] = round(sum(s["seconds"] for s in result["sections"].values()
                                          if isinstance(s, dict) and "seconds" in s), 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
