"""Restricted Boltzmann machines and deep belief networks: builders, CD-k, Gibbs chains, settings.

Why it exists: notebook 12 (``notebooks/12_boltzmann_rbm_dbn.ipynb``) teaches the
RBM from first principles (energy, p(h|v), p(v|h), contrastive divergence, free
energy) and writes those pieces out itself; the tests (conditionals and free
energy against enumeration, CD-1 raising the exact likelihood of a tiny model),
the registry, the shipped weights (``rbm_mnist``, with its test log-likelihood by
AIS, :mod:`genlab.partition`) and the DBN pre-training table
(``data/results/dbn_pretraining.json``) build the same model from here. Every
RBM and DBN setting is defined here once; notebook 12's Hyperparameters cell
reads them and ``tests/test_notebooks.py`` keeps it equal to them.

An RBM is not trained by backpropagation, so it is a small ``keras.Model`` that
only *holds* W, b (visible biases) and c (hidden biases), so that weights save and
load as for every other family; :func:`cd_update` changes them with the CD-k (or
persistent CD) estimate of the log-likelihood gradient. The DBN table is made by
``python -m genlab.models.rbm dbn-table --mode full`` (-> data/results/dbn_pretraining.json).
"""

import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from genlab import partition, quiet  # noqa: F401  (quiet: imports TensorFlow without its start-up logs)

NOTEBOOK = "12_boltzmann_rbm_dbn"
SEED = 42
N_VISIBLE = 784                 # binarized 28x28 digits
N_HIDDEN = 500                  # Hinton & Salakhutdinov's first DBN layer; 784 x 500 float32 = 1.6 MB
BATCH_SIZE = 64
LEARNING_RATE = 0.05            # plain SGD on the CD estimate (Hinton's practical guide: ~0.1 for binary units)
CD_K = 1                        # Gibbs steps of the negative phase
PERSISTENT = True               # the shipped RBM uses persistent CD (Tieleman, 2008): better samples
ITERATIONS = {"quick": 150, "full": 60000}     # parameter updates; config.pick(**ITERATIONS); full: 64 epochs
STOCHASTIC_BINARIZATION = True  # the shipped RBM sees a fresh Bernoulli(grey / 255) draw of each batch
CHECKPOINT_EVERY = 5000         # updates between the shipped run's checkpoints (train(checkpoint_dir=...))
SAMPLE_STEPS = 500              # Gibbs steps per sample of the registry's sampler
# The DBN: greedy layer-wise pre-training (CD-1), then supervised fine-tuning on few labels.
DBN_LAYERS = (500, 250)
DBN_PRETRAIN_ITERATIONS = {"quick": 100, "full": 2000}   # CD-1 updates per RBM of the stack
LABELS_PER_CLASS = 10           # 100 labelled digits
FINE_TUNE_STEPS = {"quick": 40, "full": 300}             # full-batch Adam steps on the labelled digits
FINE_TUNE_LEARNING_RATE = 1e-3
DBN_SEEDS = {"quick": (0,), "full": (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)}
# What ships (genlab.pretrained, scripts/train_pretrained.py): the MNIST RBM and these settings.
SHIPPED_BUILDER = "build_rbm"
MANIFEST_SETTINGS = ("N_HIDDEN", "BATCH_SIZE", "LEARNING_RATE", "CD_K", "PERSISTENT", "STOCHASTIC_BINARIZATION",
                     "SAMPLE_STEPS")


