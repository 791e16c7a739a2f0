"""Measures this engine's 3x3 (and 1x1 stride-2) convolution paths on a grid of layers and fits the cost model
behind algo="auto" (csrc/conv/conv-cost.cc).

    python bench/fit_cost_model.py            # measure, write bench/cost_model_data.csv, fit
    python bench/fit_cost_model.py --append   # measure, add to the CSV's rows (several runs pooled), fit
    python bench/fit_cost_model.py --fit-only # refit from the CSV (it may hold several runs' rows)
    python bench/fit_cost_model.py --only direct  # re-measure one algorithm (a changed kernel), refit

Model (per image, seconds): each algorithm's time is linear in a few work counts,
    im2col:   a_gemm * 2 Kp Np D         + a_pack * D HW                                + a_call
    implicit: i_gemm * 2 Kp Nw D     + i_tile * Kp Nw / (MR NR) + i_elem * |P|              + i_call
    implicit_t: t_gemm * 2 Mp Kc D   + t_tile * Mp Kc / (MR NR) ceil(D / KC) + t_elem * |Pt| + t_call
    direct:   d_flop * 2 K16 O D (strides up to 4; beyond, never picked) + d_step * tiles D + d_elem * copied + d_call
    winograd: b_gemm[v] * alpha^2 2 Kp Tp C + b_in[v] * alpha^3 C T + b_out[v] * alpha^3 K T + b_call * alpha^2
(v the variant: its GEMM blocks and the register pressure of its alpha x alpha tile differ) with Kp = K rounded up to the GEMM's MR, Np / Tp = output pixels / tiles rounded up to NR,
D = ks^2 C, T = tiles, Nw the implicit GEMM's widened columns ((H-1)(W+1) + W, rounded up to NR),
|P| = C (H+2)(W+1) its padded input (C (H/2+1)(W/2+1) x 4 phase planes at stride 2); per tile: the
wrapped store and per-row offsets; implicit_t (the transposed product) computes output pixels
rounded up to MR rows (Mp) by K in whole vectors (Kc) from its channels-last copy
|Pt| = C (Hp)(Wp) of the rows and columns the taps read (every stride-th for a 1-wide kernel); per tile and k block: its transposed
store (a read-modify-write of C from the second k block on, 8 floats per channel). Stride-2 layers
(3x3, and 1x1 as ResNet's downsampling projections) are measured for the GEMM paths only (a
feature for a k block's rows spread over the four planes was tried: fitted to 0, the elements of
the larger P carry it). Coefficients are fitted by least squares on relative error (each
row divided by its measured time), so small and large layers count alike. Times are
thread CPU time of single-threaded runs (min of repeats): robust to other processes on
a shared machine, and the ranking between algorithms is what the chooser needs.
The fitted constants are printed as C++ to paste into conv-cost.cc. (choose_conv_algo also keeps
1x1 layers that widen the channels off the direct kernel, a rule from runs beside onnxruntime that
the pick statistics below do not apply.) The chooser prefers
F(4x4) over F(6x6) unless F(6x6) is modelled F6_MARGIN faster (its error is ~3x larger);
the pick statistics below apply the same rule.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
import fastconv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ALGOS = ["im2col", "implicit", "implicit_t", "direct", "winograd_2x2", "winograd_3x3", "winograd_4x4", "winograd_6x6"]
GEMM_ALGOS = ["im2col", "implicit", "implicit_t", "direct"]  # what stride-2 layers are measured with
POINTWISE_ALGOS = ["pointwise", "pointwise_t", "direct"]  # and 1x1 stride-1 ones
# The cost terms, in conv-cost.cc's order (FC_COST_TERMS in conv-registry.h).
NAMES = [name for name, _ in fastconv._C.cost_coefficients("generic")]


def csv_path(isa):
    """Each ISA level's measurements: its own tiles, rates and fitted row."""
    return os.path.join(HERE, f"cost_model_data_{isa}.csv")


def blocking(isa):
    """(MR, NR, KC): the tile and depth block the model of an ISA level is fitted for."""
    b = fastconv._C.gemm_blocking(isa)
    return b["mr"], b["nr"], b["kc"]


