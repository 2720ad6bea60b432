"""An RBM's partition function: exact by enumeration when small, by annealed importance sampling when not.

Why it exists: an RBM gives p(v) = exp(-F(v)) / Z only up to Z, a sum over
2^D visible (or 2^H hidden) configurations, so its test log-likelihood, the
figure the literature judges RBMs by, needs an estimate of log Z. Annealed
importance sampling (AIS; Neal, "Annealed importance sampling", Statistics and
Computing 11, 2001) as Salakhutdinov & Murray apply it to RBMs ("On the
quantitative analysis of deep belief networks", ICML 2008) gives one with an
error bar. It lives apart from :mod:`genlab.models.rbm` because it is an
evaluation tool, tested against exact enumeration (``tests/test_partition.py``),
not part of the model; notebook 12 writes the same estimator at a teaching
scale and reads the shipped RBM's figure from its manifest.

The annealing path (Salakhutdinov & Murray, section 3): a base-rate model A
with no weights, visible biases ``b_A`` (the data's pixel log-odds) and the
target RBM B = (W, b, c). At inverse temperature beta the unnormalised
marginal, hidden units summed out, is

    f_beta(v) = exp((1 - beta) b_A.v + beta b.v) prod_j (1 + exp(beta (c_j + v.W_j)))

(f_0 is the base rate times 2^H, f_1 is exp(-F(v))); Z_0 = 2^H prod_i (1 + exp(b_A,i)).
Each run draws v from the base rate, and for each beta_k multiplies its
importance weight by f_k(v) / f_{k-1}(v) and moves v by one block Gibbs step
that leaves f_k invariant. The mean weight estimates Z_B / Z_0 without bias;
its logarithm, the reported log Z, is biased low in expectation (Jensen), so
the test log-likelihood -F(v) - log Z is, if anything, too high.

Everything here is NumPy (float32 matrix products, float64 sums of log weights)
with ``scipy.special.logsumexp``; it runs from weights, so any genlab RBM
(``rbm.W``, ``rbm.b``, ``rbm.c``) or plain arrays can be measured.
"""

import dataclasses

import numpy as np
from scipy.special import expit, logsumexp

# Salakhutdinov & Murray (2008), section 4.1: beta spaced uniformly 500 times from 0 to 0.5,
# 4,000 times from 0.5 to 0.9 and 10,000 times from 0.9 to 1.0 (14,500 intermediate distributions).
PAPER_SCHEDULE = ((0.5, 500), (0.9, 4000), (1.0, 10000))
RUNS = 100                   # the paper's 100 AIS runs
PSEUDO_COUNT = 0.05          # base-rate smoothing: a pixel never on in the data still gets a finite bias
ENUMERABLE_UNITS = 24        # enumerate at most 2^24 configurations of the smaller layer
# Published test log-likelihoods on binarized MNIST (nats), each checked against the paper's text.
# Salakhutdinov & Murray's (2008) own RBM table (about -86 for CD-25 with 500 hidden units, far
# worse for CD-1) could not be checked here, so it is not recorded.
PUBLISHED_MNIST_NATS = {
    "2-layer deep Boltzmann machine, AIS (Salakhutdinov & Hinton 2009, section 4.1)": -84.62,
    "mixture of 500 Bernoullis (same)": -137.64,
}


def arrays(rbm):
    """(W, b, c) as float64 NumPy arrays from a genlab RBM (``.W``, ``.b``, ``.c``) or a (W, b, c) tuple."""
    W, b, c = (rbm.W, rbm.b, rbm.c) if hasattr(rbm, "W") else rbm
    W, b, c = (np.asarray(x, dtype=np.float64) for x in (W, b, c))
    if W.ndim != 2 or b.shape != (W.shape[0],) or c.shape != (W.shape[1],):
        raise ValueError(f"W must be (visible, hidden) with b (visible,) and c (hidden,); got {W.shape}, "
                         f"{b.shape}, {c.shape}")
    return W, b, c


def free_energy(rbm, v):
    """F(v) = -b.v - sum_j softplus(c_j + v.W_j) per row of ``v`` (float64), so that log p(v) = -F(v) - log Z."""
    W, b, c = arrays(rbm)
    v = np.asarray(v, dtype=np.float64)
    return -v @ b - np.logaddexp(0.0, v @ W + c).sum(axis=-1)