class RBM(keras.Model):
    """A Bernoulli-Bernoulli RBM: E(v, h) = -b.v - c.h - v W h, no visible-visible or hidden-hidden weights.

    Holds W (n_visible x n_hidden), b and c as Keras weights; its methods are the
    exact conditionals of the bipartite graph and the free energy. ``call(v)`` is
    the mean-field reconstruction p(v | h = p(h | v)). Introduced in notebook 12.

    Args:
        n_visible: number of visible units.
        n_hidden: number of hidden units.
        init_std: standard deviation of the initial weights (biases start at 0).
        **kwargs: passed to ``keras.Model`` (e.g. ``name``).

    Example::

        rbm = RBM(4, 3)
        p_h = rbm.hidden_probability(np.ones((2, 4), "float32"))   # shape (2, 3)
    """

    def __init__(self, n_visible=N_VISIBLE, n_hidden=N_HIDDEN, init_std=0.01, **kwargs):
        super().__init__(**kwargs)
        self.n_visible, self.n_hidden, self.init_std = int(n_visible), int(n_hidden), float(init_std)
        if self.n_visible < 1 or self.n_hidden < 1:
            raise ValueError(f"n_visible and n_hidden must be positive, got {n_visible!r}, {n_hidden!r}")
        self.W = self.add_weight(shape=(self.n_visible, self.n_hidden), name="W",
                                 initializer=keras.initializers.RandomNormal(stddev=self.init_std))
        self.b = self.add_weight(shape=(self.n_visible,), initializer="zeros", name="visible_bias")
        self.c = self.add_weight(shape=(self.n_hidden,), initializer="zeros", name="hidden_bias")
        self.built = True     # the weights exist: load_weights needs no call first

    def hidden_probability(self, v):
        """p(h_j = 1 | v) = sigmoid(c_j + sum_i v_i W_ij), for every hidden unit at once."""
        return tf.sigmoid(tf.matmul(v, self.W) + self.c)

    def visible_probability(self, h):
        """p(v_i = 1 | h) = sigmoid(b_i + sum_j W_ij h_j)."""
        return tf.sigmoid(tf.matmul(h, self.W, transpose_b=True) + self.b)

    def free_energy(self, v):
        """F(v) = -b.v - sum_j softplus(c_j + v.W_j), so that p(v) = exp(-F(v)) / Z."""
        return -tf.linalg.matvec(v, self.b) - tf.reduce_sum(tf.math.softplus(tf.matmul(v, self.W) + self.c), -1)

    def call(self, v):
        return self.visible_probability(self.hidden_probability(v))

    def get_config(self):
        return {**super().get_config(), "n_visible": self.n_visible, "n_hidden": self.n_hidden,
                "init_std": self.init_std}


def build_rbm(n_visible=N_VISIBLE, n_hidden=N_HIDDEN, name="rbm"):
    """The MNIST RBM of notebook 12 (784 x 500): what ``rbm_mnist`` ships."""
    return RBM(n_visible, n_hidden, name=name)


def binarize(images):
    """uint8 (N, 28, 28) digits -> float32 (N, 784) of 0/1 (a pixel is on above half intensity)."""
    images = np.asarray(images)
    return (images.reshape(len(images), -1) > 127).astype("float32")


def bernoulli(probability, seed):
    """0/1 samples with the given probabilities; ``seed`` is a stateless pair, so a run can be repeated."""
    return tf.cast(tf.random.stateless_uniform(tf.shape(probability), seed) < probability, probability.dtype)


@tf.function
def cd_update(rbm, v_data, v_chain, k, learning_rate, seed):
    """One CD-k update of ``rbm`` from the batch ``v_data``; returns the chain's end state.

    Positive phase: <v h>_data with the exact p(h | v_data). Negative phase: k
    steps of block Gibbs sampling from ``v_chain`` (pass ``v_data`` for CD-k, the
    previous return value for persistent CD). ``seed`` is an int32 pair.
    """
    h_data = rbm.hidden_probability(v_data)
    v = v_chain
    for step in range(k):
        h = bernoulli(rbm.hidden_probability(v), seed + [0, 2 * step])
        v = bernoulli(rbm.visible_probability(h), seed + [0, 2 * step + 1])
    h_model = rbm.hidden_probability(v)
    n = tf.cast(tf.shape(v_data)[0], v_data.dtype)
    rbm.W.assign_add(learning_rate * (tf.matmul(v_data, h_data, transpose_a=True)
                                      - tf.matmul(v, h_model, transpose_a=True)) / n)
    rbm.b.assign_add(learning_rate * tf.reduce_mean(v_data - v, axis=0))
    rbm.c.assign_add(learning_rate * tf.reduce_mean(h_data - h_model, axis=0))
    return v


