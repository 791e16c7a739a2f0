"""Host-side decisions of the GPU backend as plain functions (no CuPy): output shapes, launch
geometry, algorithm choice, batch chunking. Tested on the CPU in tests/test_gpu_host.py."""
from __future__ import annotations

import math
from typing import NamedTuple

BLOCK = 256                 # threads per block of every element-wise kernel: 8 warps, full occupancy
MAX_BLOCKS = 65536          # grid cap; kernels loop with the grid's stride, so any size is covered
INT32_MAX = 2**31 - 1       # per-dimension limit: kernels hold single coordinates in int
WORKSPACE_BYTES = 1 << 30   # cap on an im2col / Winograd buffer; larger batches run in chunks


def grid_for(total: int, block: int = BLOCK) -> tuple[tuple[int], tuple[int]]:
    """(grid, block) for a grid-stride kernel over `total` elements."""
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    return (max(1, min(-(-total // block), MAX_BLOCKS)),), (block,)


def check_dims(shape, name: str):
    """Refuses a tensor whose single dimensions do not fit int32 (flat indices are 64-bit)."""
    if any(d > INT32_MAX for d in shape):
        raise ValueError(f"{name} has shape {tuple(shape)}: a dimension exceeds 2**31 - 1, which the GPU kernels "
                         "do not index")


class ConvGeometry(NamedTuple):
    """One convolution: everything a kernel launch needs besides pointers."""
    n: int
    c: int
    h: int
    w: int
    k: int
    kh: int
    kw: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int]   # top, left, bottom, right
    groups: int
    oh: int
    ow: int

    @property
    def is_depthwise(self) -> bool:
        return self.groups == self.c and self.groups > 1 and self.k % self.c == 0

    @property
    def is_pointwise(self) -> bool:
        return (self.kh, self.kw) == (1, 1) and self.stride == (1, 1) and self.pads == (0, 0, 0, 0)

    @property
    def is_winograd_f2x3(self) -> bool:
        return ((self.kh, self.kw) == (3, 3) and self.stride == (1, 1) and self.dilation == (1, 1)
                and self.groups == 1)

    @property
    def flops(self) -> int:
        return 2 * self.n * self.k * self.oh * self.ow * (self.c // self.groups) * self.kh * self.kw


def conv_geometry(x_shape, w_shape, stride, pads, dilation, groups) -> ConvGeometry:
    n, c, h, w = x_shape
    k, cg, kh, kw = w_shape
    if cg * groups != c:
        raise ValueError(f"x has {c} channels (shape {tuple(x_shape)}) but weight {tuple(w_shape)} with "
                         f"groups={groups} expects {cg * groups}")
    (sh, sw), (dh, dw) = stride, dilation
    pt, pl, pb, pr = pads
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if h + pt + pb < eh or w + pl + pr < ew:
        raise ValueError(f"the dilated kernel ({eh}x{ew}) is larger than the padded input "
                         f"({h + pt + pb}x{w + pl + pr}: input {h}x{w}, padding {tuple(pads)})")
    oh, ow = (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1
    return ConvGeometry(n, c, h, w, k, kh, kw, tuple(stride), tuple(dilation), tuple(pads), groups, oh, ow)


ALGORITHMS = ("im2col", "pointwise", "winograd", "depthwise")


def algo_unsupported(algo: str, g: ConvGeometry) -> str | None:
    """None if `algo` can run this convolution, else the reason it cannot."""
    if algo == "im2col":
        return None
    if algo == "pointwise":
        return None if g.is_pointwise else "pointwise needs a 1x1 kernel, stride 1 and no padding"
    if algo == "winograd":
        return None if g.is_winograd_f2x3 else "winograd (F(2x2,3x3)) needs a 3x3 kernel, stride 1, dilation 1, groups 1"
    if algo == "depthwise":
        return None if g.is_depthwise else "depthwise needs groups == input channels (> 1)"
    raise ValueError(f"unknown algo {algo!r}: expected 'auto' or one of {', '.join(ALGORITHMS)}")


def choose_algo(g: ConvGeometry) -> str:
    """The algorithm "auto" runs, and why:
    - depthwise: a grouped conv with one input channel per group is memory-bound; a GEMM per
      channel would be 1-row matrices, so a direct kernel wins;
    - pointwise: a 1x1 stride-1 conv *is* a GEMM on the input as it lies (no im2col copy);
    - winograd: 3x3 stride 1 with enough channels that the GEMMs dominate (2.25x fewer multiplies;
      the transforms cost ~C+K passes over the tiles, which small C would not repay);
    - im2col: everything else (one copy of the patches, then one cuBLAS GEMM)."""
    if g.is_depthwise:
        return "depthwise"
    if g.is_pointwise:
        return "pointwise"
    if g.is_winograd_f2x3 and g.c >= 32 and g.k >= 32:
        return "winograd"
    return "im2col"


def check_gemm_dims(algo: str, g: ConvGeometry):
    """cuBLAS takes matrix sizes and leading dimensions as int32: refuse a layer whose GEMM
    operands would not fit (flat kernel indices are 64-bit, so only the GEMMs limit the size)."""
    if algo == "depthwise":
        return
    th, tw = winograd_tiles(g.oh, g.ow)
    dims = {"output pixels per image (OH*OW)": g.oh * g.ow, "C/groups*kh*kw": g.c // g.groups * g.kh * g.kw,
            "output channels": g.k}
    if algo == "winograd":
        dims["2x2 tiles per image"] = th * tw
    if algo == "pointwise" and g.oh * g.ow == 1:
        dims["batch"] = g.n
    too_big = {k: v for k, v in dims.items() if v > INT32_MAX}
    if too_big:
        raise ValueError(f"this convolution is too large for the GPU backend: {too_big} exceed 2**31 - 1 "
                         f"(cuBLAS matrix sizes are 32-bit); split the input")


def winograd_tiles(oh: int, ow: int) -> tuple[int, int]:
    """2x2 output tiles covering OH x OW (the last row/column of tiles may be half outside)."""
    return -(-oh // 2), -(-ow // 2)


def workspace_per_image(algo: str, g: ConvGeometry) -> int:
    """Bytes of scratch one image needs: im2col columns, or the Winograd V and M buffers."""
    if algo == "im2col":
        return 4 * g.c * g.kh * g.kw * g.oh * g.ow
    if algo == "winograd":
        th, tw = winograd_tiles(g.oh, g.ow)
        return 4 * 16 * (g.c + g.k) * th * tw
    return 0


def batch_chunks(n: int, per_image: int, limit: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) ranges of images whose scratch fits in `limit` (default WORKSPACE_BYTES), at
    least one image each."""
    limit = WORKSPACE_BYTES if limit is None else limit
    step = n if per_image == 0 else max(1, min(n, limit // per_image))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def pool_output_size(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int,
                     ceil_mode: bool) -> int:
    """Output length of a pooling window sliding over one axis (PyTorch/ONNX rule: with ceil_mode
    the last window must still start inside the input or its leading padding)."""
    eff = dilation * (kernel - 1) + 1
    span = size + pad_begin + pad_end - eff
    if span < 0:
        raise ValueError(f"the pooling window ({eff} with dilation) is larger than the padded input "
                         f"({size + pad_begin + pad_end})")
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out
