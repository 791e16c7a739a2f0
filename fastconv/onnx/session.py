"""InferenceSession: load -> optimize -> build every operator once -> per input shape, a plan whose
memory planner hands kernel outputs buffers reused by liveness -> run many times, from many threads."""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .. import _C, _memory
from .._config import workers_held
from .._device import check_device
from . import _optimize
from ._ir import Graph
from ._layers import plain_f32
from ._load import OnnxLoadError, load_proto, to_graph
from ._registry import OPS, OpContext


# Plans (and their buffers) kept per session: enough for a few batch sizes x image sizes.
MAX_CACHED_SHAPES = 16


class NodeArg(NamedTuple):
    """A model input or output as onnxruntime describes it: name, shape (ints, names or None), type."""
    name: str
    shape: list
    type: str


class InferenceSession:
    """Runs an ONNX model on fastconv's CPU kernels, with onnxruntime's calling convention.

        sess = fastconv.InferenceSession("resnet50.onnx")
        (probs,) = sess.run(None, {sess.get_inputs()[0].name: images})

    model: a path, bytes or onnx.ModelProto. optimize: run the graph optimizer (constant folding,
    BatchNorm/Mul/Add folded into Conv, activations and residual adds fused into kernel epilogues);
    False runs the graph node by node as written (a list of passes from fastconv.onnx._optimize runs
    just those, for testing). threads: fastconv's thread count (process-wide).
    algo: convolution algorithm preference for every Conv ("auto" or a ConvPlan algorithm name).
    device: "cpu", or "cuda" to run on fastconv.gpu's kernels (CuPy arrays in, or numpy uploaded once;
    CuPy arrays out; the CNN subset of the ops, fastconv/onnx/_ops_gpu.py: a model with others is
    refused at load with the list).
    allow_tf32 (device="cuda" only): let the convolutions' cuBLAS GEMMs use TF32 tensor cores (faster,
    ~1e-3 relative error instead of fp32's ~1e-6); off unless asked for.
    providers / sess_options are accepted, and ignored, so onnxruntime code runs unchanged.
    run() may be called from several threads at once.
    """

    def __init__(self, model, *, optimize=True, threads: int | None = None, algo: str = "auto",
                 device: str = "cpu", allow_tf32: bool = False, providers=None, sess_options=None):
        import fastconv

        self.device = check_device(device)  # "cuda" without a GPU: ImportError naming `pip install fastconv[gpu]`
        if allow_tf32 and device != "cuda":
            raise ValueError("allow_tf32 applies to device='cuda' (the CPU engine computes in fp32)")
        if threads is not None:
            fastconv.set_num_threads(threads)
        graph = model if isinstance(model, Graph) else to_graph(*load_proto(model))  # a Graph: fastconv.Model's
        passes = _optimize.PASSES if optimize is True else (() if optimize is False else tuple(optimize))
        if device == "cuda" or algo != "auto":  # the blocked layout: the CPU engine's own algorithm choice
            passes = tuple(p for p in passes if p is not _optimize.block_layout)
        for p in passes:
            graph = p(graph)
        self.optimized = bool(passes)
        self._graph: Graph = graph
        ctx = OpContext(graph.opset, graph.constants, algo, bool(allow_tf32))
        if device == "cuda":
            from . import _ops_gpu
            missing = _ops_gpu.unsupported(graph)
            if missing:
                raise OnnxLoadError(f"{len(missing)} operator type(s) have no GPU implementation (run this model "
                                    "with device='cpu'): " + "; ".join(f"{op} (first: {where})"
                                                                      for op, where in missing.items()))
            self._kernels = [_ops_gpu.GPU_OPS[n.op](n, ctx) for n in graph.nodes]
            last = {v: i for i, n in enumerate(graph.nodes) for v in n.inputs if v}
            outputs = graph.output_names()
            self._gpu_frees = [[v for v in dict.fromkeys(n.inputs) if v and last.get(v) == i and v not in outputs
                                and v not in graph.constants] for i, n in enumerate(graph.nodes)]
        else:
            self._kernels = [OPS[n.op](n, ctx) for n in graph.nodes]
        self._plans: dict = {}
        self._lock = threading.Lock()

    # -- description --------------------------------------------------------------------------
    def get_inputs(self) -> list[NodeArg]:
        return [NodeArg(v.name, list(v.shape) if v.shape is not None else None, v.type) for v in self._graph.inputs]

    def get_outputs(self) -> list[NodeArg]:
        return [NodeArg(v.name, list(v.shape) if v.shape is not None else None, v.type) for v in self._graph.outputs]

    @property
    def graph(self) -> Graph:
        """The graph this session runs (after optimization), for inspection."""
        return self._graph

    # -- running ------------------------------------------------------------------------------
    def _check_feeds(self, feeds) -> dict:
        """{input name: array} checked against the model's inputs: names, dtype (other floats convert)
        and shape; on device="cuda" each array is uploaded (or kept, if already a CuPy array)."""
        if not isinstance(feeds, dict):
            raise TypeError(f"input_feed must be a dict {{input name: array}}, got {type(feeds).__name__}")
        expected = {v.name: v for v in self._graph.inputs}
        unknown = [k for k in feeds if k not in expected]
        if unknown:
            raise ValueError(f"unknown input name(s) {unknown}; the model's inputs are {list(expected)}")
        missing = [k for k in expected if k not in feeds]
        if missing:
            raise ValueError(f"missing input(s) {missing}; the model's inputs are "
                             f"{[(v.name, v.shape) for v in self._graph.inputs]}")
        out = {}
        for name, v in expected.items():
            x = feeds[name]
            if self.device == "cuda":
                from ..gpu._arrays import as_gpu_float32
                x = as_gpu_float32(x, f"input {name!r}")
            elif not isinstance(x, np.ndarray):
                if hasattr(x, "__cuda_array_interface__"):
                    raise TypeError(f"input {name!r} is a GPU array; pass a numpy array")
                x = np.asarray(x)
            if v.dtype is not None and x.dtype != v.dtype:
                if x.dtype.kind == "f" and v.dtype.kind == "f":
                    x = x.astype(v.dtype)  # fastconv's dtype rule: other floats convert
                else:
                    raise TypeError(f"input {name!r} has dtype {x.dtype}, the model expects {v.dtype}")
            if v.shape is not None:
                ok = x.ndim == len(v.shape) and all(not isinstance(d, int) or d == s or d == 0 and s == 0
                                                    for d, s in zip(v.shape, x.shape))
                if not ok:
                    want = tuple(d if d is not None else "?" for d in v.shape)
                    raise ValueError(f"input {name!r} has shape {tuple(x.shape)}, expected {want} "
                                     "(named dimensions may be any size)")
            out[name] = x
        return out

    def run(self, output_names, input_feed, run_options=None) -> list[np.ndarray]:
        """Runs the model; returns the requested outputs (all when output_names is None) in order."""
        names = [o.name for o in self._graph.outputs] if output_names is None else list(output_names)
        known = {o.name for o in self._graph.outputs}
        bad = [n for n in names if n not in known]
        if bad:
            raise ValueError(f"unknown output name(s) {bad}; the model's outputs are {sorted(known)}")
        if self.device == "cuda":
            return self._run_gpu(names, input_feed)
        with workers_held():  # from the start: waking the workers overlaps the checks
            feeds = self._check_feeds(input_feed)
            key = tuple((k, feeds[k].shape) for k in sorted(feeds))
            plan = self._plans.get(key)
            if plan is None:
                with self._lock:
                    plan = self._plans.get(key)
                    if plan is None:
                        if len(self._plans) >= MAX_CACHED_SHAPES:  # forget the oldest shape's buffers
                            self._plans.pop(next(iter(self._plans)))
                        plan = self._plans[key] = _Plan(self._graph, self._kernels)
            return plan.run(feeds, names)

    def _run_gpu(self, names, input_feed) -> list:
        """device="cuda": every node on the GPU in graph order, values kept as CuPy arrays until they
        die; no planned buffers (CuPy's memory pool reuses the freed ones)."""
        env = self._check_feeds(input_feed)
        g = self._graph
        for node, kernel, frees in zip(g.nodes, self._kernels, self._gpu_frees):
            args = [env.get(v, g.constants.get(v)) if v else None for v in node.inputs]
            while args and args[-1] is None:
                args.pop()
            try:
                result = kernel(*args)
            except Exception as e:
                raise _RunError(f"{node.label()} failed on device='cuda' with inputs "
                                f"{[None if a is None else getattr(a, 'shape', a) for a in args]}: {e}") from e
            for out_name, val in zip(node.outputs, result if isinstance(result, tuple) else (result,)):
                if out_name:
                    env[out_name] = val
            for v in frees:  # dead: back to CuPy's memory pool
                env.pop(v, None)
        return [env[n] for n in names]


