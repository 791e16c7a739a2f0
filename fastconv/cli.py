"""The `fastconv` command: inspect, run, classify with, evaluate and benchmark ONNX models.

    fastconv info model.onnx
    fastconv run model.onnx --input x.npy --output y.npz
    fastconv classify cat.jpg dog.png --model resnet50.onnx --top 5
    fastconv evaluate --model resnet50.onnx --images val/ --labels val.csv --batch 32
    fastconv bench                          # AlexNet, VGG-19, GoogLeNet, ResNet-50 vs onnxruntime

Errors the user can fix (a missing file, an unreadable image, a file that is not ONNX, an input
that does not match the model) end the command with one line on stderr and exit status 1;
FASTCONV_DEBUG=1 shows the traceback instead.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

EXIT_ERROR = 1


class CommandError(Exception):
    """A problem the user can fix; main() prints its message and exits with EXIT_ERROR."""


# -- helpers --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _int_list(text: str) -> list[int]:
    return [_positive_int(t) for t in text.split(",") if t.strip()]


def _name_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _need_file(path: str, what: str) -> str:
    if not os.path.exists(path):
        raise CommandError(f"{what} not found: {path}")
    if os.path.isdir(path):
        raise CommandError(f"{what} {path} is a directory, expected a file")
    return path


def _open_model(path: str):
    """(ModelProto, InferenceSession) for a model file, or CommandError."""
    from . import _models

    _need_file(path, "model file")
    proto = _models.load(path)
    return proto, _models.session(proto)


def _image_input(session, model_path: str):
    """(input name, crop (h, w)) of a model that takes (N, 3, H, W) images."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise CommandError(f"{model_path} has {len(inputs)} inputs {[i.name for i in inputs]}; "
                           "classify and evaluate need a model with one image input")
    shape = inputs[0].shape
    if shape is None or len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
        raise CommandError(f"{model_path} input {inputs[0].name!r} has shape {shape}; classify and evaluate need "
                           "an image model with input (N, 3, H, W)")
    h, w = shape[2], shape[3]
    crop = (h, w) if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0 else (224, 224)
    return inputs[0].name, crop


def _labels(path, classes: int):
    from .classify import imagenet_labels, load_labels

    if path:
        labels = load_labels(_need_file(path, "label file"))
        if len(labels) != classes:
            raise CommandError(f"label file {path} has {len(labels)} labels but the model has {classes} classes")
        return labels
    return imagenet_labels() if classes == 1000 else [str(i) for i in range(classes)]


def _preprocess_args(p):
    p.add_argument("--size", type=_positive_int, default=256, help="shorter side after resizing (default 256)")
    p.add_argument("--crop", type=_positive_int, default=None,
                   help="center crop side (default: the model's input size, else 224)")
    p.add_argument("--mode", choices=("imagenet", "caffe"), default="imagenet",
                   help="imagenet: RGB in [0,1] normalized by ImageNet mean/std (torchvision models); "
                        "caffe: BGR 0-255 minus the mean pixel (Caffe/Caffe2 models)")


def _preprocess(images, args, crop):
    from .preprocess import preprocess

    crop = (args.crop, args.crop) if args.crop else crop
    if min(crop) > args.size:
        raise CommandError(f"crop {crop[0]}x{crop[1]} is larger than --size {args.size}; pass --size >= crop")
    return preprocess(images, size=args.size, crop=crop, mode=args.mode)


