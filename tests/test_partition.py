"""genlab.partition: exact log Z by enumeration, and AIS checked against it.

The exact value comes from enumerating the smaller layer (checked itself against
the full 2^(D+H) joint enumeration on a tiny RBM). AIS must land within 0.5 nats
of it on RBMs where plain importance sampling from the base rate (AIS with a
single step) misses by more, so the check can fail; it must repeat with its
seed, and its standard error must shrink with more runs.
"""

import itertools

import numpy as np
import pytest

from genlab import partition


def random_rbm(visible, hidden, scale, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=scale, size=(visible, hidden)), rng.normal(scale=0.5, size=visible),
            rng.normal(scale=0.5, size=hidden))


def test_enumerating_either_layer_gives_the_joint_enumeration():
    W, b, c = random_rbm(4, 3, 1.0, seed=0)
    joint = [v @ b + h @ c + v @ W @ h for v in itertools.product([0, 1], repeat=4)
             for h in itertools.product([0, 1], repeat=3)]
    exact = np.log(np.exp(joint).sum())
    assert partition.log_partition_exact((W, b, c)) == pytest.approx(exact, abs=1e-10)
    # The same RBM with its layers swapped has the same Z: the other side is enumerated.
    assert partition.log_partition_exact((W.T, c, b)) == pytest.approx(exact, abs=1e-10)
    W, b, c = random_rbm(10, 14, 0.5, seed=1)
    visible_side = partition.logsumexp(-partition.free_energy((W, b, c), partition._binary_rows(10, 0, 2 ** 10)))
    assert partition.log_partition_exact((W, b, c)) == pytest.approx(visible_side, abs=1e-9)


def test_ais_is_exact_when_the_target_is_the_base_rate():
    W, b, c = random_rbm(30, 5, 1.0, seed=2)
    flat = (np.zeros_like(W), b, np.zeros_like(c))          # no weights: every importance weight is 1
    estimate = partition.ais_log_partition(flat, betas=partition.linear_schedule(((1.0, 20),)), runs=8,
                                           base_biases=b, seed=0)
    assert estimate.log_z == pytest.approx(partition.log_partition_exact(flat), abs=1e-6)
    assert estimate.standard_error == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("visible, hidden, scale", [(100, 12, 0.4), (14, 60, 0.4)])
def test_ais_lands_within_half_a_nat_where_plain_importance_sampling_does_not(visible, hidden, scale):
    W, b, c = rbm = random_rbm(visible, hidden, scale, seed=3)
    exact = partition.log_partition_exact(rbm)
    base = partition.base_rate_biases(np.random.default_rng(4).random((500, visible)) < 0.3)
    one_step = partition.ais_log_partition(rbm, betas=[0.0, 1.0], runs=100, base_biases=base, seed=0)
    assert abs(one_step.log_z - exact) > 0.5, "the check below would prove nothing: the RBM is too easy"
    annealed = partition.ais_log_partition(rbm, betas=partition.linear_schedule(((0.5, 200), (0.9, 800), (1.0, 1000))),
                                           runs=100, base_biases=base, seed=0)
    assert abs(annealed.log_z - exact) < 0.5
    assert annealed.lower <= annealed.log_z <= annealed.upper


def test_ais_on_an_mnist_rbm_matches_enumeration():
    """A 784 x 15 RBM trained briefly on binarized digits: the real use, small enough to enumerate (2^15)."""
    from genlab import data
    from genlab.models import rbm as rbm_module

    (x_train, _), (x_test, _) = data.load_binarized_mnist(mode="quick")
    grey = x_train.reshape(len(x_train), -1).astype("float32") / 255.0
    model = rbm_module.RBM(784, 15)
    rbm_module.train_rbm(model, grey, iterations=300, seed=0, k=1, persistent=False, learning_rate=0.1,
                         stochastic=True)
    exact = partition.log_partition_exact(model)
    base = partition.base_rate_biases(grey)
    one_step = partition.ais_log_partition(model, betas=[0.0, 1.0], runs=100, base_biases=base, seed=0)
    assert abs(one_step.log_z - exact) > 0.5, "the check below would prove nothing: the RBM is too easy"
    estimate = partition.ais_log_partition(model, betas=partition.linear_schedule(((0.5, 100), (0.9, 400), (1.0, 500))),
                                           runs=100, base_biases=base, seed=0)
    assert abs(estimate.log_z - exact) < 0.5
    test01 = x_test.reshape(len(x_test), -1)[:500]
    record = partition.test_log_likelihood(model, test01, grey, betas=partition.linear_schedule(((1.0, 500),)),
                                           runs=50, seed=1)
    exact_nats = float(partition.log_likelihood(model, test01, exact).mean())
    assert abs(record["nats"] - exact_nats) < 0.5


def test_ais_repeats_with_its_seed_and_its_error_shrinks_with_more_runs():
    rbm = random_rbm(50, 10, 0.5, seed=5)
    betas = partition.linear_schedule(((1.0, 300),))
    first, again = (partition.ais_log_partition(rbm, betas=betas, runs=20, seed=7) for _ in range(2))
    assert first.log_z == again.log_z and np.array_equal(first.log_weights, again.log_weights)
    assert partition.ais_log_partition(rbm, betas=betas, runs=20, seed=8).log_z != first.log_z
    few = partition.ais_log_partition(rbm, betas=betas, runs=25, seed=0).standard_error
    many = partition.ais_log_partition(rbm, betas=betas, runs=400, seed=0).standard_error
    assert many < few / 2          # 1/sqrt(M): 4x fewer would be expected, 2x leaves room for noise


def test_bad_arguments_are_refused_with_a_clear_error():
    rbm = random_rbm(30, 26, 0.1, seed=6)
    with pytest.raises(ValueError, match="too many to enumerate"):
        partition.log_partition_exact(rbm)
    with pytest.raises(ValueError, match="increase strictly from 0 to 1"):
        partition.ais_log_partition(rbm, betas=[0.0, 0.5, 0.4, 1.0])
    with pytest.raises(ValueError, match="end at beta = 1"):
        partition.linear_schedule(((0.5, 10),))
    with pytest.raises(ValueError, match="one bias per visible unit"):
        partition.ais_log_partition(rbm, betas=[0.0, 1.0], base_biases=np.zeros(3))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        partition.base_rate_biases(np.full((2, 3), 255.0))