class _Plan:
    """One input shape: the node order, when each value dies, and (after the first run has measured
    every shape) which buffer each Conv/Gemm output is written into."""

    def __init__(self, graph: Graph, kernels):
        self.graph, self.kernels = graph, kernels
        outputs = graph.output_names()
        last: dict[str, int] = {}
        for i, n in enumerate(graph.nodes):
            for v in n.inputs:
                last[v] = i
        self.frees = [[] for _ in graph.nodes]
        for v, i in last.items():
            if v and v not in outputs and v not in graph.constants:
                self.frees[i].append(v)
        for i, n in enumerate(graph.nodes):  # outputs nobody reads die at once
            self.frees[i] += [o for o in n.outputs if o and o not in last and o not in outputs]
        # per node: (slot, shape, size, part) of its planned output, or None; part: (the Concat's shape,
        # first channel) when it is written into a Concat's buffer
        self.slots = None
        self.slot_sizes: list[int] = []
        self.in_place: dict[int, list[tuple[int, int]]] = {}  # concat node -> (input index, offset in floats)
        self._arenas: list[list[np.ndarray]] = []
        self._programs: dict = {}  # id(arena) -> (arena, {first node: _Segment}): see _Recorder
        self._lock = threading.Lock()
        self._measure_lock = threading.Lock()

    def run(self, feeds, names):
        if self.slots is None:
            with self._measure_lock:
                if self.slots is None:
                    return self._run(feeds, names, None, measure=True)
        with self._lock:
            arena = self._arenas.pop() if self._arenas else [_memory.empty(s) for s in self.slot_sizes]
        try:
            return self._run(feeds, names, arena, measure=False)
        finally:
            with self._lock:
                self._arenas.append(arena)

    def _run(self, feeds, names, arena, measure):
        g = self.graph
        env = dict(g.constants)
        env.update(feeds)
        record = [] if measure else None
        replay = self._programs.get(id(arena)) if arena is not None and REPLAY else None
        recorder = _Recorder(g, feeds) if arena is not None and REPLAY and replay is None else None
        i, n_nodes = 0, len(g.nodes)
        while i < n_nodes:
            seg = replay[1].get(i) if replay is not None else None
            if seg is not None:  # a recorded run of kernels: one C++ call, no Python between them
                try:
                    seg.program.run([_plain_f32(env[f]) for f in seg.feeds])
                except Exception as e:
                    raise _RunError(f"nodes {i}..{seg.end - 1} ({g.nodes[i].label()} ...) failed: {e}") from e
                env.update(seg.produced)
                for j in range(i, seg.end):
                    for v in self.frees[j]:
                        env.pop(v, None)
                i = seg.end
                continue
            node, kernel = g.nodes[i], self.kernels[i]
            args = [env[v] if v else None for v in node.inputs]
            while args and args[-1] is None:
                args.pop()
            kwargs = {}
            if arena is not None and self.slots[i] is not None:
                slot, shape, size, part = self.slots[i]
                if part is None:
                    kwargs["out"] = arena[slot][:size].reshape(shape)
                else:  # its channel slice of the Concat's buffer (images lie apart when N > 1)
                    (whole, whole_size), c0 = part
                    kwargs["out"] = arena[slot][:whole_size].reshape(whole)[:, c0:c0 + shape[1]]
                parts = self.in_place.get(i)
                if parts is not None and len(parts) == sum(a is not None for a in args) \
                        and all(_address(args[k]) == _address(kwargs["out"]) + 4 * off for k, off in parts):
                    # every input was written into its place in this concat's buffer: nothing to copy
                    env[node.outputs[0]] = kwargs["out"]
                    if recorder is not None:
                        recorder.in_place(i, node, kwargs["out"])
                    for v in self.frees[i]:
                        env.pop(v, None)
                    i += 1
                    continue
            try:
                result = kernel(*args, **kwargs)
            except _RunError:
                raise
            except Exception as e:
                raise _RunError(f"{node.label()} failed on inputs "
                                f"{[None if a is None else getattr(a, 'shape', a) for a in args]}: {e}") from e
            results = result if isinstance(result, tuple) else (result,)
            for name, val in zip(node.outputs, results):
                if name:
                    env[name] = val if isinstance(val, np.ndarray) else np.asarray(val)
            if measure:
                record.append((args, results))
            if recorder is not None:
                recorder.node(i, node, kernel, args, kwargs.get("out"), results)
            for v in self.frees[i]:
                env.pop(v, None)
            i += 1
        if recorder is not None:
            self._programs[id(arena)] = (arena, recorder.finish())
        outs = [env[n] for n in names]
        constants = [id(c) for c in g.constants.values()] + [id(f) for f in feeds.values()]
        outs = [np.array(o) if (not o.flags.owndata or id(o) in constants) else o for o in outs]
        if measure:
            self._plan_memory(record)
        return outs

    def _plan_memory(self, record):
        """Greedy best-fit assignment of Conv/Gemm outputs to reusable float32 buffers by liveness.

        Values that may share memory with a planned buffer (views: Reshape, Slice, Identity...) extend
        its life; buffers reachable from a graph output are never reused (outputs are fresh arrays:
        a small output planned for itself is copied out)."""
        g = self.graph
        n_nodes = len(g.nodes)
        root: dict[str, str] = {}
        death: dict[str, int] = {}
        producer_index: dict[str, int] = {}
        for i, (node, (args, results)) in enumerate(zip(g.nodes, record)):
            for name, val in zip(node.outputs, results):
                if not name:
                    continue
                producer_index[name] = i
                root[name] = name
                for vin, a in zip(node.inputs, args):
                    if vin and a is not None and vin in root and isinstance(val, np.ndarray) \
                            and np.may_share_memory(val, a):
                        root[name] = root[vin]
        last_use: dict[str, int] = {}
        for i, node in enumerate(g.nodes):
            for v in node.inputs:
                if v in root:
                    last_use[root[v]] = max(last_use.get(root[v], -1), i)
        for name, r in root.items():
            death[r] = max(death.get(r, producer_index[r]), last_use.get(r, producer_index[r]))
        for o in g.outputs:
            if o.name in root:
                death[root[o.name]] = n_nodes  # never reused
        outputs = {o.name for o in g.outputs}

        def plannable(i):
            y, name = record[i][1][0], g.nodes[i].outputs[0]
            if not (getattr(self.kernels[i], "accepts_out", False) and isinstance(y, np.ndarray)
                    and y.dtype == np.float32 and root.get(name) == name):
                return False
            # A small graph output (a classifier's probabilities) gets a slot of its own, never
            # reused, and run() returns a copy: its node can then join a recorded program.
            return death[name] < n_nodes or (name in outputs and y.size <= SMALL_OUTPUT)

        # Concat inputs written in place: a planned output whose producer writes straight into its part
        # of the concat's buffer, so the concat copies only the other inputs (none: it is skipped). A
        # channel slice is contiguous for one image; with several, the producers must write images
        # that lie apart (kernels marked writes_strided_out). With one image, a part may have other
        # readers that run before the buffer dies, and may itself be a concat: DenseNet's chain
        # Concat(Concat(Concat(pool, t1), t2), t3) ... writes every layer's output once, into the
        # block's last concat, where each Concat copied all before it (batch 1: 1.5 ms of 13).
        parent: dict[int, tuple[int, int]] = {}  # producer -> (the concat it is a part of, first channel)
        consumers = g.consumers()

        def in_place_part(p, v, a, c, y) -> bool:
            """Whether producer p may write input v (recorded value a) of concat c straight into c's buffer."""
            if p is None or not plannable(p) or p in parent or not isinstance(a, np.ndarray) \
                    or a.ndim != y.ndim or a.shape[0] != y.shape[0]:
                return False
            if y.shape[0] == 1:  # contiguous: any reader of v that runs while the buffer lives may share it
                return death[v] <= death[g.nodes[c].outputs[0]]
            return len(consumers.get(v, ())) == 1 and getattr(self.kernels[p], "writes_strided_out", False)

        for c, node in enumerate(g.nodes):
            y = record[c][1][0]
            if node.op != "Concat" or not plannable(c) or y.ndim not in (4, 5) or y.shape[0] == 0 \
                    or int(node.attrs.get("axis", 1)) not in (1, -3):
                continue
            plane = int(np.prod(y.shape[2:]))  # floats per channel (blocked: per block of channels)
            c0, parts, taken = 0, [], set()
            for k, (v, a) in enumerate(zip(node.inputs, record[c][0])):
                p = producer_index.get(v)
                if p not in taken and in_place_part(p, v, a, c, y):  # Concat(a, a): the second copy is copied
                    parts.append((p, k, c0))
                    taken.add(p)
                c0 += a.shape[1] if isinstance(a, np.ndarray) and a.ndim == y.ndim else 0
            # With several images a part lies strided in the buffer, which only the producer handles: a
            # concat that still copies some input would be handed that view, so there all or none.
            if y.shape[0] > 1 and len(parts) != len([v for v in node.inputs if v]):
                continue
            for p, k, c0 in parts:
                parent[p] = (c, c0)
                self.in_place.setdefault(c, []).append((k, c0 * plane))

        def outermost(p):
            """The concat whose buffer holds p's output, and p's first channel in it."""
            c, c0 = parent[p]
            while c in parent:
                c, c1 = parent[c]
                c0 += c1
            return c, c0

        part_of = {p: outermost(p) for p in parent}
        first: dict[int, int] = {}  # outermost concat -> its first part's producer, which reserves the buffer
        for p, (c, _) in part_of.items():
            first[c] = min(first.get(c, p), p)
        first_part = {p: c for c, p in first.items()}

        slots: list = [None] * n_nodes
        sizes: list[int] = []
        free_at: list[int] = []  # node index after which each slot is free again

        def take_slot(i, size, until):
            """Best fit among slots free before node i (strictly: inputs of node i must not be overwritten)."""
            best = None
            for s, (have, free) in enumerate(zip(sizes, free_at)):
                if free < i and (best is None or abs(have - size) < abs(sizes[best] - size)):
                    best = s
            if best is None:
                sizes.append(size)
                free_at.append(until)
                return len(sizes) - 1
            sizes[best] = max(sizes[best], size)
            free_at[best] = until
            return best

        def residual_slot(i):
            """The slot of node i's residual where node i may write its output over it: a kernel whose
            epilogue reads each residual element just before it writes the output element in its place
            (residual_in_place: the blocked Conv) and a residual held in a slot of its own that no later
            node reads. A residual Add then reads and writes one buffer, not two: at batch 8 the
            expanding 1x1 layers of ResNet-50 are bound by that memory traffic."""
            if not getattr(self.kernels[i], "residual_in_place", False) or len(g.nodes[i].inputs) < 4:
                return None
            r, args = g.nodes[i].inputs[3], record[i][0]
            p = producer_index.get(r)
            if not r or p is None or slots[p] is None or slots[p][3] is not None or root.get(r) != r \
                    or death.get(r) != i or len(args) < 4 or args[3].size != record[i][1][0].size \
                    or p in concat_slot:  # a concat's parts may be read here too (one image: shared parts)
                return None
            return slots[p][0]

        concat_slot: dict[int, int] = {}
        for i, node in enumerate(g.nodes):
            if i in first_part:  # reserve the concat's buffer before its first part is written
                c = first_part[i]
                concat_slot[c] = take_slot(i, record[c][1][0].size, death[g.nodes[c].outputs[0]])
            if not plannable(i):
                continue
            y = record[i][1][0]
            if i in part_of:
                c, c0 = part_of[i]
                whole = record[c][1][0]
                slots[i] = (concat_slot[c], y.shape, y.size, ((whole.shape, whole.size), c0))
            elif i in concat_slot:
                slots[i] = (concat_slot[i], y.shape, y.size, None)
            elif IN_PLACE_RESIDUAL and (s := residual_slot(i)) is not None:
                free_at[s] = death[node.outputs[0]]
                slots[i] = (s, y.shape, y.size, None)
            else:
                slots[i] = (take_slot(i, y.size, death[node.outputs[0]]), y.shape, y.size, None)
        self.slot_sizes = sizes
        self.slots = slots


