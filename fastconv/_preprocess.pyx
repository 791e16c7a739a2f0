# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hot loops of image preprocessing: resize + center-crop + normalize + HWC->CHW, fused.

The resampling is Pillow's own (Resample.c, Image.resize(..., BILINEAR)): a triangle filter
widened by the downscale factor (antialiasing), coefficients in 22-bit fixed point, a
horizontal pass rounded to uint8, then a vertical pass rounded to uint8. Doing the same
integer arithmetic gives the same bytes as Pillow's classic two-pass order, so the reference in
the tests is Pillow itself (Pillow 13 runs the vertical pass first for some sizes; its rounding
then differs by at most one level). Only the output pixels inside the crop are computed, and they are normalized and
written planar (NCHW float32) as each row finishes. Images run in parallel (prange).
"""
from cython.parallel cimport prange
from libc.math cimport ceil
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc

cdef enum:
    # Pillow's fixed point: 32 bits - 8 (pixel) - 2 (headroom for the negative lobes of other filters).
    PRECISION_BITS = 22


cdef inline uint8_t _clip8(int32_t acc) noexcept nogil:
    if acc <= 0:
        return 0
    if acc >= (255 << PRECISION_BITS):
        return 255
    return <uint8_t>(acc >> PRECISION_BITS)


cdef inline double _triangle(double x) noexcept nogil:
    if x < 0.0:
        x = -x
    return 1.0 - x if x < 1.0 else 0.0


cdef int _taps(int in_size, int out_size) noexcept nogil:
    """Coefficients per output sample (Pillow's ksize) for in_size -> out_size."""
    cdef double scale = <double>in_size / out_size
    if scale < 1.0:
        scale = 1.0
    return <int>ceil(scale) * 2 + 1


cdef void _coeffs(int in_size, int out_size, int first, int count, int ksize,
                  int* bounds, int32_t* kk) noexcept nogil:
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for outputs first..first+count-1.

    bounds[2i] = first input sample, bounds[2i+1] = number of samples; kk[i*ksize + t] = weight.
    Same double expressions in the same order as Pillow, so the rounded integers match.
    """
    cdef double scale = <double>in_size / out_size
    cdef double filterscale = scale if scale > 1.0 else 1.0
    cdef double support = 1.0 * filterscale  # the bilinear filter's support is 1
    cdef double ss = 1.0 / filterscale
    cdef double center, ww, w
    cdef int i, t, xmin, xmax
    for i in range(count):
        center = (first + i + 0.5) * scale
        xmin = <int>(center - support + 0.5)
        if xmin < 0:
            xmin = 0
        xmax = <int>(center + support + 0.5)
        if xmax > in_size:
            xmax = in_size
        xmax -= xmin
        ww = 0.0
        for t in range(xmax):
            ww += _triangle((t + xmin - center + 0.5) * ss)
        for t in range(ksize):
            w = 0.0
            if t < xmax:
                w = _triangle((t + xmin - center + 0.5) * ss)
                if ww != 0.0:
                    w = w / ww
            if w < 0:
                kk[i * ksize + t] = <int32_t>(-0.5 + w * (1 << PRECISION_BITS))
            else:
                kk[i * ksize + t] = <int32_t>(0.5 + w * (1 << PRECISION_BITS))
        bounds[2 * i] = xmin
        bounds[2 * i + 1] = xmax


cdef void _pad_taps(int in_size, int count, int ksize, int* bounds, int32_t* kk) noexcept nogil:
    """Gives every output exactly ksize taps (needs in_size >= ksize): windows running past the
    end start earlier and their weights move right. The taps added carry weight 0, so sums are unchanged."""
    cdef int i, t, shift
    cdef int32_t* k
    for i in range(count):
        bounds[2 * i + 1] = ksize
        shift = bounds[2 * i] + ksize - in_size
        if shift > 0:
            k = kk + i * ksize
            for t in range(ksize - 1, -1, -1):
                k[t] = k[t - shift] if t >= shift else 0
            bounds[2 * i] -= shift


cdef inline void _hrow(const uint8_t* src, uint8_t* dst, int count, const int* bounds, const int32_t* kk,
                       int ksize, bint ragged) noexcept nogil:
    """One row of the horizontal pass. Inlined with a constant ksize, the tap loop unrolls;
    ragged: taps per output vary (bounds[2i+1]), for inputs narrower than ksize.

    Two channels share one 64-bit multiply-add (SWAR): channel 0 in the low 32 bits, channel 1
    in the high 32. Bilinear weights are >= 0 and sum to ~2^22, so each field stays below
    2^21 + 255 * 2^22 < 2^31 and never carries into the other: the sums are exactly Pillow's."""
    cdef int x, t, n
    cdef uint64_t s01, k
    cdef uint32_t s2
    cdef const uint8_t* p
    cdef const int32_t* kp
    for x in range(count):
        p = src + bounds[2 * x] * 3
        n = bounds[2 * x + 1] if ragged else ksize
        kp = kk + x * ksize
        s01 = (<uint64_t>1 << (PRECISION_BITS - 1)) * ((<uint64_t>1 << 32) + 1)
        s2 = 1 << (PRECISION_BITS - 1)
        for t in range(n):
            k = <uint32_t>kp[t]
            s01 += (p[3 * t] | (<uint64_t>p[3 * t + 1] << 32)) * k
            s2 += p[3 * t + 2] * <uint32_t>k
        dst[3 * x] = _clip8(<int32_t><uint32_t>s01)
        dst[3 * x + 1] = _clip8(<int32_t>(s01 >> 32))
        dst[3 * x + 2] = _clip8(<int32_t>s2)


cdef int _one_band(const uint8_t* src, int h, int w, int rh, int rw, int top, int left,
                   int ch, int cw, size_t plane, const int* perm, const float* scale, const float* bias,
                   float* dst) noexcept nogil:
    """Resizes src (h x w x 3 uint8) to rh x rw, keeps rows top.. and columns left.. of size
    ch x cw, and writes dst[c * plane + ...] = pixel[perm[c]] * scale[c] + bias[c] (planes `plane`
    floats apart: a band may be part of a taller crop). 0, or -1 if out of memory."""
    cdef int kx = _taps(w, rw), ky = _taps(h, rh)
    cdef int* xb = <int*>malloc(2 * cw * sizeof(int))
    cdef int* yb = <int*>malloc(2 * ch * sizeof(int))
    cdef int32_t* xk = <int32_t*>malloc(cw * kx * sizeof(int32_t))
    cdef int32_t* yk = <int32_t*>malloc(ch * ky * sizeof(int32_t))
    cdef uint8_t* mid = NULL
    cdef int32_t* acc = NULL
    cdef int y0, y1, y, x, t, n, c, start, row = 3 * cw
    cdef int32_t k
    cdef const uint8_t* p
    cdef const int32_t* kp
    cdef uint8_t* m
    cdef float table[3 * 256]
    cdef const float* lut
    cdef const int32_t* a
    cdef float* out
    if xb == NULL or yb == NULL or xk == NULL or yk == NULL:
        free(xb); free(yb); free(xk); free(yk)
        return -1
    _coeffs(w, rw, left, cw, kx, xb, xk)
    _coeffs(h, rh, top, ch, ky, yb, yk)
    # Input rows the vertical pass reads, for the crop's rows only.
    y0 = yb[0]
    y1 = yb[2 * (ch - 1)] + yb[2 * (ch - 1) + 1]
    mid = <uint8_t*>malloc(<size_t>(y1 - y0) * row * sizeof(uint8_t))
    acc = <int32_t*>malloc(row * sizeof(int32_t))
    if mid == NULL or acc == NULL:
        free(xb); free(yb); free(xk); free(yk); free(mid); free(acc)
        return -1

    # Horizontal pass: rows y0..y1 of the input, crop columns of the resized width, uint8 out.
    # With every column given exactly kx taps, the common tap counts get unrolled copies.
    if w >= kx:
        _pad_taps(w, cw, kx, xb, xk)
    for y in range(y0, y1):
        m = mid + <size_t>(y - y0) * row
        p = src + <size_t>y * w * 3
        if w < kx:
            _hrow(p, m, cw, xb, xk, kx, 1)
        elif kx == 3:
            _hrow(p, m, cw, xb, xk, 3, 0)
        elif kx == 5:
            _hrow(p, m, cw, xb, xk, 5, 0)
        elif kx == 7:
            _hrow(p, m, cw, xb, xk, 7, 0)
        elif kx == 9:
            _hrow(p, m, cw, xb, xk, 9, 0)
        else:
            _hrow(p, m, cw, xb, xk, kx, 0)

    # The 256 possible values of each output channel, so normalizing is one table load.
    for c in range(3):
        for x in range(256):
            table[256 * c + x] = x * scale[c] + bias[c]

    # Vertical pass, one output row at a time over whole rows (contiguous: vectorizes), then
    # round, normalize and scatter the three channels to their planes.
    for y in range(ch):
        start, n = yb[2 * y], yb[2 * y + 1]
        kp = yk + y * ky
        for x in range(row):
            acc[x] = 1 << (PRECISION_BITS - 1)
        for t in range(n):
            k = kp[t]
            m = mid + <size_t>(start + t - y0) * row
            for x in range(row):
                acc[x] += m[x] * k
        for c in range(3):
            lut = table + 256 * c
            a = acc + perm[c]
            out = dst + c * plane + <size_t>y * cw
            for x in range(cw):
                out[x] = lut[_clip8(a[3 * x])]
    free(xb); free(yb); free(xk); free(yk); free(mid); free(acc)
    return 0


def resize_crop_normalize(const uintptr_t[::1] pixels, const int[::1] heights, const int[::1] widths,
                          const int[:, ::1] resized, const int[:, ::1] origin, const int[::1] perm,
                          const float[::1] scale, const float[::1] bias, float[:, :, :, ::1] out,
                          int num_threads):
    """out[i] = normalized center crop of image i resized (the caller validates everything).

    pixels[i]: address of image i, C-contiguous (heights[i], widths[i], 3) uint8, kept alive by
    the caller; resized[i] = (rh, rw); origin[i] = (top, left) of the crop; out: (N, 3, ch, cw).
    """
    cdef Py_ssize_t n = out.shape[0], i, j
    cdef int ch = <int>out.shape[2], cw = <int>out.shape[3]
    cdef size_t plane = <size_t>ch * cw
    cdef int failed = 0, r0, r1
    # Fewer images than threads: each image's crop rows split into bands, so one image uses
    # every thread too. A band re-reads the few input rows its neighbour's filter overlaps.
    cdef int bands = 1 if n >= num_threads else min(ch, (num_threads + <int>n - 1) // <int>n)
    for j in prange(n * bands, nogil=True, num_threads=num_threads, schedule="dynamic"):
        i = j // bands
        r0 = <int>((j % bands) * ch // bands)
        r1 = <int>((j % bands + 1) * ch // bands)
        if _one_band(<const uint8_t*>pixels[i], heights[i], widths[i], resized[i, 0], resized[i, 1],
                     origin[i, 0] + r0, origin[i, 1], r1 - r0, cw, plane, &perm[0], &scale[0], &bias[0],
                     &out[i, 0, r0, 0]) != 0:
            failed += 1
    if failed:
        raise MemoryError(f"out of memory while preprocessing {failed} of {n} images")
