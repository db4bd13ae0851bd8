"""The samples store (model/personal/samples.py) and safe JSON reading, with real files on disk.

Bad inputs must give one line naming the file, never a traceback, and never
cost a sample that was already stored.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.errors import InputError, WeightsError
from model.fileio import read_json
from model.inputs.ink import Ink, load_ink
from model.personal import samples
from model.personal.samples import SampleStore, count_digits, training_arrays
from tests.conftest import run_cli

NESTED = "[" * 100_000 + "]" * 100_000


def one(x: float = 100.0) -> Ink:
    """A drawing of a single vertical stroke (a 1)."""
    return Ink([np.array([[x, 40.0], [x + 2, 100.0], [x + 4, 180.0]])], 560, 320, 12)


def two_digits() -> Ink:
    """Two separate digits side by side: a 1 and a 7."""
    return Ink([np.array([[100.0, 40], [100, 180]]),
                np.array([[200.0, 40], [280, 40], [230, 180]])], 560, 320, 12)


def test_add_load_round_trip(tmp_path):
    store = SampleStore(tmp_path / "samples")
    a = store.add(one(), "1", count_digits, source="teach")
    b = store.add(two_digits(), "17", count_digits)
    raw = json.loads(a.path.read_text())
    assert raw["label"] == "1" and raw["source"] == "teach" and "created" in raw and raw["strokes"]
    assert load_ink(a.path).strokes[0].shape == (3, 2)  # still a valid ink file
    got, warnings = store.load()
    assert warnings == []
    assert [s.label for s in got] == ["1", "17"] and got[0].created <= got[1].created
    assert {s.path for s in got} == {a.path, b.path}
    X, y, g = training_arrays(got)
    assert X.shape == (3, 784) and X.dtype == np.float32 and list(y) == [1, 1, 7]
    assert list(g) == [0, 0, 0]


def test_groups_are_rounds(tmp_path):
    store = SampleStore(tmp_path)
    for _ in range(3):
        for label in "01":
            store.add(one(), label)
    X, y, g = training_arrays(store.load()[0])
    assert list(y) == [0, 1, 0, 1, 0, 1] and list(g) == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("label", ["", "x", "1a", 7, None, "١"])
def test_bad_labels_refused(tmp_path, label):
    store = SampleStore(tmp_path)
    with pytest.raises(InputError, match="label must be a string of digits"):
        store.add(one(), label)
    assert list(tmp_path.iterdir()) == []


def test_mislabelled_refused_with_counts(tmp_path):
    store = SampleStore(tmp_path)
    with pytest.raises(InputError) as e:
        store.add(one(), "12", count_digits)
    assert str(e.value) == 'label "12" has 2 digits but the drawing has 1'
    with pytest.raises(InputError, match="empty"):
        store.add(Ink([], 560, 320), "1")
    assert list(tmp_path.iterdir()) == []


def test_bad_files_skipped_with_one_line_each(tmp_path):
    store = SampleStore(tmp_path)
    good = store.add(one(), "1")
    (tmp_path / "nested.json").write_text(NESTED)
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "corrupt.json").write_bytes(b'{"strokes": [[[1, 2]')
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "unlabelled.json").write_text(json.dumps(one().to_json()))
    (tmp_path / "badlabel.json").write_text(json.dumps({**one().to_json(), "label": "seven"}))
    (tmp_path / "foreign.json").write_text(json.dumps({"hello": "world"}))
    (tmp_path / "noink.json").write_text(json.dumps({"strokes": [], "label": "3"}))
    (tmp_path / "notes.txt").write_text("not a sample")
    got, warnings = store.load()
    assert [s.path for s in got] == [good.path]
    assert len(warnings) == 8
    for w in warnings:
        assert "\n" not in w and str(tmp_path) in w
    text = "\n".join(warnings)
    for name, why in [("nested", "nested too deeply"), ("empty", "empty file"), ("corrupt", "not valid JSON"),
                      ("binary", "not UTF-8"), ("unlabelled", 'no "label"'), ("badlabel", "label must be"),
                      ("foreign", '"strokes" list'), ("noink", "drawing is empty")]:
        assert f"{name}.json: " in text and why in [w for w in warnings if f"{name}.json" in w][0]
    # Clearing removes only the real samples; the user's other files stay.
    assert store.clear() == 1
    assert len(list(tmp_path.iterdir())) == 9


def test_unwritable_folder_is_one_line_and_nothing_lost(tmp_path):
    # Tests run as root, where a chmod'ed folder is still writable; a samples
    # "folder" whose parent is a regular file cannot be created by anyone.
    blocker = tmp_path / "home"
    blocker.write_text("a file where the data folder should be")
    store = SampleStore(samples.samples_dir(blocker))
    with pytest.raises(InputError) as e:
        store.add(one(), "1")
    msg = str(e.value)
    assert "\n" not in msg and str(blocker) in msg and "cannot save the sample" in msg
    assert blocker.read_text() == "a file where the data folder should be"
    assert store.load()[0] == []
    # A folder that exists but whose sample file cannot be replaced: relabel keeps the old file.
    ok = SampleStore(tmp_path / "ok")
    s = ok.add(one(), "1")
    s.path.unlink()
    s.path.mkdir()  # a folder now stands where the file was: os.replace cannot put a file there
    with pytest.raises(InputError, match="cannot save the sample"):
        ok.relabel(s, "7")
    assert s.path.is_dir() and not [p for p in (tmp_path / "ok").iterdir() if p.name.endswith(".tmp")]


def test_relabel_delete_export_import(tmp_path):
    store = SampleStore(tmp_path / "a")
    s1 = store.add(one(), "1")
    s2 = store.add(two_digits(), "17")
    s1b = store.relabel(s1, "7")
    assert s1b.path == s1.path and s1b.created == s1.created
    assert json.loads(s1.path.read_text())["label"] == "7"
    assert store.export_to(tmp_path / "backup") == 2
    other = SampleStore(tmp_path / "b")
    other.add(two_digits(), "17")  # already there: the import must skip it
    (tmp_path / "backup" / "junk.json").write_text("{")
    added, warnings = other.import_from(tmp_path / "backup")
    assert added == 1
    assert len(warnings) == 2 and any("already among your samples" in w for w in warnings)
    assert any("junk.json" in w for w in warnings)
    assert sorted(s.label for s in other.load()[0]) == ["17", "7"]
    store.delete(s2)
    store.delete(s2)  # already gone: fine
    assert [s.label for s in store.load()[0]] == ["7"]


def test_samples_dir_follows_digitpad_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path))
    assert samples.samples_dir() == tmp_path / "samples"
    from app import paths

    assert paths.user_data_dir() == tmp_path


def test_read_json_nested_and_weights_meta(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text(NESTED)
    with pytest.raises(InputError, match="deep.json: .*nested too deeply"):
        read_json(p)
    import shutil

    from model.net.weights import load_weights
    from tests.conftest import WEIGHTS

    w = tmp_path / "w"
    shutil.copytree(WEIGHTS, w)
    (w / "model.json").write_text(NESTED)
    with pytest.raises(WeightsError, match="model.json: .*nested too deeply"):
        load_weights(w, use_cache=False)


def test_predict_survives_nested_brackets(tmp_path):
    nested = tmp_path / "nested.json"
    nested.write_text(NESTED)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(one().to_json()))
    r = run_cli("predict", str(nested), str(good), timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines == [f"digitpad: error: {nested}: not a usable JSON file (nested too deeply)"]
    assert r.stdout.startswith(f"{good}\t1\t")