def grid():
    """(C, K, H = W, stride, kernel, padding): the 3x3 stride-1 layers every algorithm runs, and
    for the GEMM paths (Winograd cannot run them) stride-2 ones (3x3, and 1x1 projections) and
    the stems of ResNet (7x7/2) and AlexNet (11x11/4)."""
    for c, k in [(16, 16), (32, 32), (64, 64), (128, 128), (256, 256), (512, 512), (64, 128), (256, 64), (3, 64)]:
        for hw in [7, 14, 28, 56, 112, 224]:
            if c * k * hw * hw * 9 * 2 > 4e9:  # keep a run under ~40 ms
                continue
            yield c, k, hw, 1, 3, 1
    for c, k in [(64, 64), (128, 128), (256, 256), (512, 512), (64, 128), (256, 64)]:
        for hw in [14, 28, 56, 112]:
            if c * k * hw * hw * 9 * 2 / 4 > 4e9:
                continue
            yield c, k, hw, 2, 3, 1
    for c, k in [(256, 512), (512, 1024), (1024, 2048), (64, 256), (128, 128)]:
        for hw in [14, 28, 56]:
            if c * k * hw * hw * 2 / 4 > 1e9:
                continue
            yield c, k, hw, 2, 1, 0
    yield 3, 64, 224, 2, 7, 3
    yield 3, 96, 227, 4, 11, 0
    # 1x1 stride-1 layers (ResNet-50's and SqueezeNet's), for the pointwise products and direct
    for c, k, hw in [(64, 256, 56), (256, 64, 56), (128, 512, 28), (512, 128, 28), (256, 1024, 14), (1024, 256, 14),
                     (512, 2048, 7), (2048, 512, 7), (16, 64, 55), (64, 16, 55), (32, 128, 27), (48, 192, 13)]:
        yield c, k, hw, 1, 1, 0


