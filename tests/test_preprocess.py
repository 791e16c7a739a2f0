"""fastconv.preprocess against Pillow + numpy (the reference nobody here wrote).

Error bound: the uint8 pixels after resize+crop equal Pillow's exactly (same fixed-point
arithmetic); normalization is one float32 multiply-add per element versus the reference's float64
(x/255 - mean)/std, so |difference| <= a few float32 ulps of values below 3: atol 1e-5.

Documented resampling difference: Pillow >= 13 sometimes runs its vertical pass before the
horizontal one, which rounds the intermediate image differently; against Image.resize itself the
pixels then differ by at most one level (1/255/std after normalization). The exact comparison uses
Pillow's classic order (horizontal resize, then vertical) done by Pillow itself.
"""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import poisoned
from fastconv import _preprocess
from fastconv.preprocess import CAFFE_MEAN_BGR, IMAGENET_MEAN, IMAGENET_STD, load_image, preprocess

Image = pytest.importorskip("PIL.Image", reason="Pillow (the 'image' extra) is not installed")

ATOL = 1e-5


def resized_hw(h, w, size):
    """torchvision Resize(size) as its docs define it: shorter side = size, longer side truncated."""
    if isinstance(size, tuple):
        return size
    return (size, int(size * w / h)) if h <= w else (int(size * h / w), size)


def pillow_resize(pixels, rh, rw, classic=True):
    img = Image.fromarray(pixels)
    if classic:  # horizontal pass, then vertical: two one-axis resizes
        img = img.resize((rw, pixels.shape[0]), Image.BILINEAR).resize((rw, rh), Image.BILINEAR)
    else:
        img = img.resize((rw, rh), Image.BILINEAR)
    return np.asarray(img)


def reference(pixels, size=256, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD, caffe=False, classic=True):
    h, w = pixels.shape[:2]
    rh, rw = resized_hw(h, w, size)
    ch, cw = (crop, crop) if isinstance(crop, int) else crop
    top, left = int(round((rh - ch) / 2.0)), int(round((rw - cw) / 2.0))  # torchvision CenterCrop
    x = pillow_resize(pixels, rh, rw, classic)[top:top + ch, left:left + cw].astype(np.float64)
    if caffe:
        x = x[:, :, ::-1]
    else:
        x = x / 255.0
    x = (x - np.asarray(mean)) / np.asarray(std)
    return x.transpose(2, 0, 1)


def random_pixels(rng, h, w):
    # Smooth + noise: exercises both the interpolation and the rounding.
    yy, xx = np.mgrid[0:h, 0:w]
    base = 127 + 100 * np.sin(yy[..., None] / 7.0 + xx[..., None] / 11.0 + np.arange(3))
    return np.clip(base + rng.normal(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("hw", [(480, 640), (640, 480), (256, 256), (224, 300), (300, 1000), (1200, 231),
                                (5000, 300), (257, 255)])
def test_matches_pillow_classic_exactly(rng, hw):
    pixels = random_pixels(rng, *hw)
    got = preprocess(pixels)
    assert got.shape == (1, 3, 224, 224) and got.dtype == np.float32
    np.testing.assert_allclose(got[0], reference(pixels), rtol=0, atol=ATOL)


@pytest.mark.parametrize("hw", [(480, 640), (300, 300), (600, 300), (1000, 700)])
def test_within_one_level_of_image_resize(rng, hw):
    pixels = random_pixels(rng, *hw)
    got = preprocess(pixels)[0]
    one_level = 1 / 255 / min(IMAGENET_STD)
    np.testing.assert_allclose(got, reference(pixels, classic=False), rtol=0, atol=one_level + ATOL)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), rh=st.integers(1, 70), rw=st.integers(1, 70),
       data=st.data())
def test_any_size_and_crop(h, w, rh, rw, data):
    """Up- and downscaling, images narrower than the filter, crops down to one pixel."""
    rng = np.random.default_rng(h * 1000 + w)
    pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    ch, cw = data.draw(st.integers(1, rh)), data.draw(st.integers(1, rw))
    got = preprocess(pixels, size=(rh, rw), crop=(ch, cw))
    np.testing.assert_allclose(got[0], reference(pixels, (rh, rw), (ch, cw)), rtol=0, atol=ATOL)


def test_batch_of_mixed_sizes_every_image_written(rng):
    images = [random_pixels(rng, h, w) for h, w in [(480, 640), (300, 200), (256, 256), (1, 1)]]
    images[3] = np.full((1, 1, 3), 200, np.uint8)
    sizes = [(256, 341), (336, 224), (256, 256), (224, 224)]
    out = poisoned((4, 3, 224, 224))
    perm, scale, bias = np.arange(3, dtype=np.intc), np.float32(1 / 255) / np.asarray(IMAGENET_STD, np.float32), \
        (-np.asarray(IMAGENET_MEAN) / np.asarray(IMAGENET_STD)).astype(np.float32)
    origin = np.array([(round((rh - 224) / 2), round((rw - 224) / 2)) for rh, rw in sizes], np.intc)
    _preprocess.resize_crop_normalize(
        np.array([im.ctypes.data for im in images], np.uintp), np.array([im.shape[0] for im in images], np.intc),
        np.array([im.shape[1] for im in images], np.intc), np.array(sizes, np.intc), origin, perm,
        scale.astype(np.float32), bias, out, 2)
    assert not np.isnan(out).any()
    for i, im in enumerate(images):
        np.testing.assert_allclose(out[i], reference(im, sizes[i]), rtol=0, atol=ATOL)
    # The public function (default size 256) agrees on the images whose size the test picked the same.
    np.testing.assert_allclose(preprocess([images[0], images[2]]), out[[0, 2]], rtol=0, atol=ATOL)


