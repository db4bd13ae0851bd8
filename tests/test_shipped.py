"""The shipped weights, through the same code path as `digitpad evaluate` and the app."""

import json
import re

import numpy as np
from conftest import ROOT

from model.evaluate import report
from model.recognise import Recogniser


def test_shipped_accuracy_is_what_model_json_and_the_docs_say(shipped, mnist_test):
    probs = Recogniser(shipped).classify(mnist_test.X)
    result = report(mnist_test.y, probs.argmax(axis=1))
    print(f"shipped {shipped.describe()}: MNIST test accuracy {result['accuracy']:.4f}")
    assert result["accuracy"] >= 0.980
    # model.json records what the same command prints, exactly.
    assert shipped.meta["test_accuracy"] == result["accuracy"]
    assert shipped.meta["command"].startswith("digitpad train")
    # README's accuracy table and docs/measurements.md quote the same figure (in bold).
    for page in (ROOT / "README.md", ROOT / "docs" / "measurements.md"):
        quoted = _quoted(page, "| MNIST test set, 10,000 images")
        assert quoted == round(100 * result["accuracy"], 2), page.name


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


def _quoted(page, prefix):
    """The bold percentage of the one table row of `page` that starts with `prefix`."""
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)]
    assert len(rows) == 1, f"{page.name}: expected one row starting {prefix!r}, found {len(rows)}"
    return float(re.search(r"\*\*([\d.]+)%\*\*", rows[0]).group(1))


def test_pen_and_scan_figures_are_what_model_json_records():
    """README and docs/measurements.md quote what `benchmarks/accuracy.py --write` recorded."""
    meta = json.loads((ROOT / "weights" / "model.json").read_text(encoding="utf-8"))
    for page, pen_row, scan_row in (
            (ROOT / "README.md", "| pen digits of 6 writers", "| scans: USPS digits"),
            (ROOT / "docs" / "measurements.md", "| pen digits by the 6 held-out writers",
             "| USPS digits rendered as 96x96")):
        assert _quoted(page, pen_row) == round(100 * meta["pen_holdout_accuracy"], 2), page.name
        assert _quoted(page, scan_row) == round(100 * meta["usps_scan_accuracy"], 2), page.name