def train_rbm(rbm, data01, iterations, seed=SEED, k=CD_K, persistent=False, learning_rate=LEARNING_RATE,
              batch_size=BATCH_SIZE, progress=False, stochastic=False, checkpoint=None, checkpoint_every=None):
    """Train ``rbm`` in place on the (N, n_visible) array ``data01`` with CD-k or persistent CD; returns it.

    ``stochastic``: ``data01`` holds grey levels in [0, 1], each batch a fresh Bernoulli draw of them.
    ``checkpoint``: a ``.npz`` written every ``checkpoint_every`` updates (weights, chains, position,
    random state) and resumed from when it exists: an interrupted run continues exactly.
    """
    data01 = np.asarray(data01, dtype="float32")
    rng = np.random.default_rng(seed)

    def draw(rows):
        return (rng.random(rows.shape, dtype=np.float32) < rows).astype("float32") if stochastic else rows

    chain = tf.constant(draw(data01[rng.choice(len(data01), batch_size, replace=False)]))
    order, position, first = rng.permutation(len(data01)), 0, 0
    if checkpoint is not None and pathlib.Path(checkpoint).is_file():
        saved = np.load(checkpoint)
        for weight, name in ((rbm.W, "W"), (rbm.b, "b"), (rbm.c, "c")):
            weight.assign(saved[name])
        chain, order = tf.constant(saved["chain"]), saved["order"]
        position, first = int(saved["position"]), int(saved["iteration"])
        rng.bit_generator.state = json.loads(str(saved["rng"]))
        if progress:
            print(f"resumed from {checkpoint} at update {first:,}", flush=True)
    for iteration in range(first, int(iterations)):
        if position + batch_size > len(order):          # a new epoch: reshuffle
            order, position = rng.permutation(len(data01)), 0
        batch = tf.constant(draw(data01[order[position:position + batch_size]]))
        position += batch_size
        # Linear decay to zero: persistent chains need a shrinking step to follow the model.
        rate = learning_rate * (1.0 - iteration / iterations) if persistent else learning_rate
        end = cd_update(rbm, batch, chain if persistent else batch, k, tf.constant(rate, "float32"),
                        tf.constant([seed, iteration], "int32"))
        chain = end
        if progress and (iteration + 1) % 500 == 0:
            error = float(tf.reduce_mean(tf.square(batch - rbm(batch))))
            print(f"iteration {iteration + 1}/{iterations}: reconstruction error {error:.4f}", flush=True)
        if checkpoint is not None and checkpoint_every and (iteration + 1) % checkpoint_every == 0:
            partial = pathlib.Path(checkpoint).with_suffix(".partial.npz")     # written whole, then renamed
            partial.parent.mkdir(parents=True, exist_ok=True)
            np.savez(partial, W=rbm.W.numpy(), b=rbm.b.numpy(), c=rbm.c.numpy(), chain=np.asarray(chain),
                     order=order, position=position, iteration=iteration + 1,
                     rng=json.dumps(rng.bit_generator.state))
            partial.replace(checkpoint)
    return rbm


@tf.function
def gibbs_chain(rbm, v, steps, seed):
    """``steps`` of block Gibbs sampling v -> h -> v from ``v``; returns (v sample, p(v | h) of the last step)."""
    probability = v
    for step in tf.range(steps):
        h = bernoulli(rbm.hidden_probability(v), tf.stack([seed, 2 * step]))
        probability = rbm.visible_probability(h)
        v = bernoulli(probability, tf.stack([seed, 2 * step + 1]))
    return v, probability


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False,
          k=CD_K, persistent=PERSISTENT):
    """Train the MNIST RBM with notebook 12's settings for ``mode`` (or another ``k``/``persistent``); returns it.

    Used by the registry, ``scripts/train_pretrained.py`` (the shipped weights) and
    :func:`likelihood`'s CD-1 comparison. Each batch is binarized afresh, as the likelihood
    benchmark's test digits are (``data.load_binarized_mnist``). With ``checkpoint_dir`` the
    run checkpoints every ``CHECKPOINT_EVERY`` updates and resumes from there.
    """
    from genlab import config, data

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset, mode=config.check_mode(mode))
    images = (np.asarray(x_train, "float32").reshape(len(x_train), -1) / 255.0 if STOCHASTIC_BINARIZATION
              else binarize(x_train))
    checkpoint = None if checkpoint_dir is None else pathlib.Path(checkpoint_dir) / "rbm_training.npz"
    return train_rbm(build_rbm(), images, iterations or config.pick(**ITERATIONS, mode=mode), seed=seed, k=k,
                     persistent=persistent, progress=progress, stochastic=STOCHASTIC_BINARIZATION,
                     checkpoint=checkpoint, checkpoint_every=CHECKPOINT_EVERY)