def test_threads_do_not_change_the_result(rng):
    images = [random_pixels(rng, 200 + 7 * i, 300 - 5 * i) for i in range(6)]
    np.testing.assert_array_equal(preprocess(images, num_threads=1), preprocess(images, num_threads=2))


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_fewer_images_than_threads_split_into_bands(rng, threads):
    """One or two images over several threads: row bands must meet without gaps or seams."""
    images = [random_pixels(rng, 333, 500), random_pixels(rng, 480, 270)]
    for batch in (images[:1], images):
        got = preprocess(batch, size=240, crop=(225, 223), num_threads=threads)
        np.testing.assert_array_equal(got, preprocess(batch, size=240, crop=(225, 223), num_threads=1))
        for g, im in zip(got, batch):
            np.testing.assert_allclose(g, reference(im, 240, (225, 223)), rtol=0, atol=ATOL)
    tiny = preprocess(np.full((1, 1, 3), 9, np.uint8), size=1, crop=1, num_threads=threads)  # 1 row, 1 band
    np.testing.assert_allclose(tiny[0, :, 0, 0], (9 / 255 - np.array(IMAGENET_MEAN)) / IMAGENET_STD, atol=ATOL)


def test_concurrent_calls_from_python_threads(rng):
    """Each call owns its buffers and the loops run without the GIL: threads get their own answers."""
    from concurrent.futures import ThreadPoolExecutor

    batches = [[random_pixels(rng, 150 + 10 * i, 200 - 5 * i) for _ in range(3)] for i in range(6)]
    expected = [preprocess(b, num_threads=1) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: preprocess(b, num_threads=2), batches * 3))
    for i, g in enumerate(got):
        np.testing.assert_array_equal(g, expected[i % len(batches)])


def test_caffe_mode_bgr_0_255(rng):
    pixels = random_pixels(rng, 300, 400)
    got = preprocess(pixels, mode="caffe")[0]
    ref = reference(pixels, mean=CAFFE_MEAN_BGR, std=(1, 1, 1), caffe=True)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)  # values up to ~150: float32 ulp ~1e-5
    # Red pixels land in the last channel in BGR.
    red = np.zeros((256, 256, 3), np.uint8)
    red[..., 0] = 255
    out = preprocess(red, mode="caffe", mean=0)[0]
    assert np.all(out[2] == 255) and np.all(out[0] == 0)


def test_custom_mean_std_and_no_crop(rng):
    pixels = random_pixels(rng, 64, 48)
    got = preprocess(pixels, size=None, crop=None, mean=0.5, std=0.25)[0]
    ref = (pixels.astype(np.float64) / 255 - 0.5) / 0.25
    np.testing.assert_allclose(got, ref.transpose(2, 0, 1), rtol=0, atol=ATOL)


def _encoded(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_load_image_modes_and_files(tmp_path, rng):
    rgb = random_pixels(rng, 20, 30)
    gray = Image.fromarray(rgb[..., 0])
    np.testing.assert_array_equal(load_image(_encoded(gray, "PNG")), np.repeat(rgb[..., :1], 3, axis=2))
    rgba = Image.fromarray(np.dstack([rgb, np.full((20, 30), 77, np.uint8)]))
    np.testing.assert_array_equal(load_image(_encoded(rgba, "PNG")), rgb)  # alpha dropped
    pal = Image.fromarray(rgb).convert("P")
    np.testing.assert_array_equal(load_image(_encoded(pal, "PNG")), np.asarray(pal.convert("RGB")))
    path = tmp_path / "x.png"
    Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(load_image(path), rgb)
    np.testing.assert_array_equal(load_image(str(path)), rgb)
    np.testing.assert_array_equal(preprocess(path, size=None, crop=None), preprocess(rgb, size=None, crop=None))


def test_sixteen_bit_and_float_gray(rng):
    gray16 = rng.integers(0, 65536, (12, 9), dtype=np.uint16)
    np.testing.assert_array_equal(load_image(_encoded(Image.fromarray(gray16), "PNG")),
                                  np.repeat((gray16 >> 8).astype(np.uint8)[:, :, None], 3, axis=2))
    grayf = rng.random((12, 9), dtype=np.float32)
    np.testing.assert_array_equal(load_image(_encoded(Image.fromarray(grayf), "TIFF"))[:, :, 1],
                                  np.rint(grayf * 255).astype(np.uint8))


def test_exif_orientation_is_applied(rng):
    rgb = random_pixels(rng, 20, 30)
    img = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    loaded = load_image(_encoded(img, "PNG", exif=exif.tobytes()))
    assert loaded.shape == (30, 20, 3)
    np.testing.assert_array_equal(loaded, np.rot90(rgb, k=-1))


def test_errors_name_the_problem(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="not found"):
        preprocess(tmp_path / "missing.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(ValueError, match="cannot read .*bad.jpg"):
        preprocess(bad)
    pixels = random_pixels(rng, 100, 100)
    with pytest.raises(ValueError, match="crop 224x224 is larger than image 0 resized to 100x100"):
        preprocess(pixels, size=100)
    with pytest.raises(ValueError, match="mode must be one of"):
        preprocess(pixels, mode="rgb")
    with pytest.raises(TypeError, match=r"images\[0\] has dtype float32"):
        preprocess(pixels.astype(np.float32))
    with pytest.raises(ValueError, match=r"images\[0\] has shape \(100, 100, 4\)"):
        preprocess(np.zeros((100, 100, 4), np.uint8))
    with pytest.raises(ValueError, match="images is empty"):
        preprocess([])
    with pytest.raises(ValueError, match="std positive"):
        preprocess(pixels, size=None, crop=None, std=0)
    with pytest.raises(ValueError, match="same size"):
        preprocess([pixels, random_pixels(rng, 50, 60)], size=None, crop=None)
