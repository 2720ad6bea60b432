"""Settings of notebook 07's study: the lecture's "discriminator too strong" case, and its remedies.

Why it exists: the notebook and ``scripts/gan_remedies.py`` must run the same
variants with the same budgets, so each is defined once, here, as changes to
a baseline; :func:`variants` turns them into
:class:`genlab.gan.experiments.Settings`. The networks are those of
:mod:`genlab.gan.study_nets`: a small MLP GAN on the ring of 8 Gaussians for
the bulk of the study, where thousands of iterations take seconds on a CPU,
and for the image table (every remedy on the 60,000 MNIST training digits, 3
seeds, within a CPU budget) the small conv GAN named in :data:`MNIST`; :func:`run_image_section`
runs that table run by run and skips finished runs, so the script can resume
it after a session ends.

The case study's D is made too strong honestly: 5 D steps per G step, a D
learning rate 5 times G's, 200 D steps before G starts, no dropout. Each
remedy changes that baseline in one respect (the slowing-D rows undo one of
the causes, the others add one remedy), with the same number of G updates.
"""

import dataclasses

NOTEBOOK = "07_gan_training_challenges"
SEED = 0
SEEDS = {"quick": (0,), "full": (0, 1, 2)}

# The balanced GAN: equal learning rates, one D step per G step. The section plan's range is 2e-4 to
# 5e-4; on the ring 1e-3 is used because 5e-4 covered no mode in 1,000 iterations (seed 0, measured
# 2026-11-28; the sweep rows "lr 2e-4" and "lr 5e-4" measure the plan's range).
RING = dict(dataset="ring", batch_size=64, latent_dim=16, hidden=128, g_lr=1e-3, d_lr=1e-3, ring_std=0.05)
MNIST = dict(dataset="mnist", batch_size=64, latent_dim=100, hidden=256, g_lr=5e-4, d_lr=5e-4, network="conv")
RING_ITERATIONS = {"quick": 200, "full": 1500}
# The image table's budget (issue 25): at most 2 hours of 2-core CPU time for rows x seeds. Network and
# iterations come from benchmarks/gan_remedies_steps.py (2026-12-06, under the heavy lock, 2-core AMD EPYC):
# the small conv GAN took 16.7 ms per balanced iteration, 63.7 ms with the strong D's 5 D steps and
# 100.3 ms for WGAN-GP in timed blocks, 0.16 s per FID evaluation; its balanced GAN reached FID 60 after
# 2,000 iterations (digits of all 10 classes), where the MLP GAN (4.8 / 11.8 / 20.9 ms) was at 172 (noisy
# strokes). A whole run costs about 1.25x its timed blocks (the pilot: 3,000 balanced iterations in 63.6 s,
# not 50 s). One iteration of every row (8 strong-D rows, WGAN-GP, 3 one-step rows) x 3 seeds x 1.25:
# 3 x (8 x 63.7 + 100.3 + 3 x 16.7) ms x 1.25 = 2.48 s; 2,000 iterations: ~4,950 s, plus ~5 s of D's
# pre-training and tracing per run (36 runs: ~180 s): ~5,100 s of the 7,200, room for a busier machine.
# (A first start at 2,500 iterations measured 245-253 s per strong-D run with another job on the second
# core: the table would not have fitted.)
MNIST_ITERATIONS = {"quick": 30, "full": 2000}
MNIST_BUDGET_SECONDS = 2 * 3600
N_EVAL = {"ring": 1000, "mnist": 500}        # samples per FD/FID evaluation; floor and ceiling at the same N

# What makes D too strong, as changes to the balanced GAN.
STRONG_D = dict(d_steps=5, d_lr_factor=5.0, d_pretrain=200, dropout=0.0)