# Replay recorded runs of kernels in C++ (see _Recorder); False runs every node from Python.
REPLAY = True

# Let a residual Conv write its output over its residual where that dies there (_plan_memory);
# False gives each its own buffer, for comparison (ResNet-50 batch 8: 1.03-1.05x in place).
IN_PLACE_RESIDUAL = True

# Graph outputs of at most this many floats are written into a planned buffer and copied out.
SMALL_OUTPUT = 1 << 16


class _Segment(NamedTuple):
    program: object  # _C.Program
    end: int  # the node after the segment
    feeds: list  # names of the feeds the program reads, in its dynamic-input order
    produced: dict  # value name -> the planned buffer (view) a node of the segment writes


class _Recorder:
    """Finds, during one run on an arena, the runs of consecutive nodes that are plain engine calls
    on fixed memory, and records each as a _C.Program (csrc/python/bind-program.cc) that later runs
    replay with the GIL released and no Python between the kernels.

    A node is recorded when its kernel can describe itself (`kernel.record`: Conv, pooling, batch
    norm, LRN, Concat, Gemm as a dense layer, Softmax), it wrote its planned buffer in place, and each
    input is a constant, a feed (bound per run) or a planned buffer: memory that holds the same value at this point of every run, because
    the plan (node order, buffers, in-place concats) is fixed per input shape and arena. A view node
    (`kernel.is_view`: Flatten) of such memory joins the open segment as nothing to run."""

    def __init__(self, graph: Graph, feeds: dict):
        self.feed_of = {id(a): name for name, a in feeds.items()}
        self.stable = set(graph.constants) | set(feeds)  # values whose memory is the same every run
        self.segments: dict[int, _Segment] = {}
        self.open = None  # [first node, program, feeds, produced] of the segment being recorded

    def node(self, i, node, kernel, args, out, results):
        rec = getattr(kernel, "record", None)
        y = results[0] if len(results) == 1 else None
        if getattr(kernel, "is_view", False) and self.open is not None and node.inputs[0] in self.stable \
                and isinstance(y, np.ndarray) and isinstance(args[0], np.ndarray) and y.flags.c_contiguous \
                and y.nbytes == args[0].nbytes and _address(y) == _address(args[0]):
            # a reshaped view of a buffer a recorded node writes: nothing to run
            self.stable.add(node.outputs[0])
            self.open[3][node.outputs[0]] = y
            return
        # written into the planned buffer (possibly returned as a reshaped view of it)
        fixed = out is not None and isinstance(y, np.ndarray) and (
            y is out or (y.flags.c_contiguous and out.flags.c_contiguous and y.nbytes == out.nbytes
                         and _address(y) == _address(out)))
        ok = fixed and rec is not None and all(v in self.stable for v in node.inputs if v)
        if ok:
            if self.open is None:
                self.open = [i, _C.Program(), [], {}]
            ok = rec(self.open[1], args, y, self._dynamic)
        if ok:
            self.open[3][node.outputs[0]] = y
        else:
            self._close(i)
        if fixed:
            self.stable.add(node.outputs[0])

    def in_place(self, i, node, out):
        """A Concat whose parts were written in place: nothing to run; joins an open segment."""
        if all(v in self.stable for v in node.inputs if v):
            self.stable.add(node.outputs[0])
            if self.open is not None:
                self.open[3][node.outputs[0]] = out
                return
        self._close(i)

    def finish(self) -> dict:
        self._close(None)
        return self.segments

    def _dynamic(self, a) -> int:
        """The program's dynamic-input index of array a if it is a feed, else -1 (fixed memory)."""
        name = self.feed_of.get(id(a))
        if name is None:
            return -1
        feeds = self.open[2]
        if name not in feeds:
            feeds.append(name)
        return feeds.index(name)

    def _close(self, end):
        if self.open is not None:
            first, program, feeds, produced = self.open
            if len(program):
                self.segments[first] = _Segment(program, end if end is not None else first + len(produced),
                                                feeds, produced)
            self.open = None


def _plain_f32(a):
    """a as a float32, C-contiguous array (a recorded program's dynamic input)."""
    return a if plain_f32(a) else np.ascontiguousarray(a, dtype=np.float32)


def _address(a: np.ndarray) -> int:
    """The address of a's first element (cheaper than a.ctypes.data, which builds a ctypes view)."""
    return a.__array_interface__["data"][0]


class _RunError(RuntimeError):
    """A node failed while running: the message names it and its input shapes."""