def measure(isa, repeats, append, only=None):
    fastconv.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    for c, k, hw, stride, ks, pad in grid():
        # direct on strided 1x1 layers: auto leaves those to the GEMM paths (choose_conv_algo)
        pool = POINTWISE_ALGOS if ks == 1 and stride == 1 else ALGOS if stride == 1 else GEMM_ALGOS
        algos = [a for a in pool if (a != "direct" or ks > 1 or stride == 1) and (not only or a in only)]
        if not algos:
            continue
        x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
        wt = (rng.standard_normal((k, c, ks, ks)) * np.sqrt(2 / (ks * ks * c))).astype(np.float32)
        with fastconv.use_isa(isa):  # a plan keeps the ISA level it was built with
            plans = {a: fastconv.ConvPlan(wt, stride=stride, padding=pad, algo=a) for a in algos}
        o = (hw + 2 * pad - ks) // stride + 1
        out = np.empty((1, k, o, o), np.float32)
        times = {a: [] for a in algos}
        for _ in range(repeats + 1):  # the first round is the warm-up
            for a, p in plans.items():
                t = time.thread_time()
                p(x, out=out)
                times[a].append(time.thread_time() - t)
        for a in algos:
            rows.append({"algo": a, "c": c, "k": k, "hw": hw, "stride": stride, "ks": ks, "pad": pad, "seconds": min(times[a][1:])})
        print(c, k, hw, stride, ks, pad, " ".join(f"{a}={min(times[a][1:]) * 1e3:.3f}ms" for a in algos), flush=True)
    old = []
    if append or only:
        with open(csv_path(isa)) as f:
            old = list(csv.DictReader(f))
        if only:  # this run's rows replace those of the algorithms it measured
            old = [r for r in old if r["algo"] not in only]
    with open(csv_path(isa), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(old + rows)
    return old + rows


def up(x, m):
    return -(-x // m) * m


def padded_cols(n, nr):
    """Columns computed for n: whole NR panels, the edge panel in whole vectors (NR / 2)."""
    return n // nr * nr + up(n % nr, nr // 2)


def padded_rows(m, isa, a_per_call=False):
    """(rows, MR): the tile rows an m-row product costs and the tile height it runs, as the GEMM
    driver chooses them (gemm_padded_rows in csrc/gemm/gemm-config.cc; a_per_call: positions as
    rows, which may run a rows variant)."""
    return fastconv._C.gemm_padded_rows(isa, m, a_per_call)


def features(algo, c, k, hw, stride=1, ks=3, pad=None, isa="avx512"):
    """The work counts of conv_cost() in csrc/conv/conv-cost.cc (keep the two in step), by the
    name of the coefficient each is multiplied by (NAMES below)."""
    MR, NR, KC = blocking(isa)
    pad = ks // 2 if pad is None else pad
    o = (hw + 2 * pad - ks) // stride + 1
    d = ks * ks * c
    if algo == "im2col":
        n = o * o
        return {"kIm2colPerGemmFlop": 2 * padded_rows(k, isa)[0] * padded_cols(n, NR) * d, "kIm2colPerElem": d * n,
                "kIm2colPerCall": 1}
    if algo in ("pointwise", "pointwise_t"):
        # the im2col GEMM on the input itself; transposed: positions as rows, TRANSPOSED_SLOWDOWN
        n = o * o
        flops = (2 * padded_rows(n, isa, True)[0] * padded_cols(k, NR) * d * TRANSPOSED_SLOWDOWN if algo == "pointwise_t"
                 else 2 * padded_rows(k, isa)[0] * padded_cols(n, NR) * d)
        return {"kIm2colPerGemmFlop": flops, "kIm2colPerCall": 1}
    if algo == "implicit":
        # implicit-geometry.h: at stride 1 rows share a pad column; at stride 2 a 3x3 kernel's
        # taps fall in four phase planes, a 1x1 kernel's in one (the subsampled input)
        if stride == 1:  # (the grid's stride-1 layers are 3x3 with padding 1)
            wq, hq, planes = hw + pad, o + ks - 1, 1
        else:
            phases = len({r % stride for r in range(ks)})
            wq = hq = o + (ks - 1) // stride
            planes = phases * phases
        cols = padded_cols((o - 1) * wq + o, NR)
        rows = padded_rows(k, isa)[0]
        return {"kImplicitPerGemmFlop": 2 * rows * cols * d, "kImplicitPerTile": rows * cols / (MR * NR),
                "kImplicitPerElem": c * planes * hq * wq, "kImplicitPerCall": 1}
    if algo == "implicit_t":
        # ChannelsLastCopy (implicit-geometry.h): the rows (columns) the taps read; a 1-wide
        # kernel keeps only every stride-th one
        side = o if ks == 1 else (o - 1) * stride + ks
        prows, pmr = padded_rows(o * o, isa, True)
        rows = prows * padded_cols(k, NR)
        return {"kImplicitTPerGemmFlop": 2 * rows * d, "kImplicitTPerTile": rows / (pmr * NR) * -(-d // KC),
                "kImplicitTPerElem": c * side * side, "kImplicitTPerCall": 1}
    if algo == "direct":
        # conv-direct.cc: output channels in whole blocks (strides up to 4, the kernel's
        # multi-position tiles; auto never picks it beyond); copies: a padded layer's padded
        # input (a strided 1x1 layer's subsample), the output from blocked to NCHW
        flops = 2 * up(k, 16) * o * o * d
        copied = k * o * o + (c * (hw + 2 * pad) ** 2 if pad and ks > 1 else c * o * o if ks == 1 and stride > 1 else 0)
        # tiles as BlockedConv runs them: the ISA's preferred blocks, one block where a layer with
        # taps has <= 64 output positions (blocked_direct_cb); each k step loads the tile's weights
        kern = fastconv._C.convc_blocking(isa)
        cb = 1 if o * o <= 64 and ks > 1 else kern["preferred_cb"]
        rp = kern["max_rp"][cb - 1]
        tiles = (-(-o * o // rp) if ks == 1 else o * -(-o // rp)) * -(-up(k, 16) // 16 // cb)
        return {"kDirectPerFlop": flops, "kDirectPerTileStep": tiles * d,
                "kDirectPerElem": copied, "kDirectPerCall": 1}
    m = int(algo[-1])
    a, t = m + 2, (-(-hw // m)) ** 2
    # On AVX-512, blocks of <= 16 tiles run the AVX2 kernel (conv-winograd.cc, gemm_for).
    narrow = isa == "avx512" and t <= blocking("avx2")[1]
    mr, nr = blocking("avx2")[:2] if narrow else (MR, NR)
    # Transformed values moved (alpha^2 per tile and channel) and transform arithmetic
    # (~alpha more per value: each is a combination of ~alpha inputs, twice).
    # The GEMM rate and the transforms' cost per operation differ per variant (block widths,
    # alpha^2 calls; register pressure of the alpha x alpha tile): one coefficient each;
    # blocks of <= 16 tiles run half-width vectors, at a rate of their own.
    gemm = a * a * 2 * up(k, mr) * up(t, nr) * c
    return {"kWinoNarrowPerGemmFlop" if narrow else f"kWino{m}PerGemmFlop": gemm,
            f"kWino{m}PerInOp": a * a * c * t * a, f"kWino{m}PerOutOp": a * a * k * t * a, "kWinoPerGemmCall": a * a}


# conv-cost.cc's kTransposedSlowdown: the transposed product's padded flops run this much slower.
TRANSPOSED_SLOWDOWN = 1.15

# Same rule as choose_winograd_variant(): F(6x6) has ~3x the error of F(4x4), so it must be
# modelled at least this much faster to be picked.
F6_MARGIN = 0.10

def pick_statistics(rows, pred, label):
    """How often modelled times `pred` pick the measured-fastest path, and the cost when not.
    (The CSV may hold several runs: each (layer, algorithm)'s times are averaged here.)"""
    runs = {}
    for r, p in zip(rows, pred):
        key = (int(r["c"]), int(r["k"]), int(r["hw"]), int(r.get("stride") or 1), int(r.get("ks") or 3),
               r["algo"])
        runs.setdefault(key, ([], p))[0].append(float(r["seconds"]))
    by_layer = {}
    for (c, k, hw, stride, ks, algo), (ts, p) in runs.items():
        by_layer.setdefault((c, k, hw, stride, ks), []).append((algo, float(np.mean(ts)), p))
    worst, hits = 1.0, 0
    for key, v in by_layer.items():
        best = min(v, key=lambda e: e[1])
        pick = min(v, key=lambda e: e[2] * (1 + F6_MARGIN * (e[0] == "winograd_6x6")))
        hits += pick[0] == best[0]
        worst = max(worst, pick[1] / best[1])
        if pick[1] / best[1] > 1.05:
            print(f"  layer C,K,HW,stride,kernel={key}: {label} picks {pick[0]} ({pick[1] / best[1]:.2f}x the best, {best[0]})")
    print(f"{label} picks the fastest on {hits}/{len(by_layer)} layers; worst pick {worst:.2f}x the best")


def fit(rows, isa):
    feats = [features(r["algo"], int(r["c"]), int(r["k"]), int(r["hw"]), int(r.get("stride") or 1),
                      int(r.get("ks") or 3), int(r["pad"]) if r.get("pad") else None, isa) for r in rows]
    assert all(set(f) <= set(NAMES) for f in feats), "a feature without a coefficient name"
    x = np.array([[f.get(name, 0.0) for name in NAMES] for f in feats], float)
    t = np.array([float(r["seconds"]) for r in rows])
    coef, *_ = np.linalg.lstsq(x / t[:, None], np.ones_like(t), rcond=None)
    coef = np.maximum(coef, 0)  # a negative cost per unit of work would be unphysical
    pred = x @ coef
    print(f"relative error of the fit: median {np.median(np.abs(pred / t - 1)):.1%}, max {np.max(np.abs(pred / t - 1)):.1%}")
    print(f"constexpr CostRow k{isa.capitalize()}Costs = {{  // {', '.join(NAMES)}")
    print("    " + ", ".join(f"{v:.4g}" for v in coef) + "};")
    shipped = np.array([v for _, v in fastconv._C.cost_coefficients(isa)])
    pick_statistics(rows, pred, "the fit")
    pick_statistics(rows, x @ shipped, "the built-in row")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--isa", default=fastconv.get_isa(), choices=fastconv._C.available_isas(),
                    help="the ISA level to measure and fit (default: this CPU's best)")
    ap.add_argument("--fit-only", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--append", action="store_true", help="add this run's rows to the CSV's (pooled runs)")
    ap.add_argument("--only", nargs="+", choices=ALGOS + POINTWISE_ALGOS[:2], metavar="ALGO",
                    help="measure these algorithms only; their rows in the CSV are replaced, the others kept")
    args = ap.parse_args()
    if args.fit_only:
        with open(csv_path(args.isa)) as f:
            rows = list(csv.DictReader(f))
    else:
        rows = measure(args.isa, args.repeats, args.append, args.only)
    fit(rows, args.isa)


if __name__ == "__main__":
    main()