# name -> changes to the baseline (the strong D with the non-saturating loss). "g_lr_factor" scales the
# data set's learning rate for G, "d_lr_factor" scales G's learning rate for D.
REMEDIES = {
    "case study: strong D, saturating loss": dict(loss="saturating"),
    "baseline: strong D, non-saturating": dict(),
    "slow D: all (1 step, equal lr, no pretraining)": dict(d_steps=1, d_lr_factor=1.0, d_pretrain=0),
    "slow D: 1 D step per G step": dict(d_steps=1),
    "slow D: D lr = G lr": dict(d_lr_factor=1.0),
    "TTUR: D lr 4x G lr (G slowed), 1 step": dict(d_steps=1, d_pretrain=0, g_lr_factor=0.25, d_lr_factor=4.0),
    "plan: G lr 2x D lr, 1 step": dict(d_steps=1, d_pretrain=0, d_lr_factor=0.5),
    "one-sided label smoothing (0.9, 0)": dict(real_label=0.9),
    "two-sided label smoothing (0.9, 0.1)": dict(real_label=0.9, fake_label=0.1),
    "WGAN-GP (n_critic 5, lambda 10)": dict(loss="wgan_gp", d_lr_factor=1.0, beta_2=0.9),
    "spectral normalization": dict(spectral_norm=True),
    "minibatch stddev": dict(minibatch_std=True),
    "minibatch discrimination": dict(minibatch_discrimination=True),
    "feature matching": dict(feature_matching=True),
}
RING_REMEDIES = tuple(REMEDIES)
# The image table: the case, the baseline and every remedy of the ring table (slowing D as one row, all
# three causes undone), plus minibatch discrimination beside minibatch stddev.
MNIST_REMEDIES = tuple(name for name in REMEDIES if name not in ("slow D: 1 D step per G step", "slow D: D lr = G lr"))
QUICK_REMEDIES = ("case study: strong D, saturating loss", "baseline: strong D, non-saturating",
                  "slow D: all (1 step, equal lr, no pretraining)", "WGAN-GP (n_critic 5, lambda 10)")

BATCH_SIZES = (32, 64, 128)                  # the exam's question, on the balanced GAN
# The same question on images (issue 25): the balanced conv GAN from batch 16 to 512, at equal examples
# seen (the reference, batch 64 x MNIST_ITERATIONS, shared by both regimes) and at equal steps. A larger
# batch at equal steps sees more examples, so only the two regimes together separate batch size from data.
IMAGE_BATCH_SIZES = {"quick": (16, 64), "full": (16, 32, 64, 128, 256, 512)}
# The section plan's "use batch normalization" (DCGAN's G has it, its D none here): the balanced conv GAN
# with and without G's BatchNormalization, same budget and seeds as the image tables.
IMAGE_NORM_ROWS = {"batch normalization in G (DCGAN)": "conv", "no batch normalization in G": "conv-no-bn"}
# The section plan's ranges, one knob at a time from the balanced GAN (batch size: BATCH_SIZES).
SWEEP = {"lr 2e-4": dict(g_lr=2e-4), "lr 5e-4": dict(g_lr=5e-4), "lr 1e-3 (ring default)": dict(),
         "noise dim 100": dict(latent_dim=100), "noise dim 512": dict(latent_dim=512),
         "dropout 0.3": dict(dropout=0.3), "dropout 0.5": dict(dropout=0.5)}


def settings(dataset, iterations, changes=None, strong=True):
    """A :class:`genlab.gan.experiments.Settings`: the balanced GAN, made strong-D if ``strong``, then ``changes``."""
    from genlab.gan import experiments

    values = dict(RING if dataset == "ring" else MNIST, iterations=iterations)
    merged = dict(STRONG_D if strong else {}, **(changes or {}))
    factor = merged.pop("d_lr_factor", 1.0)
    g_factor = merged.pop("g_lr_factor", 1.0)
    values.update(merged)
    values["g_lr"] *= g_factor
    values["d_lr"] = values["g_lr"] * factor
    return experiments.Settings(**values)


def variants(dataset, iterations, names=None):
    """name -> Settings for the remedies table (all of :data:`REMEDIES`, or ``names``)."""
    return {name: settings(dataset, iterations, REMEDIES[name]) for name in (names or REMEDIES)}


def batch_variants(dataset, iterations):
    """The balanced GAN at each of :data:`BATCH_SIZES`, same number of iterations."""
    return {f"batch {b}": settings(dataset, iterations, dict(batch_size=b), strong=False) for b in BATCH_SIZES}


def sweep_variants(dataset, iterations):
    """The balanced GAN with one knob of the plan's ranges changed."""
    return {name: settings(dataset, iterations, changes, strong=False) for name, changes in SWEEP.items()}


def describe(s):
    """One line: the knobs of a Settings that differ from the defaults."""
    from genlab.gan import experiments

    default = experiments.Settings()
    return ", ".join(f"{f.name}={getattr(s, f.name)}" for f in dataclasses.fields(s)
                     if getattr(s, f.name) != getattr(default, f.name))


