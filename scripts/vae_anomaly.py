"""Record the shipped anomaly VAE's ROC AUC on the 10,000 test digits (notebook 02, "Anomaly detection").

The section plan says a VAE trained on normal data flags anomalies by their reconstruction
error. Notebook 02 measures that in its own run; this script records it for the claims table:
the shipped ``vae_mnist`` anomaly model (a small VAE trained on the digits
``vae.NORMAL_DIGITS`` only) scores every binarized test digit by its reconstruction error
-log p(x | z = mu) and by its negative ELBO; the ROC AUC (Mann-Whitney U / (n1 n2), ties half,
as in the notebook) of normal against the other digits, the AUC of each held-out digit against
the normal ones, and each digit's mean error are written to ``vae_anomaly.json`` in
data/results, with the weights' SHA-256.

    python scripts/vae_anomaly.py
"""

import sys

import numpy as np
from scipy import stats

from genlab import config, data, paths, pretrained, runs
from genlab.models import vae

OUTPUT = paths.REPO_ROOT / "data" / "results" / "vae_anomaly.json"


def roc_auc(normal_scores, anomaly_scores):
    """P(an anomaly scores higher than a normal digit), ties counted half."""
    u = stats.mannwhitneyu(anomaly_scores, normal_scores, alternative="two-sided").statistic
    return float(u / (len(anomaly_scores) * len(normal_scores)))


def main():
    _, (x_test, y_test) = data.load_binarized_mnist(mode="full")
    images = vae.as_input(x_test)
    detector = pretrained.load("vae_mnist").anomaly
    mean, _ = detector.encoder.predict(images, verbose=0)
    errors = np.asarray(vae.reconstruction_loss(images, detector.decoder.predict(mean, verbose=0)), "float64")
    config.seed_everything(vae.SEED)
    negative_elbo = -vae.elbo(detector, images)
    normal = np.isin(y_test, vae.NORMAL_DIGITS)
    record = {
        "what": "the shipped anomaly VAE (trained on the digits NORMAL_DIGITS only): ROC AUC on the 10,000 binarized test digits",
        "command": "python scripts/vae_anomaly.py", "weights_sha256": pretrained.info("vae_mnist")["sha256"],
        "normal_digits": list(vae.NORMAL_DIGITS), "n_normal": int(normal.sum()), "n_anomalies": int((~normal).sum()),
        "auc": {"reconstruction error": round(roc_auc(errors[normal], errors[~normal]), 4),
                "negative ELBO": round(roc_auc(negative_elbo[normal], negative_elbo[~normal]), 4)},
        "auc_per_held_out_digit": {str(d): round(roc_auc(errors[normal], errors[y_test == d]), 4)
                                   for d in range(10) if d not in vae.NORMAL_DIGITS},
        "mean_error_nats": {str(d): round(float(errors[y_test == d].mean()), 2) for d in range(10)},
    }
    runs.save_results(OUTPUT, record, config.machine())
    print(record["auc"], record["auc_per_held_out_digit"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
