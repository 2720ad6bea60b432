"""Train the small MNIST (or Fashion-MNIST) classifier used as genlab's feature extractor.

Offline (default) it trains on the shipped 4,000-digit train split of
data/mnist_5k.npz and tests on its 1,000 held-out digits (target >= 96 %);
``--source keras`` retrains on full MNIST (60,000 / 10,000; target >= 99 %).
Writes data/mnist_classifier.weights.h5 and data/mnist_classifier.json (SHA-256,
accuracy, provenance). The model and training code live in genlab.features.

    python scripts/train_classifier.py [--source shipped|keras] [--epochs 15] [--seed 0]
    python scripts/train_classifier.py --dataset fashion_mnist   # online only; cached
"""

import argparse
import datetime
import sys
import time

from genlab import data
from genlab.models import classifier

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    parser.add_argument("--source", choices=("shipped", "keras"), default="shipped",
                        help="MNIST only: the shipped 5k subset or full MNIST via Keras")
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 shipped, 10 full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-accuracy", type=float, default=None,
                        help="fail below this test accuracy (default 0.96 shipped, 0.99 full MNIST)")
    args = parser.parse_args(argv)

    if args.dataset == "mnist":
        (x_train, y_train), (x_test, y_test) = data.load_mnist(source=args.source)
        full = args.source == "keras"
        trained_on = "MNIST train (60,000)" if full else "data/mnist_5k.npz train split (4,000 digits)"
        tested_on = "MNIST test (10,000)" if full else "data/mnist_5k.npz held-out split (1,000 digits)"
        minimum = args.min_accuracy if args.min_accuracy is not None else (0.99 if full else 0.96)
    else:
        (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
        full, trained_on, tested_on = True, "Fashion-MNIST train (60,000)", "Fashion-MNIST test (10,000)"
        minimum = args.min_accuracy if args.min_accuracy is not None else 0.88
    epochs = args.epochs or (10 if full else 30)

    start = time.time()
    model, accuracy = classifier.train(x_train, y_train, x_test, y_test,
                                       epochs=epochs, seed=args.seed, verbose=2)
    seconds = time.time() - start
    print(f"test accuracy {accuracy:.4f} on {tested_on} ({seconds:.0f} s)")
    if accuracy < minimum:
        print(f"FAILED: accuracy {accuracy:.4f} < {minimum}; weights not written", file=sys.stderr)
        return 1
    record = classifier.save(model, args.dataset, accuracy, {
        "trained_on": trained_on, "tested_on": tested_on, "epochs": epochs, "seed": args.seed,
        "command": "python scripts/train_classifier.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.date.today().isoformat(), "train_seconds": round(seconds),
    })
    print(f"wrote {classifier.weights_paths(args.dataset)[0]} ({record['params']:,} parameters, "
          f"SHA-256 {record['sha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