def curves(result, points=40):
    """A run's curves for plots and JSON: evaluations (FD/FID, covered) and block means of D's accuracy and G's gradient."""
    import numpy as np

    watch = result.monitor
    metric = watch.evaluator.metric
    out = {"eval_iteration": [e["iteration"] for e in watch.evaluations],
           metric: [round(e[metric], 4) for e in watch.evaluations],
           "covered": [e["covered"] for e in watch.evaluations]}
    blocks = np.array_split(np.arange(len(watch.iterations)), min(points, len(watch.iterations)))
    out["iteration"] = [int(watch.iterations[b[-1]]) for b in blocks]
    for key in ("d_acc_real", "d_acc_fake", "g_grad_norm", "d_fake_prob"):
        values = np.asarray(watch.history[key], np.float64)
        out[key] = [round(float(np.mean(values[b])), 5) for b in blocks]
    return out


def study(mode, sections=("ring", "mnist", "batch", "sweep", "mechanism"), progress=None):
    """The whole measured study in one mode: what the script ships in full mode and the notebook runs in quick.

    Returns a JSON-ready dict: per section, rows from
    :func:`genlab.gan.experiments.compare` (mean, std and per-seed values) plus
    each run's curves, the evaluator's floor and ceiling, and the settings.
    The image section ("mnist") comes from :func:`run_image_section` (the
    script calls that directly, to save and resume it run by run).
    """
    from genlab import config
    from genlab.gan import experiments

    seeds = config.pick(**SEEDS, mode=mode)
    ring_iterations = config.pick(**RING_ITERATIONS, mode=mode)
    plan = {"ring": ("ring", variants("ring", ring_iterations, RING_REMEDIES if mode == "full" else QUICK_REMEDIES)),
            "batch": ("ring", batch_variants("ring", ring_iterations)),
            "sweep": ("ring", sweep_variants("ring", ring_iterations))}
    out = {"mode": mode, "seeds": list(seeds), "sections": {}}
    for section in sections:
        if section == "mnist":
            out["sections"]["mnist"] = run_image_section(mode, progress=progress)
            continue
        if section == "mechanism":
            out["sections"]["mechanism"] = {
                dataset: experiments.gradient_vs_confidence(settings(dataset, 1, {"loss": "saturating"}),
                                                            d_steps=config.pick(quick=100, full=300, mode=mode))
                for dataset in ("ring", "mnist")}
            continue
        dataset, chosen = plan[section]
        rows, results = experiments.compare(chosen, seeds, progress=progress, n_eval=N_EVAL[dataset])
        evaluator = experiments.evaluator_for(chosen[next(iter(chosen))], N_EVAL[dataset])
        for row in rows:
            row["curves"] = [curves(results[row["name"], seed]) for seed in seeds]
            row["settings_text"] = describe(chosen[row["name"]])
        out["sections"][section] = {"dataset": dataset, "metric": evaluator.metric, "n": evaluator.n,
                                    "floor": evaluator.floor, "ceiling": evaluator.ceiling, "rows": rows}
    return out


def image_plan(mode):
    """name -> Settings of the image table: every row of :data:`MNIST_REMEDIES` in full mode, case and baseline in quick."""
    from genlab import config

    names = MNIST_REMEDIES if config.check_mode(mode) == "full" else QUICK_REMEDIES[:2]
    return variants("mnist", config.pick(**MNIST_ITERATIONS, mode=mode), names)


def image_batch_plan(mode):
    """name -> Settings of the image batch table: :data:`IMAGE_BATCH_SIZES` at equal examples and at equal steps."""
    from genlab import config

    steps = config.pick(**MNIST_ITERATIONS, mode=mode)
    reference = MNIST["batch_size"]
    examples = reference * steps
    plan = {}
    for regime in ("equal examples", "equal steps"):
        for b in config.pick(**IMAGE_BATCH_SIZES, mode=mode):
            if b == reference:
                name = f"batch {b} (reference: {steps:,} steps, {examples:,} examples)"
            else:
                name = f"batch {b}, {regime} ({examples // b if regime == 'equal examples' else steps:,} steps)"
            plan.setdefault(name, settings("mnist", examples // b if regime == "equal examples" else steps,
                                           dict(batch_size=b), strong=False))
    return plan


def image_norm_plan(mode):
    """name -> Settings of the image table on G's batch normalization (:data:`IMAGE_NORM_ROWS`), balanced GAN."""
    from genlab import config

    steps = config.pick(**MNIST_ITERATIONS, mode=mode)
    return {name: settings("mnist", steps, dict(network=network), strong=False) for name, network in IMAGE_NORM_ROWS.items()}


