"""The `fastconv` command, run as a user runs it (`python -m fastconv` in a subprocess), against a
small model built here and generated images; never the network. Results are checked against
onnxruntime (the reference) and the error paths for their one-line message and exit status."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastconv

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime (the reference) is not installed")
Image = pytest.importorskip("PIL.Image", reason="Pillow (the 'image' extra) is not installed")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = 10


def fastconv_cmd(*args, env=None):
    """Runs `python -m fastconv ARGS` from the repository root (the build under test)."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("FASTCONV_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "fastconv", *map(str, args)], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Conv 3->8 (3x3, stride 2, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax,
    input (N, 3, 32, 32), 10 classes."""
    rng = np.random.default_rng(7)
    inits = {"W": rng.standard_normal((8, 3, 3, 3)) * 0.5, "B": rng.standard_normal(8) * 0.1,
             "G": rng.standard_normal((8, CLASSES)) * 2, "C": rng.standard_normal(CLASSES) * 0.1}
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "G", "C"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["prob"], axis=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", CLASSES])],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    d = tmp_path_factory.mktemp("cli")
    path = d / "tiny.onnx"
    onnx.save(model, path)
    images = []
    for i, (h, w) in enumerate([(48, 64), (40, 40), (70, 45)]):
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        images.append(d / f"img{i}.png")
        img.save(images[-1])
    return {"dir": d, "model": path, "images": images, "ort": ort.InferenceSession(str(path))}


def ort_probs(tiny, x):
    return tiny["ort"].run(None, {"x": x})[0]


def test_console_script_points_at_main(capsys):
    """`pip install` makes a `fastconv` script calling fastconv.cli:main, the function tested here."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    assert scripts == {"fastconv": "fastconv.cli:main"}
    from fastconv.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"fastconv {fastconv.__version__}"


@pytest.mark.parametrize("command", [[], ["info"], ["run"], ["classify"], ["evaluate"], ["bench"]])
def test_every_command_has_help(command):
    result = fastconv_cmd(*command, "--help")
    assert result.returncode == 0 and "usage: fastconv" in result.stdout


def test_info(tiny):
    result = fastconv_cmd("info", tiny["model"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "input:      x: float32[N, 3, 32, 32]" in out and "output:     prob: float32[N, 10]" in out
    assert f"parameters: {8 * 27 + 8 + 8 * CLASSES + CLASSES:,}" in out
    # conv: 2 * (8*16*16 outputs) * 27 + gemm: 2 * 10 * 8
    assert f"FLOPs:      {(2 * 8 * 16 * 16 * 27 + 2 * CLASSES * 8) / 1e3:.2f} k at batch 1" in out
    assert "Conv 1, Relu 1, GlobalAveragePool 1, Flatten 1, Gemm 1, Softmax 1" in out
    algo = fastconv.ConvPlan(np.ones((8, 3, 3, 3), np.float32), None, 2, 1).algo_for(32, 32)
    conv_line = next(line for line in out.splitlines() if line.startswith("c "))
    assert conv_line.split()[-1] == algo and "8x3x3x3" in conv_line and "32x32" in conv_line


def test_run_matches_onnxruntime(tiny, tmp_path, rng):
    x = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    result = fastconv_cmd("run", tiny["model"], "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npz")
    assert result.returncode == 0, result.stderr
    assert "prob: float32[3, 10]" in result.stdout
    with np.load(tmp_path / "y.npz") as y:
        np.testing.assert_allclose(y["prob"], ort_probs(tiny, x), rtol=1e-5, atol=1e-6)
    np.savez(tmp_path / "x.npz", x=x)  # .npz keyed by input name works too
    assert fastconv_cmd("run", tiny["model"], "--input", tmp_path / "x.npz").returncode == 0


def test_classify_prints_topk_like_onnxruntime(tiny, tmp_path):
    labels = tmp_path / "labels.txt"
    names = [f"class-{i}" for i in range(CLASSES)]
    labels.write_text("\n".join(names) + "\n")
    result = fastconv_cmd("classify", *tiny["images"], "--model", tiny["model"], "--top", 3, "--size", 32,
                          "--labels", labels)
    assert result.returncode == 0, result.stderr
    x = fastconv.preprocess(tiny["images"], size=32, crop=32)
    probs = ort_probs(tiny, x)
    expected = []
    for path, p in zip(tiny["images"], probs):
        expected.append(str(path))
        for rank, c in enumerate(np.argsort(-p, kind="stable")[:3], 1):
            expected.append(f"  {rank}. {names[c]} ({p[c]:.4f})")
    assert result.stdout.splitlines() == expected


def test_evaluate_reports_top1_top5_error(tiny, tmp_path):
    x = fastconv.preprocess(tiny["images"], size=32, crop=32)
    order = np.argsort(-ort_probs(tiny, x), axis=1, kind="stable")
    # image 0: right at top-1; image 1: its 4th choice (top-5 only); image 2: its last choice (wrong).
    targets = [order[0, 0], order[1, 3], order[2, -1]]
    csv = tmp_path / "val.csv"
    csv.write_text("file,label\n" + "".join(f"{p.name},{t}\n" for p, t in zip(tiny["images"], targets)))
    result = fastconv_cmd("evaluate", "--model", tiny["model"], "--images", tiny["dir"], "--labels", csv,
                          "--batch", 2, "--size", 32, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "images: 3" in result.stdout
    assert "top-1 error: 0.6667  (2 wrong)" in result.stdout
    assert "top-5 error: 0.3333  (1 wrong)" in result.stdout


def test_evaluate_reads_class_names_in_the_csv(tiny, tmp_path):
    x = fastconv.preprocess(tiny["images"], size=32, crop=32)
    best = np.argmax(ort_probs(tiny, x), axis=1)
    names = [f"kind {i}" for i in range(CLASSES)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    rows = [f"{p.name},{names[b]}" for p, b in zip(tiny["images"], best)]
    rows[2] = f"{tiny['images'][2].name},{names[(best[2] + 1) % CLASSES]}"
    (tmp_path / "val.csv").write_text("# comment\n" + "\n".join(rows) + "\n")
    result = fastconv_cmd("evaluate", "--model", tiny["model"], "--images", tiny["dir"], "--labels",
                          tmp_path / "val.csv", "--class-names", tmp_path / "names.txt", "--size", 32, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "top-1 error: 0.3333  (1 wrong)" in result.stdout
    (tmp_path / "bad.csv").write_text(f"{tiny['images'][0].name},no such class\n")
    assert_one_line_error(fastconv_cmd("evaluate", "--model", tiny["model"], "--images", tiny["dir"], "--labels",
                                       tmp_path / "bad.csv", "--class-names", tmp_path / "names.txt"),
                          "bad.csv:1: label 'no such class' is neither a class index nor a class name")


def test_bench_json(tiny, tmp_path):
    result = fastconv_cmd("bench", tiny["model"], "--batch", "1,2", "--vs", "onnxruntime", "--repeats", 3,
                          "--warmup", 1, "--json", tmp_path / "b.json", "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "b.json").read_text())
    rows = {(r["batch"], r["runtime"]): r for r in report["results"]}
    assert set(rows) == {(1, "fastconv"), (1, "onnxruntime"), (2, "fastconv"), (2, "onnxruntime")}
    for (batch, runtime), r in rows.items():
        assert len(r["samples_ms"]) == 3 and r["min_ms"] <= r["median_ms"]
        assert r["images_per_s"] == pytest.approx(batch / (r["median_ms"] / 1e3))
        assert r["gflop_per_image"] == pytest.approx((2 * 8 * 16 * 16 * 27 + 2 * CLASSES * 8) / 1e9)
        assert r["gflops"] == pytest.approx(r["gflop_per_image"] * batch / (r["median_ms"] / 1e3))
        if runtime == "onnxruntime":
            assert r["ratio"] == pytest.approx(r["median_ms"] / rows[(batch, "fastconv")]["median_ms"])
            assert r["max_abs_diff"] < 1e-5  # same model, same input, same answer
    assert report["peak_gflops"] > 0
    assert "tiny" in result.stdout and "onnxruntime" in result.stdout


def test_bench_plot(tiny, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (the 'bench' extra), not installed")
    result = fastconv_cmd("bench", tiny["model"], "--batch", 1, "--vs", "none", "--repeats", 1, "--quiet",
                          "--plot", tmp_path / "b.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_skips_a_missing_peer_with_one_line(tiny, tmp_path):
    blocker = tmp_path / "blocked"
    (blocker / "openvino").mkdir(parents=True)
    (blocker / "openvino" / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    result = fastconv_cmd("bench", tiny["model"], "--batch", 1, "--vs", "openvino", "--repeats", 1, "--quiet",
                          env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 0, result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped:")]
    assert skipped == ["skipped: openvino is not installed: pip install openvino   (or: pip install \"fastconv[bench]\")"]


def test_error_paths_one_line_nonzero(tiny, tmp_path, rng):
    missing = tmp_path / "missing.onnx"
    assert_one_line_error(fastconv_cmd("info", missing), "model file not found", "missing.onnx")
    not_onnx = tmp_path / "notes.onnx"
    not_onnx.write_text("hello, I am not a model\n" * 20)
    assert_one_line_error(fastconv_cmd("info", not_onnx), "notes.onnx is not an ONNX model")
    assert_one_line_error(fastconv_cmd("run", not_onnx, "--input", missing), "not")
    bad_image = tmp_path / "broken.jpg"
    bad_image.write_bytes(b"\xff\xd8\xff garbage")
    assert_one_line_error(fastconv_cmd("classify", bad_image, "--model", tiny["model"], "--size", 32),
                          "cannot read", "broken.jpg")
    assert_one_line_error(fastconv_cmd("classify", tmp_path / "nope.png", "--model", tiny["model"]),
                          "image file not found", "nope.png")
    np.save(tmp_path / "wrong.npy", rng.standard_normal((1, 4, 32, 32)).astype(np.float32))
    assert_one_line_error(fastconv_cmd("run", tiny["model"], "--input", tmp_path / "wrong.npy"),
                          "(1, 4, 32, 32)")
    assert_one_line_error(fastconv_cmd("run", tiny["model"], "--input", tmp_path / "none.npy"),
                          "input file not found")
    csv = tmp_path / "bad.csv"
    csv.write_text("img0.png,99\n")
    assert_one_line_error(fastconv_cmd("evaluate", "--model", tiny["model"], "--images", tiny["dir"],
                                       "--labels", csv), "label 99 is not a class index")
    assert_one_line_error(fastconv_cmd("bench", tiny["model"], "--vs", "tensorflow"), "unknown peer")
    gray = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "gray",
                             [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 28, 28])])
    onnx.save(helper.make_model(gray, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "gray.onnx")
    assert_one_line_error(fastconv_cmd("classify", tiny["images"][0], "--model", tmp_path / "gray.onnx"),
                          "has shape ['N', 1, 28, 28]", "need an image model with input (N, 3, H, W)")
    usage = fastconv_cmd("bench", "--batch", "0")
    assert usage.returncode == 2 and "expected a positive integer" in usage.stderr


def test_bench_goes_on_past_a_batch_the_model_cannot_run(tmp_path):
    """A Reshape pinned to batch 2: batch 1 is skipped with one line, batch 2 is measured."""
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "pinned",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 48])],
                              [numpy_helper.from_array(np.array([2, 48], np.int64), "s")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "pinned.onnx")
    result = fastconv_cmd("bench", tmp_path / "pinned.onnx", "--batch", "1,2", "--vs", "none", "--repeats", 1,
                          "--quiet", "--json", tmp_path / "p.json")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("skipped:")][0].startswith(
        "skipped: pinned at batch 1: ")
    assert [r["batch"] for r in json.loads((tmp_path / "p.json").read_text())["results"]] == [2]


@pytest.mark.slow
def test_bench_default_model_agrees_with_onnxruntime(tmp_path):
    """A default model by name (built from the onnx wheel, seeded weights): fastconv and
    onnxruntime give the same probabilities, and the FLOP count is GoogLeNet's."""
    result = fastconv_cmd("bench", "googlenet", "--batch", "1,2", "--vs", "onnxruntime", "--repeats", 1,
                          "--warmup", 1, "--json", tmp_path / "g.json", "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "g.json").read_text())
    for r in report["results"]:
        assert r["gflop_per_image"] == pytest.approx(2.863, rel=1e-3)  # 1.43 G multiply-adds per image (Szegedy et al.: ~1.5)
        if r["runtime"] == "onnxruntime":
            assert r["max_abs_diff"] < 1e-4
