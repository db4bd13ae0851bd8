"""The shipped weights, through the same code path as `digitpad evaluate` and the app."""

import re

import numpy as np
from conftest import ROOT

from model.evaluate import report
from model.recognise import Recogniser


def test_shipped_accuracy_is_what_model_json_and_readme_say(shipped, mnist_test):
    probs = Recogniser(shipped).classify(mnist_test.X)
    result = report(mnist_test.y, probs.argmax(axis=1))
    print(f"shipped {shipped.describe()}: MNIST test accuracy {result['accuracy']:.4f}")
    assert result["accuracy"] >= 0.980
    # model.json records what the same command prints, exactly.
    assert shipped.meta["test_accuracy"] == result["accuracy"]
    assert shipped.meta["command"].startswith("digitpad train")
    # README's table quotes the same figure.
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| MNIST test set, 10,000 images"))
    quoted = float(re.search(r"\*\*([\d.]+)%\*\*", row).group(1))
    assert quoted == round(100 * result["accuracy"], 2)


def test_every_committee_member_is_used(shipped, mnist_test):
    """The shipped answer is the mean over all its networks; dropping any one changes answers."""
    X = mnist_test.X[:3000]
    probs = Recogniser(shipped).classify(X)
    singles = [Recogniser(n).classify(X) for n in shipped.networks]
    np.testing.assert_allclose(probs, np.mean(singles, axis=0), rtol=1e-9)
    if len(singles) > 1:
        for i in range(len(singles)):
            rest = np.mean([p for j, p in enumerate(singles) if j != i], axis=0)
            assert not np.allclose(rest, probs, atol=1e-3)
