"""Settings of notebook 07's study: the lecture's "discriminator too strong" case, and its remedies.

Why it exists: the notebook and ``scripts/gan_remedies.py`` must run the same
variants with the same budgets, so each is defined once, here, as changes to
a baseline; :func:`variants` turns them into
:class:`genlab.gan.experiments.Settings`. The networks are the small MLPs of
:mod:`genlab.gan.experiments` (a 2-D GAN on the ring of 8 Gaussians for the
bulk of the table, where thousands of iterations take seconds on a CPU, and
an MLP GAN on the shipped MNIST subset on a small budget).

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
MNIST = dict(dataset="mnist", batch_size=64, latent_dim=100, hidden=256, g_lr=5e-4, d_lr=5e-4)
RING_ITERATIONS = {"quick": 200, "full": 1500}
MNIST_ITERATIONS = {"quick": 60, "full": 400}
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
    "feature matching": dict(feature_matching=True),
}
# The MNIST rows (each of its runs costs ~10x a ring run): the case, the baseline and four remedies.
MNIST_REMEDIES = ("case study: strong D, saturating loss", "baseline: strong D, non-saturating",
                  "slow D: all (1 step, equal lr, no pretraining)", "one-sided label smoothing (0.9, 0)",
                  "spectral normalization", "minibatch stddev")
QUICK_REMEDIES = ("case study: strong D, saturating loss", "baseline: strong D, non-saturating",
                  "slow D: all (1 step, equal lr, no pretraining)", "WGAN-GP (n_critic 5, lambda 10)")

BATCH_SIZES = (32, 64, 128)                  # the exam's question, on the balanced GAN
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
    """
    from genlab import config
    from genlab.gan import experiments

    seeds = config.pick(**SEEDS, mode=mode)
    ring_iterations = config.pick(**RING_ITERATIONS, mode=mode)
    mnist_iterations = config.pick(**MNIST_ITERATIONS, mode=mode)
    plan = {"ring": ("ring", variants("ring", ring_iterations, None if mode == "full" else QUICK_REMEDIES)),
            "mnist": ("mnist", variants("mnist", mnist_iterations, MNIST_REMEDIES if mode == "full" else
                                        QUICK_REMEDIES[:2])),
            "batch": ("ring", batch_variants("ring", ring_iterations)),
            "sweep": ("ring", sweep_variants("ring", ring_iterations))}
    out = {"mode": mode, "seeds": list(seeds), "sections": {}}
    for section in sections:
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
