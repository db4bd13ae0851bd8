"""How much adapting to a writer's samples helps on that writer's other digits (issue 11).

For each pen validation writer (25-30, never in the shipped model's
training): teach the first K of each digit (in the file's order), adapt the
weights (`model.personal.adapt`, with the shipped replay set), and read that writer's
other digits. Prints, per K: shipped vs adapted accuracy on the other digits
(pooled over the writers), the share of errors cut (mean over writers and
pooled), MNIST test after adapting (mean and lowest), and two times from one
`adapt` call (issue 26): "weights s", from the call to the adapted weights
(what Adapt waits for before they are used), and "estimate s", from the call to
the fair estimate (the extra fold adaptations the dialog shows before/after
from, which run after the weights are handed over). "cpu s" is the process's
CPU time over all threads up to the weights: on a shared machine it says more
than the wall-clock time. The replay's kept activations are found or built
once before the first writer (the line above the table says which, and how
long it took); every adaptation after that reads them from memory, as the app
does after its first.

Run: ``python benchmarks/bench_adapt.py [--k 1,3,5] [--copies 40] [--iters 60] [--replay-rows 2000]
[--replay-copies 1] [--layers output|all]`` (defaults: the recipe of `model.personal.adapt`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (repo on sys.path, default data location)

from model.datasets import pendigits
from model.datasets.mnist import load_mnist  # noqa: E402
from model.datasets.replay import load_replay, replay_path  # noqa: E402
from model.net.weights import load_weights  # noqa: E402
from model.personal import adapt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def first_k(samples: list[pendigits.PenSample], k: int) -> tuple[list, list]:
    """(taught, rest): the first k samples of each digit in file order, and the others."""
    seen: dict[int, int] = {}
    taught, rest = [], []
    for s in samples:
        n = seen.get(s.label, 0)
        (taught if n < k else rest).append(s)
        seen[s.label] = n + 1
    return taught, rest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(ROOT / "weights"))
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA)")
    p.add_argument("--pen-data", help="pendigits folder (default: beside MNIST)")
    p.add_argument("--k", default="1,3,5", help="samples taught per digit (comma list)")
    p.add_argument("--writers", default="25,26,27,28,29,30")
    p.add_argument("--copies", type=int, default=adapt.COPIES)
    p.add_argument("--iters", type=int, default=adapt.ITERS)
    p.add_argument("--replay-rows", type=int, default=adapt.REPLAY_ROWS,
                   help="replay rows mixed in (spread evenly; default: all of them)")
    p.add_argument("--replay-copies", type=int, default=adapt.REPLAY_COPIES,
                   help="distorted copies of each replay row")
    p.add_argument("--layers", choices=("output", "all"), default=adapt.LAYERS,
                   help="fine-tune the output layer only, or every layer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-estimate", action="store_true", help="skip the fair-estimate folds")
    p.add_argument("--validation", action="store_true",
                   help="also print MNIST validation (the last 10,000 training images) after adapting")
    p.add_argument("--plain", action="store_true",
                   help="the issue's prototype recipe: decay towards zero and replay labels (keep=False)")
    p.add_argument("--app", action="store_true",
                   help="then adapt as the dialogs do (the last K): samples stored as ink, run_adapt, the "
                        "weights saved and switched to, timed to 'in use' and to the complete figures")
    args = p.parse_args()

    recipe = {"replay_rows": args.replay_rows, "replay_copies": args.replay_copies, "layers": args.layers}
    model = load_weights(args.weights)
    thetas = model  # one network or a committee: adapt and predict take the Model as it is
    replay = load_replay(replay_path(ROOT))
    test = load_mnist("test", args.data)
    if args.validation:
        train = load_mnist("train", args.data)
        Xv, yv = train.X[-10_000:], train.y[-10_000:]
        vals = []
    samples = pendigits.load(pendigits.find_pen_file(args.pen_data, args.data))
    writers = [int(w) for w in args.writers.split(",")]
    shipped_test = float(np.mean(adapt.predict(model, test.X) == test.y))
    print(f"weights {args.weights} ({model.describe()}); MNIST test {shipped_test:.4f}; "
          f"replay {len(replay.take(args.replay_rows))} rows + {args.replay_copies} copies of each; "
          f"layers {args.layers}; "
          f"copies {args.copies}; iterations {args.iters}; seed {args.seed}; "
          f"{'plain recipe' if args.plain else 'anchored + replay distilled'}")
    if args.layers == "output":
        t0 = time.perf_counter()
        nets = adapt.as_networks(model)
        _, source = adapt.kept_activations([(t[:-1], d) for t, d in nets], replay.take(args.replay_rows),
                                           args.replay_copies)
        print(f"kept activations of the replay rows: {source} in {time.perf_counter() - t0:.2f} s "
              f"({adapt.kept_dir()})")
    print(f"{'K':>2} {'writer':>6} {'taught':>6} {'other':>5} {'shipped':>8} {'adapted':>8} {'err cut':>8} "
          f"{'MNIST':>7} {'weights s':>9} {'cpu s':>6} {'estimate s':>10} {'est before/after':>17}")
    for k in [int(v) for v in args.k.split(",")]:
        rows = []
        for w in writers:
            mine = [s for s in samples if s.writer == w]
            taught, rest = first_k(mine, k)
            Xt, yt = pendigits.render_samples(taught)
            Xr, yr = pendigits.render_samples(rest)
            groups = np.array([sum(1 for u in taught[:i] if u.label == s.label)
                               for i, s in enumerate(taught)])
            before = float(np.mean(adapt.predict(thetas, Xr) == yr))
            ready: dict = {"t0": time.perf_counter(), "c0": time.process_time()}

            def on_weights(r, ready=ready) -> None:
                ready.update(secs=time.perf_counter() - ready["t0"], cpu=time.process_time() - ready["c0"])

            estimate = not args.no_estimate and k >= 2
            t0 = ready["t0"]
            res = adapt.adapt(thetas, Xt, yt.astype(np.int64), replay=replay, seed=args.seed,
                              groups=groups, base_meta=model.meta, iters=args.iters, copies=args.copies,
                              estimate=estimate, keep=not args.plain, on_weights=on_weights, **recipe)
            secs, cpu = ready["secs"], ready["cpu"]
            est_secs, est = float("nan"), ""
            if estimate:
                est_secs = time.perf_counter() - t0
                est = f"{res.before:.3f}/{res.after:.3f}"
            after = float(np.mean(adapt.predict(res.networks, Xr) == yr))
            mnist = float(np.mean(adapt.predict(res.networks, test.X) == test.y))
            if args.validation:
                vals.append(float(np.mean(adapt.predict(res.networks, Xv) == yv)))
            err_b, err_a = 1 - before, 1 - after
            cut = (err_b - err_a) / err_b if err_b > 0 else float("nan")
            rows.append((w, len(taught), len(rest), before, after, cut, mnist, secs, est_secs, cpu,
                         int(round(err_b * len(rest))), int(round(err_a * len(rest)))))
            print(f"{k:>2} {w:>6} {len(taught):>6} {len(rest):>5} {before:>8.4f} {after:>8.4f} "
                  f"{cut:>8.1%} {mnist:>7.4f} {secs:>9.2f} {cpu:>6.2f} {est_secs:>10.2f} {est:>17}",
                  flush=True)
        a = np.array([r[3:10] for r in rows], dtype=float)
        n_rest = sum(r[2] for r in rows)
        eb, ea = sum(r[10] for r in rows), sum(r[11] for r in rows)
        est_note = ("" if np.all(np.isnan(a[:, 5]))
                    else f"; estimate ready {np.nanmedian(a[:, 5]):.2f} s median")
        print(f"K={k} summary: other digits shipped {1 - eb / n_rest:.2%} -> adapted {1 - ea / n_rest:.2%} "
              f"({eb} -> {ea} errors of {n_rest}, pooled cut {(eb - ea) / max(eb, 1):.1%}, "
              f"mean cut over writers {np.nanmean(a[:, 2]):.1%}); "
              f"MNIST test after: mean {a[:, 3].mean():.2%}, lowest {a[:, 3].min():.2%}; "
              f"weights ready {np.median(a[:, 4]):.2f} s median, {a[:, 4].max():.2f} s max "
              f"(CPU {np.median(a[:, 6]):.2f} s median){est_note}", flush=True)
        if args.validation:
            print(f"K={k} MNIST validation after: mean {np.mean(vals[-len(rows):]):.2%}, "
                  f"lowest {np.min(vals[-len(rows):]):.2%}", flush=True)
    if args.app:
        app_path(model, samples, writers, int(args.k.split(",")[-1]), args.data)


def app_path(model, samples: list, writers: list[int], k: int, data: str | None) -> None:
    """Adapt as Teach / Adapt / Learn from corrections do: the first `k` of each digit stored as
    ink samples, `app.adapting.run_adapt` (the check set held out of the replay), and when it hands
    the weights over, `apply_adapted` + `adapted_model` + a `Recogniser` (what switching does).
    Prints the time from the start to the weights in use, the CPU time to then, and the time to the
    complete figures (fair estimate and MNIST test)."""
    import tempfile

    from app.adapting import apply_adapted, run_adapt
    from model.inputs.ink import Ink
    from model.personal.samples import SampleStore
    from model.recognise import Recogniser

    print(f"the app's path, K={k}: {'writer':>6} {'in use s':>9} {'cpu s':>6} {'figures s':>10}")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in writers:
            store = SampleStore(Path(tmp) / f"samples{w}")
            for s in first_k([s for s in samples if s.writer == w], k)[0]:
                store.add(Ink(s.strokes, *pendigits.CANVAS, 12), str(s.label))
            found, _ = store.load()
            box: dict = {"t0": time.perf_counter(), "c0": time.process_time()}

            def on_weights(o, w=w, box=box) -> None:
                Recogniser(adapt.adapted_model(apply_adapted(o, Path(tmp) / f"weights{w}"), o.result))
                box.update(secs=time.perf_counter() - box["t0"], cpu=time.process_time() - box["c0"])

            run_adapt(model, found, on_weights=on_weights, mnist_dir=data)
            total = time.perf_counter() - box["t0"]
            times.append((box["secs"], box["cpu"], total))
            print(f"{'':>20} {w:>6} {box['secs']:>9.2f} {box['cpu']:>6.2f} {total:>10.2f}", flush=True)
    a = np.array(times)
    print(f"the app's path, K={k}: weights in use {np.median(a[:, 0]):.2f} s median, "
          f"{a[:, 0].max():.2f} s max (CPU {np.median(a[:, 1]):.2f} s median); "
          f"all figures {np.median(a[:, 2]):.2f} s median", flush=True)


if __name__ == "__main__":
    main()
