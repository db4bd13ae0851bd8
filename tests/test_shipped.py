"""The shipped weights, through the same code path as `digitpad evaluate`."""

from model.evaluate import evaluate


def test_shipped_weights_reach_98_percent_on_mnist_test(shipped, mnist_test):
    report = evaluate(shipped.thetas, mnist_test.X, mnist_test.y)
    print(f"shipped {shipped.layout}: MNIST test accuracy {report['accuracy']:.4f}")
    assert report["accuracy"] >= 0.980
    # model.json records what the same command prints.
    assert abs(shipped.meta["test_accuracy"] - report["accuracy"]) < 1e-9
    assert shipped.meta["command"].startswith("digitpad train")
