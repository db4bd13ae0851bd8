"""`digitpad predict` end to end on the inputs people give it: scans, photos, ink files, bad files.

Each test runs the real command in a subprocess (`run_cli`), as a user would.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import USPS_FILE, bench_numbers, run_cli
from PIL import Image

bench = bench_numbers()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, pen_samples):
    """Good and bad input files, written once: {name: (path, expected digits or None)}."""
    d = tmp_path_factory.mktemp("inputs")
    X, y = bench.load_usps(USPS_FILE)
    rng = np.random.default_rng(31)
    files = {}

    # A scanned row of digits, dark on light (PNG), and the same as a light-on-dark colour JPEG.
    grey, text = bench.usps_row(X, y, rng, 4, bench.ScanStyle(gradient=0.4, noise=0.04))
    Image.fromarray(grey).save(d / "row.png")
    files["row.png"] = (d / "row.png", text)
    g = 1.0 - grey.astype(np.float32) / 255.0
    rgb = np.stack([0.9 * g, 0.8 * g + 0.1, 0.2 + 0.5 * g], axis=-1)
    Image.fromarray((rgb * 255).astype(np.uint8), mode="RGB").save(d / "negative.jpg", quality=85)
    files["negative.jpg"] = (d / "negative.jpg", text)

    # A number written with the pen (real strokes of held-out writers) as an ink file.
    held = [s for s in pen_samples if s.writer in bench.HOLDOUT_WRITERS]
    strokes, number, _ = bench.pen_number(held, rng, 3)
    (d / "number.json").write_text(json.dumps(
        {"width": 560, "height": 320, "strokes": [s.tolist() for s in strokes]}))
    files["number.json"] = (d / "number.json", number)

    # Bad inputs.
    Image.new("L", (300, 200), 255).save(d / "blank.png")
    files["blank.png"] = (d / "blank.png", None)
    Image.new("1", (20000, 20000)).save(d / "huge.png")  # declares 400 megapixels, ~50 kB on disk
    files["huge.png"] = (d / "huge.png", None)
    data = (d / "row.png").read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 3])
    files["truncated.png"] = (d / "truncated.png", None)
    (d / "notes.png").write_text("shopping list: eggs, milk\n")
    files["notes.png"] = (d / "notes.png", None)
    files["missing.png"] = (d / "missing.png", None)
    return files


def test_bad_inputs_get_one_line_each_and_the_rest_are_answered(inputs):
    order = ["row.png", "notes.png", "blank.png", "number.json", "huge.png", "truncated.png",
             "missing.png", "negative.jpg"]
    proc = run_cli("predict", *[str(inputs[n][0]) for n in order])
    print("\n" + proc.stdout + proc.stderr)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout

    # Every readable file is answered, in order, as PATH<TAB>DIGITS<TAB>CONFIDENCE.
    good = [n for n in order if inputs[n][1] is not None]
    lines = proc.stdout.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == [str(inputs[n][0]) for n in good]
    for n, ln in zip(good, lines, strict=True):
        path, digits, confidence = ln.split("\t")
        assert digits.isdigit() and len(digits) == len(inputs[n][1]), ln
        assert 0.0 <= float(confidence) <= 1.0

    # Every bad file gets exactly one line on stderr that names it and says what is wrong.
    errors = proc.stderr.splitlines()
    bad = [n for n in order if inputs[n][1] is None]
    assert len(errors) == len(bad), errors
    reasons = {"notes.png": "not an image", "blank.png": "nothing to recognise",
               "huge.png": "too large", "truncated.png": "cannot read image",
               "missing.png": "no such file"}
    for n, line in zip(bad, errors, strict=True):
        assert line.startswith(f"digitpad: error: {inputs[n][0]}: "), line
        assert reasons[n] in line, line


def test_scans_and_ink_are_read(inputs):
    names = ["row.png", "negative.jpg", "number.json"]
    proc = run_cli("predict", *[str(inputs[n][0]) for n in names])
    assert proc.returncode == 0, proc.stderr
    got = {ln.split("\t")[0]: ln.split("\t")[1] for ln in proc.stdout.splitlines()}
    right = {n: got[str(inputs[n][0])] == inputs[n][1] for n in names}
    print(f"\npredict: {right}")
    assert right["row.png"] and right["negative.jpg"]
    assert len(got[str(inputs["number.json"][0])]) == len(inputs["number.json"][1])


def test_json_output_has_per_digit_probabilities_and_boxes(inputs):
    path, text = inputs["row.png"]
    proc = run_cli("predict", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["path"] == str(path)
    assert out["digits"] == "".join(str(d["digit"]) for d in out["per_digit"])
    assert len(out["per_digit"]) == len(text)
    assert out["confidence"] == pytest.approx(min(d["confidence"] for d in out["per_digit"]), abs=1e-6)
    width, height = Image.open(path).size
    lefts = []
    for d in out["per_digit"]:
        assert len(d["probabilities"]) == 10 and sum(d["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        x0, y0, x1, y1 = d["box"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        lefts.append(x0)
    assert lefts == sorted(lefts)
