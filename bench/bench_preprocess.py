"""Preprocessing throughput: fastconv.preprocess (fused Cython, parallel over the batch) against the
numpy/Pillow reference (Image.resize + crop + normalize + transpose per image), on a batch of
photo-sized images. Both start from decoded uint8 pixels; a second row adds JPEG decoding, which
both pay alike (Pillow's decoder).

    python bench/bench_preprocess.py [--images 64] [--size 640x480] [--repeats 7] [--json FILE]

Interleaved runs after warm-up; medians; the target is >= 5x over the reference.
"""
import argparse
import io
import json
import os
import statistics
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # an in-place build first

import fastconv  # noqa: E402
from fastconv.benchmark import machine_info, time_once  # noqa: E402
from fastconv.preprocess import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402


def reference(pixels, size=256, crop=224):
    """torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize, with Pillow and numpy."""
    h, w = pixels.shape[:2]
    rh, rw = (size, int(size * w / h)) if h <= w else (int(size * h / w), size)
    img = Image.fromarray(pixels).resize((rw, rh), Image.BILINEAR)
    top, left = int(round((rh - crop) / 2.0)), int(round((rw - crop) / 2.0))
    x = np.asarray(img, dtype=np.float32)[top:top + crop, left:left + crop] / 255.0
    x = (x - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
    return x.transpose(2, 0, 1)


def photos(n, w, h, seed=0):
    """Photo-like pixels (smooth gradients + texture + noise), not flat noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for _ in range(n):
        f = rng.uniform(0.005, 0.05, 3)
        base = 128 + 90 * np.sin(yy[..., None] * f[0] + xx[..., None] * f[1] + rng.uniform(0, 6, 3))
        out.append(np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--size", default="640x480", help="WxH of each image (default 640x480)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    pixels = photos(args.images, w, h)
    jpegs = []
    for px in pixels:
        buf = io.BytesIO()
        Image.fromarray(px).save(buf, format="JPEG", quality=90)
        jpegs.append(buf.getvalue())

    cases = {
        "fastconv (pixels)": lambda: fastconv.preprocess(pixels),
        "reference (pixels)": lambda: np.stack([reference(px) for px in pixels]),
        "fastconv (JPEG bytes)": lambda: fastconv.preprocess(jpegs),
        "reference (JPEG bytes)": lambda: np.stack([reference(np.asarray(Image.open(io.BytesIO(j)).convert("RGB")))
                                                    for j in jpegs]),
    }
    a, b = cases["fastconv (pixels)"](), cases["reference (pixels)"]()
    max_diff = float(np.max(np.abs(a - b)))
    for fn in cases.values():  # warm-up
        fn()
    samples = {k: [] for k in cases}
    for _ in range(args.repeats):
        for k, fn in cases.items():
            samples[k].append(time_once(fn))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"{args.images} images of {w}x{h} -> (N, 3, 224, 224); {fastconv.get_num_threads()} threads; "
          f"max |fastconv - reference| = {max_diff:.4g} (Pillow 13 resampling order, see tests/test_preprocess.py)")
    print(f"{'path':<26}{'median ms':>11}{'min ms':>9}{'images/s':>10}{'speed-up':>10}")
    for k in cases:
        ref = med[k.replace("fastconv", "reference")]
        print(f"{k:<26}{med[k] * 1e3:>11.1f}{min(samples[k]) * 1e3:>9.1f}{args.images / med[k]:>10.0f}"
              f"{ref / med[k]:>9.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "threads": fastconv.get_num_threads(), "images": args.images,
                       "size": [w, h], "max_abs_diff": max_diff,
                       "median_ms": {k: v * 1e3 for k, v in med.items()},
                       "samples_ms": {k: [s * 1e3 for s in v] for k, v in samples.items()}}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