def likelihood(model, dataset="mnist", seed=SEED, mode="full", schedule=None, runs=partition.RUNS, cd1=True):
    """The test log-likelihood a manifest records (scripts/train_pretrained.py), in nats, on binarized MNIST.

    log Z by AIS (:func:`genlab.partition.binarized_mnist_likelihood`, by default the paper's
    14,500 temperatures and 100 runs) with its 3-standard-error bounds; with ``cd1``, the same
    for an RBM trained now by plain CD-1 with the same updates and settings (not shipped).
    """
    import time

    from genlab import config

    if dataset != "mnist":
        raise ValueError("the RBM's likelihood is measured on binarized MNIST only")
    record = partition.binarized_mnist_likelihood(model, schedule, runs, seed, mode)
    result = {"metric": "test log-likelihood (nats), log Z by AIS", "value": record["nats"],
              "trained_with": f"{'persistent ' if PERSISTENT else ''}CD-{CD_K}", "ais": record}
    if cd1:
        start, iterations = time.time(), config.pick(**ITERATIONS, mode=mode)
        cd1 = partition.binarized_mnist_likelihood(train(dataset, mode, seed, k=1, persistent=False, progress=True,
                                                         iterations=iterations), schedule, runs, seed, mode)
        result["cd1_same_updates"] = {**{key: cd1[key] for key in cd1 if key not in ("data", "exact")},
                                      "trained_with": f"CD-1 (not persistent), {iterations:,} updates, otherwise the "
                                                      "shipped settings", "seconds": round(time.time() - start)}
    return {**result, "anchors_nats": partition.PUBLISHED_MNIST_NATS, "n": record["n"], "data": record.pop("data"),
            "exact": record.pop("exact")}


def sampler(rbm, steps=SAMPLE_STEPS):
    """``sample_fn(n, seed=0, steps=steps)`` -> uint8 (n, 28, 28): p(v | h) after ``steps`` Gibbs steps.

    Each chain starts from uniform random pixels; the image shown is the
    probability of the last step's visible units (less noisy than its 0/1 sample).
    """
    from genlab import data

    def sample_fn(n, seed=0, steps=steps):
        start = bernoulli(tf.fill((n, rbm.n_visible), 0.5), tf.constant([seed, -1], "int32"))
        _, probability = gibbs_chain(rbm, start, tf.constant(steps), tf.constant(seed, "int32"))
        return data.to_uint8(np.asarray(probability).reshape(n, 28, 28), from_range="sigmoid")

    sample_fn.rbm = rbm
    return sample_fn


def pretrain_stack(data01, layers=DBN_LAYERS, iterations=None, seed=SEED, first=None):
    """Greedy layer-wise pre-training: each RBM (CD-1) learns the previous one's p(h | v).

    ``first`` may be an RBM already trained on ``data01`` to use as the first layer.
    Returns the list of RBMs, bottom first.
    """
    from genlab import config

    iterations = iterations or config.pick(**DBN_PRETRAIN_ITERATIONS)
    stack, inputs = [], np.asarray(data01, dtype="float32")
    for index, units in enumerate(layers):
        if index == 0 and first is not None:
            rbm = first
        else:
            rbm = train_rbm(RBM(inputs.shape[1], units, name=f"dbn_rbm{index + 1}"), inputs, iterations,
                            seed=seed + 1000 * index, k=1, persistent=False)
        stack.append(rbm)
        inputs = np.asarray(rbm.hidden_probability(inputs))   # what the next layer sees
    return stack


def build_dbn_classifier(n_visible=N_VISIBLE, layers=DBN_LAYERS, classes=10, name="dbn"):
    """The DBN's discriminative network: sigmoid Dense layers of the stack's sizes -> softmax."""
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(n_visible,), name="pixels"))
    for index, units in enumerate(layers, start=1):
        model.add(keras.layers.Dense(units, activation="sigmoid", name=f"hidden{index}"))
    model.add(keras.layers.Dense(classes, activation="softmax", name="class_probabilities"))
    return model


def initialise_from_stack(model, stack):
    """Copy each RBM's W and hidden biases c into the matching Dense layer (the recognition weights)."""
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden")]
    if len(hidden) != len(stack):
        raise ValueError(f"the classifier has {len(hidden)} hidden layers, the stack {len(stack)} RBMs")
    for layer, rbm in zip(hidden, stack):
        layer.set_weights([np.asarray(rbm.W), np.asarray(rbm.c)])
    return model