def _si(flops: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if flops >= scale:
            return f"{flops / scale:.2f} {unit}"
    return str(flops)


def _scores(session, name, x):
    out = session.run(None, {name: x})[0]
    out = np.asarray(out)
    return out.reshape(out.shape[0], -1)


# -- commands -------------------------------------------------------------------------------------
def cmd_info(args) -> int:
    from . import _models

    _models.require_onnx()
    if args.model in _models.ZOO and not os.path.exists(args.model):
        proto = _models.default_model(args.model)
    else:
        _need_file(args.model, "model file")
        proto = _models.load(args.model)
    s = _models.summarize(proto, batch=args.batch)
    print(f"model:      {args.model}  (opset {', '.join(str(o.version) for o in proto.opset_import)}, "
          f"producer {proto.producer_name or '?'})")
    for t in s.inputs:
        print(f"input:      {t}")
    for t in s.outputs:
        print(f"output:     {t}")
    print(f"parameters: {s.parameters:,}")
    print(f"FLOPs:      {_si(s.flops)} at batch {args.batch} (2 x multiply-adds of Conv/Gemm/MatMul)")
    print(f"ops:        {', '.join(f'{op} {n}' for op, n in s.ops.items())}")
    if s.convs:
        print(f"\n{'conv (output)':<32}{'weight':<20}{'stride':<8}{'pads':<14}{'group':>6}{'input':>10}{'FLOPs':>9}  algorithm")
        for c in s.convs:
            hw = f"{c.input_hw[0]}x{c.input_hw[1]}" if c.input_hw else "?"
            print(f"{c.name[:31]:<32}{'x'.join(map(str, c.weight)):<20}{'x'.join(map(str, c.stride)):<8}"
                  f"{','.join(map(str, c.pads)):<14}{c.group:>6}{hw:>10}{_si(c.flops):>9}  {c.algo or '?'}")
    return 0


def _load_inputs(path: str, session) -> dict:
    _need_file(path, "input file")
    names = [i.name for i in session.get_inputs()]
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise CommandError(f"cannot read {path} as a .npy/.npz array file: {e}") from None
    if isinstance(data, np.ndarray):
        if len(names) != 1:
            raise CommandError(f"the model has inputs {names}; pass an .npz with one array per input name")
        return {names[0]: data}
    with data:
        feeds = {k: data[k] for k in data.files}
    if len(names) == 1 and len(feeds) == 1:
        return {names[0]: next(iter(feeds.values()))}
    missing = [n for n in names if n not in feeds]
    if missing:
        raise CommandError(f"{path} has arrays {sorted(feeds)}; the model needs inputs {names} (missing {missing})")
    return {n: feeds[n] for n in names}


def cmd_run(args) -> int:
    _, session = _open_model(args.model)
    feeds = _load_inputs(args.input, session)
    outputs = session.run(None, feeds)
    names = [o.name for o in session.get_outputs()]
    if args.output:
        np.savez(args.output, **dict(zip(names, outputs)))
        print(f"wrote {len(outputs)} output(s) to {args.output}")
    for name, y in zip(names, outputs):
        y = np.asarray(y)
        stats = f"min {y.min():.6g} max {y.max():.6g} mean {y.mean():.6g}" if y.size and y.dtype.kind == "f" else ""
        print(f"{name}: {y.dtype}{list(y.shape)} {stats}")
    return 0


def cmd_classify(args) -> int:
    from .classify import topk

    _, session = _open_model(args.model)
    name, crop = _image_input(session, args.model)
    for path in args.images:
        _need_file(path, "image file")
    x = _preprocess(args.images, args, crop)
    scores = _scores(session, name, x)
    labels = _labels(args.labels, scores.shape[1])
    for path, best in zip(args.images, topk(scores, args.top, labels)):
        print(path)
        for rank, (label, p) in enumerate(best, 1):
            print(f"  {rank}. {label} ({p:.4f})")
    return 0


def _read_targets(csv_path: str, images_dir: str, labels) -> list:
    """(image path, class index) per row of `file,label` (label: an index or a class name; an
    optional header row is skipped)."""
    _need_file(csv_path, "label CSV")
    if not os.path.isdir(images_dir):
        raise CommandError(f"image folder not found: {images_dir}")
    index = {name: i for i, name in enumerate(labels)}
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 2:
                raise CommandError(f"{csv_path}:{line_no}: expected 'file,label', got {','.join(row)!r}")
            file, label = row[0].strip(), row[1].strip()
            if label.lstrip("-").isdigit():
                target = int(label)
                if not 0 <= target < len(labels):
                    raise CommandError(f"{csv_path}:{line_no}: label {target} is not a class index in [0, {len(labels)})")
            elif label in index:
                target = index[label]
            elif line_no == 1 and not os.path.exists(os.path.join(images_dir, file)):
                continue  # a header row such as 'file,label'
            else:
                raise CommandError(f"{csv_path}:{line_no}: label {label!r} is neither a class index nor a class name")
            path = os.path.join(images_dir, file)
            _need_file(path, f"image file (from {csv_path}:{line_no})")
            rows.append((path, target))
    if not rows:
        raise CommandError(f"{csv_path} lists no images: expected rows 'file,label'")
    return rows


def cmd_evaluate(args) -> int:
    from .benchmark import progress
    from .metrics import topk_correct

    _, session = _open_model(args.model)
    name, crop = _image_input(session, args.model)
    classes = int(np.prod([d for d in session.get_outputs()[0].shape[1:] if isinstance(d, int)] or [0]))
    rows = _read_targets(args.labels, args.images, _labels(args.class_names, classes) if classes else
                         _labels(args.class_names, 1000))
    correct1 = correct5 = 0
    batches = range(0, len(rows), args.batch)
    for start in progress(batches, total=len(batches), desc="evaluate", enabled=not args.quiet):
        chunk = rows[start:start + args.batch]
        scores = _scores(session, name, _preprocess([p for p, _ in chunk], args, crop))
        targets = np.array([t for _, t in chunk])
        if targets.max() >= scores.shape[1]:
            raise CommandError(f"a label is {targets.max()} but the model has only {scores.shape[1]} classes")
        correct1 += int(np.sum(topk_correct(scores, targets, 1)))
        correct5 += int(np.sum(topk_correct(scores, targets, min(5, scores.shape[1]))))
    n = len(rows)
    print(f"images: {n}")
    print(f"top-1 error: {1 - correct1 / n:.4f}  ({n - correct1} wrong)")
    print(f"top-5 error: {1 - correct5 / n:.4f}  ({n - correct5} wrong)")
    return 0


def cmd_bench(args) -> int:
    from . import _C, _models, benchmark

    _models.require_onnx()  # before measuring anything: say how to install what is missing
    threads = args.threads or _C.num_threads()
    models = []
    for m in args.models or list(_models.ZOO):
        if m in _models.ZOO and not os.path.exists(m):
            models.append((m, lambda m=m: _models.default_model(m, seed=0)))
        else:
            _need_file(m, "model file")
            models.append((os.path.splitext(os.path.basename(m))[0], lambda m=m: _models.load(m)))
    peers = [p for p in args.vs if p not in ("", "none")]
    unknown = [p for p in peers if p not in benchmark.PEERS]
    if unknown:
        raise CommandError(f"--vs {','.join(unknown)}: unknown peer; choose from {', '.join(benchmark.PEERS)}")
    peak = benchmark.machine_peak(threads)
    core_before = benchmark.core_latency()
    notes, results = [], []
    for name, build in models:
        model = build()
        for batch in args.batch:
            try:
                results += benchmark.bench_model(name, model, batch, threads, peers, args.warmup, args.repeats,
                                                 peak[0], show_progress=not args.quiet, notes=notes)
            except (ValueError, RuntimeError) as e:  # e.g. a graph that pins the batch size: go on
                notes.append(f"{name} at batch {batch}: {_first_line(e)}")
    if not results:
        raise CommandError("nothing was benchmarked: " + "; ".join(notes))
    for note in notes:
        print(f"skipped: {note}")
    print(benchmark.format_table(results, peak))
    print(benchmark.core_latency_line(core_before, benchmark.core_latency()))
    if args.json:
        benchmark.write_json(args.json, results, peak, threads)
        print(f"wrote {args.json}")
    if args.plot:
        benchmark.plot(results, args.plot)
        print(f"wrote {args.plot}")
    return 0


# -- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastconv", description="Run and benchmark CNNs (ONNX) on fastconv's CPU engine.")
    parser.add_argument("--version", action="version", version=f"fastconv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("info", help="inputs, outputs, ops, parameters, FLOPs and the algorithm of each conv",
                       description="Describe an ONNX model: inputs/outputs, op counts, parameters, FLOPs, and the "
                                   "algorithm fastconv uses for each convolution.")
    p.add_argument("model", metavar="MODEL.onnx", help="an .onnx file, or a default model name "
                   "(alexnet, vgg19, googlenet, resnet50)")
    p.add_argument("--batch", type=_positive_int, default=1, help="batch size for shapes and FLOPs (default 1)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("run", help="run a model on arrays saved with numpy",
                       description="Run a model on inputs from a .npy (one input) or .npz (one array per input "
                                   "name) file; print the outputs' shapes, and save them with --output.")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("--input", required=True, metavar="X.npy", help=".npy or .npz file with the input(s)")
    p.add_argument("--output", metavar="Y.npz", help="save the outputs here, keyed by output name")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("classify", help="top-k classes of images",
                       description="Classify images with an ImageNet-style model and print the top-k classes "
                                   "with their probabilities.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any format Pillow reads)")
    p.add_argument("--model", required=True, metavar="MODEL.onnx")
    p.add_argument("--top", type=_positive_int, default=5, help="classes to show per image (default 5)")
    p.add_argument("--labels", metavar="FILE", help="class names, one per line (default: ImageNet's 1000)")
    _preprocess_args(p)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="top-1 / top-5 error over a folder of labelled images",
                       description="Top-1 and top-5 error of a model over the images listed in a CSV "
                                   "('file,label' rows; label = class index or class name).")
    p.add_argument("--model", required=True, metavar="MODEL.onnx")
    p.add_argument("--images", required=True, metavar="DIR", help="folder the CSV's file names are relative to")
    p.add_argument("--labels", required=True, metavar="CSV", help="rows 'file,label'")
    p.add_argument("--class-names", metavar="FILE", help="class names, one per line (default: ImageNet's 1000)")
    p.add_argument("--batch", type=_positive_int, default=32, help="images per model call (default 32)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _preprocess_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("bench", help="latency and throughput vs onnxruntime/openvino",
                       description="Benchmark models against peer runtimes in the same process. With no model: "
                                   "AlexNet, VGG-19, GoogLeNet and ResNet-50 from the onnx wheel's model zoo "
                                   "with seeded random weights (no download).")
    p.add_argument("models", nargs="*", metavar="MODEL", help=".onnx files or default names "
                   f"({', '.join(('alexnet', 'vgg19', 'googlenet', 'resnet50'))})")
    p.add_argument("--batch", type=_int_list, default=[1, 8], help="comma-separated batch sizes (default 1,8)")
    p.add_argument("--threads", type=_positive_int, default=None, help="threads for every runtime (default: fastconv's)")
    p.add_argument("--vs", type=_name_list, default=["onnxruntime", "openvino"],
                   help="comma-separated peers (default onnxruntime,openvino; 'none' for fastconv alone)")
    p.add_argument("--repeats", type=_positive_int, default=10, help="timed runs per runtime (default 10)")
    p.add_argument("--warmup", type=_positive_int, default=2, help="untimed runs first (default 2)")
    p.add_argument("--json", metavar="FILE", help="write all results and samples as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw a bar chart of images/s (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if os.environ.get("FASTCONV_DEBUG"):
        return args.func(args)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("fastconv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `fastconv info m.onnx | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (CommandError, FileNotFoundError, ValueError, TypeError, ImportError, OSError, MemoryError) as e:
        print(f"fastconv {args.command}: error: {_first_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    except RuntimeError as e:  # the engine failed while running: say so, and how to see more
        print(f"fastconv {args.command}: error: {type(e).__name__}: {_first_line(e)} "
              "(FASTCONV_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_ERROR


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


if __name__ == "__main__":
    sys.exit(main())
