"""Image preprocessing for ImageNet-style classifiers: files in, an NCHW float32 batch out.

    >>> x = fastconv.preprocess(["cat.jpg", "dog.png"])        # (2, 3, 224, 224) float32

Steps (torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize, and Pillow's bytes):
decode with Pillow (EXIF orientation applied; grayscale, palette, CMYK and RGBA converted to RGB,
alpha dropped; 16-bit gray keeps its top 8 bits), resize so the shorter side is `size` (bilinear with antialiasing, exactly as
Pillow's Image.resize(..., BILINEAR)), crop the center `crop` x `crop`, scale to [0, 1] and
normalize by mean/std per channel. mode="caffe" keeps 0-255, uses BGR order and subtracts the
Caffe ImageNet mean (models converted from Caffe/Caffe2: bvlc_alexnet, vgg19, googlenet...).

The resize/crop/normalize/transposition runs fused in Cython (fastconv._preprocess), in parallel
over the batch; decoding is Pillow's. Pillow is the `image` extra: pip install "fastconv[image]".
"""
from __future__ import annotations

import io
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _C, _memory, _preprocess

__all__ = ["preprocess", "load_image", "IMAGENET_MEAN", "IMAGENET_STD", "CAFFE_MEAN_BGR"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, in [0, 1] units (torchvision's)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # BGR, in 0-255 units (Caffe's ImageNet mean pixel)
MODES = ("imagenet", "caffe")


def _pillow():
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise ImportError('reading images needs Pillow: pip install "fastconv[image]" (or pip install Pillow)') from None
    return Image, ImageOps


def load_image(source) -> np.ndarray:
    """Decodes an image to an (H, W, 3) uint8 RGB array, EXIF orientation applied.

    source: a path, bytes, a binary file object, or a PIL.Image. Raises FileNotFoundError for a
    missing file and ValueError for data Pillow cannot decode.
    """
    Image, ImageOps = _pillow()
    if isinstance(source, Image.Image):
        img, name = source, "image"
    else:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "image data"
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = io.BytesIO(source)
        try:
            img = Image.open(source)
            img.load()
        except FileNotFoundError:
            raise FileNotFoundError(f"image file not found: {name}") from None
        except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as e:
            raise ValueError(f"cannot read {name} as an image: {e}") from None
    img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I") or img.mode == "F":
        return _wide_gray_to_rgb(np.asarray(img))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8)


def _wide_gray_to_rgb(values: np.ndarray) -> np.ndarray:
    """16/32-bit integer gray keeps its top 8 bits (Pillow's own convert would clip at 255);
    float gray in [0, 1] is scaled to 0-255, other floats are clipped."""
    if values.dtype.kind == "f":
        scaled = values * 255.0 if values.size and 0.0 <= values.min() and values.max() <= 1.0 else values
        gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    else:
        bits = 16 if values.size == 0 or values.max() < 65536 else 32
        gray = (np.clip(values, 0, None).astype(np.uint64) >> (bits - 8)).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _as_pixels(image, index: int) -> np.ndarray:
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(f"images[{index}] has dtype {image.dtype}; pass uint8 pixels (H, W, 3) "
                            "or a file path (float arrays are already preprocessed)")
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"images[{index}] has shape {image.shape}, expected (H, W, 3) RGB or (H, W) gray")
        if min(image.shape[:2]) < 1:
            raise ValueError(f"images[{index}] has shape {image.shape}: it has no pixels")
        return np.ascontiguousarray(image)
    return load_image(image)


def _resized_hw(h: int, w: int, size) -> tuple[int, int]:
    """torchvision Resize(size): an int sets the shorter side (longer side truncated), a pair is (h, w)."""
    if size is None:
        return h, w
    if not isinstance(size, numbers.Integral):
        return int(size[0]), int(size[1])
    if h <= w:
        return int(size), max(1, int(size * w / h))
    return max(1, int(size * h / w)), int(size)


def _pair_or_none(v, name: str):
    if v is None:
        return None
    vals = (v, v) if isinstance(v, numbers.Integral) else tuple(v)
    if len(vals) != 2 or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in vals):
        raise TypeError(f"{name} must be None, an int or a pair of ints, got {v!r}")
    if min(vals) < 1:
        raise ValueError(f"{name} must be >= 1, got {v!r}")
    return vals