def _binary_rows(n, start, stop):
    """Rows start..stop-1 of the 2^n binary configurations, in binary counting order."""
    codes = np.arange(start, stop, dtype=np.int64)[:, None]
    return ((codes >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def log_partition_exact(rbm, chunk=1 << 14):
    """log Z by enumerating the smaller layer (2^min(D, H) terms, the other layer summed out analytically).

    Over visible configurations: log Z = logsumexp_v -F(v). Over hidden ones, by the
    symmetry of the bipartite graph: log Z = logsumexp_h [c.h + sum_i softplus(b_i + W_i.h)].
    """
    W, b, c = arrays(rbm)
    if min(W.shape) > ENUMERABLE_UNITS:
        raise ValueError(f"an RBM of {W.shape[0]} x {W.shape[1]} units has 2^{min(W.shape)} configurations on its "
                         f"smaller side, too many to enumerate (at most 2^{ENUMERABLE_UNITS}); use ais_log_partition")
    if W.shape[1] < W.shape[0]:           # enumerate the hidden layer: swap the roles of the layers
        W, b, c = W.T, c, b
    n = W.shape[0]
    parts = []
    for start in range(0, 2 ** n, chunk):
        v = _binary_rows(n, start, min(2 ** n, start + chunk))
        parts.append(logsumexp(v @ b + np.logaddexp(0.0, v @ W + c).sum(axis=1)))
    return float(logsumexp(parts))


def base_rate_biases(data01, pseudo_count=PSEUDO_COUNT):
    """The base-rate model's visible biases: log-odds of each pixel's mean in ``data01``, smoothed.

    p_i = (mean_i + pseudo_count) / (1 + 2 pseudo_count) keeps every bias finite (a pixel
    never on in the data would otherwise get -infinity). ``data01``: (N, D), values in [0, 1]
    (grey levels / 255 give the same means as their stochastic binarization).
    """
    data01 = np.asarray(data01, dtype=np.float64).reshape(len(data01), -1)
    if data01.min() < 0 or data01.max() > 1:
        raise ValueError("base_rate_biases expects values in [0, 1] (binary pixels or grey levels / 255)")
    p = (data01.mean(axis=0) + pseudo_count) / (1.0 + 2.0 * pseudo_count)
    return np.log(p) - np.log1p(-p)


def linear_schedule(pieces=PAPER_SCHEDULE):
    """Inverse temperatures 0 = beta_0 < ... < beta_K = 1, spaced uniformly within each piece.

    ``pieces``: (end, steps) pairs, e.g. ``((0.5, 500), (0.9, 4000), (1.0, 10000))``: 500 equal
    steps from 0 to 0.5, then 4,000 to 0.9, then 10,000 to 1.0 (K = 14,500).
    """
    betas, start = [np.zeros(1)], 0.0
    for end, steps in pieces:
        if not start < end <= 1.0 or int(steps) < 1:
            raise ValueError(f"each piece (end, steps) needs {start} < end <= 1 and steps >= 1; got {(end, steps)}")
        betas.append(np.linspace(start, end, int(steps) + 1)[1:])
        start = end
    if start != 1.0:
        raise ValueError(f"the schedule must end at beta = 1, not {start}")
    return np.concatenate(betas)


@dataclasses.dataclass
class AISEstimate:
    """log Z from AIS: ``log_z`` = log Z_0 + log mean(w); ``lower``/``upper`` = log(mean(w) -+ 3 std(w) / sqrt(M)) + log Z_0.

    ``standard_error`` is that of log Z by the delta method, std(w) / (sqrt(M) mean(w));
    ``lower`` is -inf when 3 standard errors exceed the mean (the weights are then too
    spread to trust the estimate). ``log_weights``: one per run.
    """
    log_z: float
    standard_error: float
    lower: float
    upper: float
    log_z_base: float
    log_weights: np.ndarray
    steps: int

    @property
    def runs(self):
        return len(self.log_weights)

    def record(self):
        """The figures as a JSON-ready dict (rounded to 0.01 nats)."""
        return {"log_z": round(self.log_z, 2), "standard_error": round(self.standard_error, 2),
                "lower_3_std": round(self.lower, 2) if np.isfinite(self.lower) else None,
                "upper_3_std": round(self.upper, 2), "log_z_base_rate": round(self.log_z_base, 2),
                "runs": self.runs, "intermediate_distributions": self.steps}


def summarise(log_weights, log_z_base, steps):
    """An :class:`AISEstimate` from the runs' log importance weights (computed stably, relative to the largest)."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    runs = len(log_weights)
    if runs < 2:
        raise ValueError("AIS needs at least 2 runs for a standard error")
    shift = log_weights.max()
    w = np.exp(log_weights - shift)               # the largest is 1: no overflow
    mean, spread = w.mean(), w.std(ddof=1) / np.sqrt(runs)
    log_mean = np.log(mean) + shift
    lower = np.log(mean - 3 * spread) + shift if mean > 3 * spread else -np.inf
    return AISEstimate(log_z=float(log_z_base + log_mean), standard_error=float(spread / mean),
                       lower=float(log_z_base + lower), upper=float(log_z_base + np.log(mean + 3 * spread) + shift),
                       log_z_base=float(log_z_base), log_weights=log_weights, steps=int(steps))


def ais_log_partition(rbm, betas=None, runs=RUNS, base_biases=None, seed=0, progress=False):
    """Estimate log Z of a binary RBM by AIS from a base-rate model (Salakhutdinov & Murray, 2008).

    Args:
        rbm: a genlab RBM or a (W, b, c) tuple.
        betas: increasing inverse temperatures from 0 to 1 (default :func:`linear_schedule`'s, the paper's).
        runs: independent AIS runs M, annealed together as one batch.
        base_biases: the base rate's visible biases (:func:`base_rate_biases` of the training data);
            default zeros, the uniform distribution.
        seed: the runs' random numbers; the same seed gives the same estimate.
        progress: print the schedule's progress every tenth of the way.

    Returns:
        An :class:`AISEstimate`.
    """
    W, b, c = arrays(rbm)
    betas = linear_schedule() if betas is None else np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) <= 0):
        raise ValueError("betas must increase strictly from 0 to 1 (e.g. linear_schedule())")
    base = np.zeros_like(b) if base_biases is None else np.asarray(base_biases, dtype=np.float64)
    if base.shape != b.shape:
        raise ValueError(f"base_biases must have one bias per visible unit, {b.shape}; got {base.shape}")
    rng = np.random.default_rng(seed)
    W32, base32, b32, c32 = (x.astype(np.float32) for x in (W, base, b, c))   # the Gibbs steps in float32
    v = (rng.random((runs, len(b)), dtype=np.float32) < expit(base32)).astype(np.float32)
    log_w = np.zeros(runs)
    report = max(1, (len(betas) - 1) // 10)
    for k in range(1, len(betas)):
        previous, beta = float(betas[k - 1]), float(betas[k])
        x = v @ W32 + c32                          # (runs, H): every term below needs it
        x64 = x.astype(np.float64)                 # the log weights are summed in float64
        # log f_k(v) - log f_{k-1}(v): the weight's update at the state reached under f_{k-1}.
        log_w += ((beta - previous) * (v @ b - v @ base)
                  + (np.logaddexp(0.0, beta * x64) - np.logaddexp(0.0, previous * x64)).sum(axis=1))
        # One block Gibbs step leaving f_k invariant: h | v, then v | h, both at inverse temperature beta.
        h = (rng.random(x.shape, dtype=np.float32) < expit(beta * x)).astype(np.float32)
        visible_logit = (1 - beta) * base32 + beta * (h @ W32.T + b32)
        v = (rng.random(v.shape, dtype=np.float32) < expit(visible_logit)).astype(np.float32)
        if progress and k % report == 0:
            print(f"AIS: {k:,}/{len(betas) - 1:,} distributions, beta = {beta:.4f}", flush=True)
    log_z_base = np.logaddexp(0.0, base).sum() + W.shape[1] * np.log(2.0)
    return summarise(log_w, log_z_base, len(betas) - 1)


def log_likelihood(rbm, v, log_z):
    """log p(v) = -F(v) - log Z per row of ``v`` (nats), with log Z exact or estimated."""
    return -free_energy(rbm, v) - log_z


def test_log_likelihood(rbm, test01, base_data, betas=None, runs=RUNS, seed=0, progress=False):
    """The mean test log-likelihood of ``rbm`` on ``test01`` (nats) with log Z by AIS, as a JSON-ready dict.

    ``base_data``: the training data in [0, 1] for the base rate (:func:`base_rate_biases`).
    ``nats`` is mean_v [-F(v)] - log Z; ``standard_error`` its spread over the test digits
    (the sampling error of a finite test set); ``lower_3_std``/``upper_3_std`` move log Z to
    its AIS bounds (the error of the estimate of Z, common to every digit).
    """
    estimate = ais_log_partition(rbm, betas=betas, runs=runs, base_biases=base_rate_biases(base_data), seed=seed,
                                 progress=progress)
    negative_free_energy = -free_energy(rbm, test01)
    mean = float(negative_free_energy.mean())
    return {"nats": round(mean - estimate.log_z, 2),
            "standard_error": round(float(negative_free_energy.std(ddof=1) / np.sqrt(len(test01))), 2),
            "lower_3_std": round(mean - estimate.upper, 2),
            "upper_3_std": round(mean - estimate.lower, 2) if np.isfinite(estimate.lower) else None,
            "n": len(test01), "log_z": estimate.record()}


def binarized_mnist_likelihood(rbm, schedule=None, runs=RUNS, seed=0, mode="full"):
    """:func:`test_log_likelihood` on the fixed binarized MNIST test digits (``data.load_binarized_mnist``).

    The base rate comes from the training digits' grey levels / 255 (the mean of their
    stochastic binarization); ``schedule``: :func:`linear_schedule` pieces (default the paper's).
    """
    from genlab import data

    (x_train, _), (x_test, _) = data.load_binarized_mnist(mode=mode)
    grey = np.asarray(x_train, np.float32).reshape(len(x_train), -1) / 255.0
    betas = linear_schedule(schedule or PAPER_SCHEDULE)
    record = test_log_likelihood(rbm, np.asarray(x_test, np.float32).reshape(len(x_test), -1), grey, betas=betas,
                                 runs=runs, seed=seed, progress=True)
    record["mean_negative_free_energy"] = round(float(-free_energy(rbm, x_test.reshape(len(x_test), -1)).mean()), 4)
    record["data"] = (f"binarized MNIST test digits (data.load_binarized_mnist, fixed seed {data.BINARIZED_TEST_SEED}),"
                      " 28x28")
    record["exact"] = (f"an estimate: log Z by annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008), "
                       f"{len(betas) - 1:,} intermediate distributions, {runs} runs, base rate from the training digits")
    return record
