"""Whole-model benchmark for bench/RESULTS.md: the four default models (AlexNet, VGG-19, GoogLeNet,
ResNet-50 with seeded random weights) at batch 1 and 8, fastconv vs onnxruntime and openvino in the
same process, interleaved, medians after warm-up. One command on a quiet machine:

    python bench/bench_models.py            # -> bench/models.json, bench/models.png, the table on stdout

Extra arguments go to `fastconv bench` (e.g. --threads 2 --repeats 20 resnet50).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # an in-place build first

from fastconv.cli import main  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    args = sys.argv[1:]
    defaults = ["--json", os.path.join(HERE, "models.json"), "--plot", os.path.join(HERE, "models.png"),
                "--repeats", "15"]
    sys.exit(main(["bench", *defaults, *args]))