def _channel_transform(mode: str, mean, std):
    """(source channel per output channel, scale, bias) so that out = pixel * scale + bias."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "imagenet":
        perm, unit = (0, 1, 2), 1.0 / 255.0
        mean = IMAGENET_MEAN if mean is None else mean
        std = IMAGENET_STD if std is None else std
    else:
        perm, unit = (2, 1, 0), 1.0
        mean = CAFFE_MEAN_BGR if mean is None else mean
        std = (1.0, 1.0, 1.0) if std is None else std
    mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), (3,)) if np.ndim(mean) <= 1 else None
    std = np.broadcast_to(np.asarray(std, dtype=np.float64), (3,)) if np.ndim(std) <= 1 else None
    if mean is None or std is None:
        raise ValueError("mean and std must be a number or 3 numbers, one per output channel")
    if not np.all(np.isfinite(mean)) or not np.all(np.isfinite(std)) or np.any(std <= 0):
        raise ValueError(f"mean must be finite and std positive, got mean={mean.tolist()}, std={std.tolist()}")
    scale = unit / std
    return np.asarray(perm, np.intc), scale.astype(np.float32), (-mean / std).astype(np.float32)


def preprocess(images, size=256, crop=224, mean=None, std=None, mode: str = "imagenet",
               num_threads: int | None = None) -> np.ndarray:
    """A batch ready for an ImageNet classifier: (N, 3, crop, crop) float32, NCHW.

    images: one image or a list; each a path, bytes, file object, PIL.Image, or an (H, W, 3)
        uint8 RGB array (as from load_image).
    size: shorter side after resizing (int), an exact (h, w), or None to keep the size.
    crop: side of the center crop (int), (h, w), or None for no crop (all images must then
        resize to the same size).
    mode: "imagenet" (RGB, [0, 1], then (x - mean) / std; ImageNet mean/std by default) or
        "caffe" (BGR, 0-255, minus the Caffe mean pixel; mean/std in 0-255 units and BGR order).
    """
    if isinstance(images, (str, os.PathLike, bytes, np.ndarray)) or not hasattr(images, "__len__"):
        images = [images]
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one image")
    crop_hw = _pair_or_none(crop, "crop")
    if size is not None and not isinstance(size, numbers.Integral):
        _pair_or_none(size, "size")
    elif size is not None and size < 1:
        raise ValueError(f"size must be >= 1, got {size!r}")
    perm, scale, bias = _channel_transform(mode, mean, std)
    threads = _C.num_threads() if num_threads is None else int(num_threads)
    if threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads!r}")

    if threads > 1 and len(images) > 1 and not all(isinstance(im, np.ndarray) for im in images):
        # Pillow releases the GIL while decoding, so files decode in parallel too.
        with ThreadPoolExecutor(min(threads, len(images))) as pool:
            pixels = list(pool.map(_as_pixels, images, range(len(images))))
    else:
        pixels = [_as_pixels(img, i) for i, img in enumerate(images)]
    resized = np.array([_resized_hw(p.shape[0], p.shape[1], size) for p in pixels], dtype=np.intc).reshape(-1, 2)
    if crop_hw is None:
        if np.any(resized != resized[0]):
            raise ValueError(f"with crop=None every image must resize to the same size, got "
                             f"{sorted(set(map(tuple, resized.tolist())))}; pass crop=224 or size=(h, w)")
        crop_hw = tuple(resized[0])
    ch, cw = crop_hw
    small = np.flatnonzero((resized[:, 0] < ch) | (resized[:, 1] < cw))
    if small.size:
        i = int(small[0])
        raise ValueError(f"crop {ch}x{cw} is larger than image {i} resized to {resized[i, 0]}x{resized[i, 1]}; "
                         f"use size >= crop")
    # torchvision CenterCrop: offsets rounded half to even, like Python's round.
    origin = np.array([(round((rh - ch) / 2.0), round((rw - cw) / 2.0)) for rh, rw in resized.tolist()],
                      dtype=np.intc)
    out = _memory.empty((len(pixels), 3, ch, cw))
    _preprocess.resize_crop_normalize(
        np.array([p.ctypes.data for p in pixels], dtype=np.uintp),
        np.array([p.shape[0] for p in pixels], dtype=np.intc),
        np.array([p.shape[1] for p in pixels], dtype=np.intc),
        resized, origin, perm, scale, bias, out, threads)
    return out