def labelled_subset(labels, per_class=LABELS_PER_CLASS, seed=0):
    """Indices of ``per_class`` examples of each class, chosen with ``seed`` (:func:`genlab.data.balanced_subset`)."""
    from genlab import data

    return data.balanced_subset(labels, per_class, seed)


def fine_tune(model, x, y, steps, seed):
    """Supervised backpropagation through the whole network (``steps`` full-batch Adam steps); returns the model."""
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(FINE_TUNE_LEARNING_RATE),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # One "epoch" of `steps` steps on the repeated full batch: fit's per-epoch overhead, paid once.
    model.fit(tf.data.Dataset.from_tensors((x, y)).repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    return model


def dbn_experiment(seed, mode=None, dataset="mnist"):
    """Test accuracy with and without pre-training, for one seed (labels, pre-training and initialisation)."""
    from genlab import config, data

    (x_train, y_train), (x_test, y_test) = data.load(dataset, mode=config.check_mode(mode))
    train01, test01 = binarize(x_train), binarize(x_test)
    labelled = labelled_subset(y_train, seed=seed)
    steps = config.pick(**FINE_TUNE_STEPS, mode=mode)
    keras.utils.set_random_seed(seed)
    stack = pretrain_stack(train01, iterations=config.pick(**DBN_PRETRAIN_ITERATIONS, mode=mode), seed=seed)
    accuracy = {}
    for label, use_stack in (("pre-trained", True), ("from scratch", False)):
        keras.utils.set_random_seed(seed)
        model = build_dbn_classifier()
        if use_stack:
            initialise_from_stack(model, stack)
        fine_tune(model, train01[labelled], y_train[labelled], steps, seed)
        accuracy[label] = float(model.evaluate(test01, y_test, verbose=0)[1])
    return accuracy


def pretraining_table(seeds, mode=None, dataset="mnist"):
    """:func:`dbn_experiment` over ``seeds``: per-seed accuracies, means and standard deviations."""
    rows = [{"seed": int(seed), **dbn_experiment(seed, mode, dataset)} for seed in seeds]
    summary = {label: {"mean": round(float(np.mean([row[label] for row in rows])), 4),
                       "std": round(float(np.std([row[label] for row in rows], ddof=1)), 4) if len(rows) > 1 else 0.0}
               for label in ("pre-trained", "from scratch")}
    wins = sum(row["pre-trained"] > row["from scratch"] for row in rows)
    return {"rows": rows, "summary": summary, "pre-trained wins": f"{wins} of {len(rows)} seeds"}


def main(argv=None):
    """``python -m genlab.models.rbm dbn-table [--mode full] [--seeds ...] [--out PATH]``."""
    import argparse
    import datetime
    import pathlib
    import sys
    import time

    from genlab import config, paths

    parser = argparse.ArgumentParser(description="DBN test accuracy with and without pre-training, over seeds")
    parser.add_argument("what", choices=["dbn-table"])
    parser.add_argument("--mode", default="full", choices=config.MODES)
    parser.add_argument("--seeds", type=int, nargs="*", default=None)
    parser.add_argument("--out", default=str(paths.DATA_DIR / "results" / "dbn_pretraining.json"))
    args = parser.parse_args(argv)
    seeds = args.seeds if args.seeds is not None else config.pick(**DBN_SEEDS, mode=args.mode)
    start = time.time()
    table = pretraining_table(seeds, args.mode)
    from genlab import data

    (x_train, _), (x_test, _) = data.load("mnist", mode=args.mode)
    table.update({
        "what": f"test accuracy on the {len(x_test):,} test digits of a {N_VISIBLE}-{'-'.join(map(str, DBN_LAYERS))}-10 "
                f"sigmoid network fine-tuned on {10 * LABELS_PER_CLASS} labelled digits, with and without "
                f"greedy RBM pre-training on the {len(x_train):,} unlabelled training digits",
        "data": {"train_images": len(x_train), "test_images": len(x_test), "source": data.last_source()},
        "mode": args.mode,
        "settings": {"pretrain_iterations": config.pick(**DBN_PRETRAIN_ITERATIONS, mode=args.mode),
                     "fine_tune_steps": config.pick(**FINE_TUNE_STEPS, mode=args.mode),
                     "layers": list(DBN_LAYERS), "labels_per_class": LABELS_PER_CLASS},
        "command": "python -m genlab.models.rbm " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds": round(time.time() - start),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "machine": config.machine(),
    })
    print(json.dumps(table["summary"]), table["pre-trained wins"])
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