def finished_runs(section, plan):
    """(name, seed) -> (summary, curves) of the runs a saved image section holds with the plan's settings.

    Why: resuming must keep a finished run only if it measured what the plan
    asks now; a row saved with other settings (another budget) is run again.
    """
    done = {}
    for row in (section or {}).get("rows", []):
        if row["name"] not in plan or row["settings"] != dataclasses.asdict(plan[row["name"]]):
            continue
        for i, seed in enumerate(row["seeds"]):
            done[row["name"], seed] = ({k: values[i] for k, values in row["per_seed"].items()}, row["curves"][i])
    return done


def image_section(plan, seeds, done, evaluator):
    """The JSON section of the image table from the finished runs (rows in plan order, seeds in order)."""
    from genlab.gan import experiments

    rows = []
    for name, chosen in plan.items():
        finished = [seed for seed in seeds if (name, seed) in done]
        if finished:
            row = experiments.row(name, chosen, finished, [done[name, seed][0] for seed in finished])
            rows.append(dict(row, curves=[done[name, seed][1] for seed in finished], settings_text=describe(chosen)))
    first = next(iter(plan.values()))
    planned, runs = len(plan) * len(seeds), len(done)
    return {"dataset": "mnist", "metric": evaluator.metric, "n": evaluator.n, "floor": evaluator.floor,
            "ceiling": evaluator.ceiling, "rows": rows, "network": first.network, "iterations": first.iterations,
            "seeds_planned": list(seeds), "runs_planned": planned, "runs_finished": runs, "complete": runs == planned,
            "budget_seconds": MNIST_BUDGET_SECONDS,
            "run_seconds": round(sum(summary["seconds"] for summary, _ in done.values()), 1)}


def run_image_section(mode, section=None, save=None, progress=None, x_train=None, plan=None):
    """The image table, run by run: each finished run goes to ``save``, runs already in ``section`` are skipped.

    Why: the full table takes longer than a working session; a run killed
    with its session loses only the run in progress, and the next call with
    the saved section continues where it stopped.

    Args:
        mode: "quick" or "full" (:func:`image_plan`, :data:`SEEDS`).
        section: a section this function returned or saved before (or None: start afresh).
        save: called with the section after each finished run (e.g. to write the results file).
        progress: called with a line of text per run (e.g. print).
        x_train: the training digits (default: all 60,000 in full mode, the quick subset in quick).
        plan: name -> Settings (default :func:`image_plan`; :func:`image_batch_plan` for the batch table).
    """
    from genlab import config, data
    from genlab.gan import experiments

    plan, seeds = plan or image_plan(mode), config.pick(**SEEDS, mode=mode)
    evaluator = experiments.evaluator_for(next(iter(plan.values())), N_EVAL["mnist"])
    done = finished_runs(section, plan)
    if x_train is None:
        x_train = data.load_mnist(mode=config.check_mode(mode))[0][0]
    for name, chosen in plan.items():
        for seed in seeds:
            if (name, seed) in done:
                if progress:
                    progress(f"{name} seed {seed}: finished before, skipped")
                continue
            result = experiments.run(chosen, seed, n_eval=N_EVAL["mnist"], x_train=x_train)
            done[name, seed] = (result.summary(), curves(result))
            if progress:
                progress(f"{name} seed {seed}: " + ", ".join(f"{k}={v:.3g}" for k, v in done[name, seed][0].items()))
            if save:
                save(image_section(plan, seeds, done, evaluator))
    return image_section(plan, seeds, done, evaluator)


BASELINE = "baseline: strong D, non-saturating"


def against_baseline(section, baseline=BASELINE, spread=2.0):
    """Each row's metric against the baseline's: (name, mean, std, difference, beats) for every other row.

    Why: the notebook must say whether a remedy beats the baseline beyond
    the seed spread, from the data. ``beats`` is True when the row's mean is
    lower than the baseline's by more than ``spread`` times the larger of the
    two standard deviations over seeds (the test notebook 07 applies to every
    pair it compares); rows with fewer than 2 seeds have no spread and never beat it.
    """
    metric = section["metric"]
    rows = {row["name"]: row for row in section["rows"]}
    if baseline not in rows:
        return []
    base = rows[baseline]
    out = []
    for name, row in rows.items():
        if name == baseline:
            continue
        difference = row["mean"][metric] - base["mean"][metric]
        margin = spread * max(row["std"][metric], base["std"][metric])
        enough = min(len(row["seeds"]), len(base["seeds"])) >= 2
        out.append((name, row["mean"][metric], row["std"][metric], difference, enough and -difference > margin))
    return out
