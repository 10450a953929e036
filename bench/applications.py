"""keras.applications inference: cornu ``predict`` vs a hand-written PyTorch forward of the same network.

For ResNet50 and MobileNetV2 (and EfficientNetB0, cornu only: no torch reference written for it) the
contenders are:

- ``cornu_predict``: ``model.predict(x, batch_size=B)`` on a NumPy batch of images, as a user calls it.
- ``torch_eager``: the same architecture written by hand as a ``torch.nn.Module`` (below), carrying the
  cornu model's weights, in ``channels_last`` memory under ``torch.inference_mode``; it takes the same
  NumPy images, moves them to the device once, runs batch by batch and returns a NumPy array, so both
  sides pay the same transfers. Its outputs are checked against cornu's before timing.

torchvision does not install against the pinned CPU torch here, hence the hand-written references.
Rounds are interleaved (one pass over the images per contender per round); round 0 is the warm-up;
``images_per_s`` is from the median wall time of the later rounds (``median_cpu_s``: the process's CPU
time, the steadier figure on a shared machine). One JSON line per contender and model, then the ratio
cornu/torch of the median wall times (``value``; above 1 means cornu is slower), the median of the
per-round ratios and the ratio of the CPU medians (``cpu_value``).

    python bench/applications.py [--models ResNet50 MobileNetV2 EfficientNetB0] [--size 224] [--batch-size 32]
                                 [--images 64] [--rounds 3] [--threads 1] [--device cuda]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cornu as keras


def tf_same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) of one spatial axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class ConvBN(nn.Module):
    """Conv2d (optionally depthwise) + BatchNorm in inference; ``pad`` is applied explicitly (TF semantics)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, bias: bool = False,
                 eps: float = 1e-3, act: str | None = None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, 0, groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(c_out, eps=eps)
        self.k, self.stride, self.act = k, stride, act

    def forward(self, x):
        if self.k > 1:
            ph, pw = tf_same_pad(x.shape[2], self.k, self.stride), tf_same_pad(x.shape[3], self.k, self.stride)
            x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        x = self.bn(self.conv(x))
        if self.act == "relu":
            return F.relu(x)
        if self.act == "relu6":
            return F.relu6(x)
        return x


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, filters: int, stride: int, shortcut: bool):
        super().__init__()
        eps = 1.001e-5
        self.shortcut = ConvBN(c_in, 4 * filters, 1, stride, bias=True, eps=eps) if shortcut else None
        self.c1 = ConvBN(c_in, filters, 1, stride, bias=True, eps=eps, act="relu")
        self.c2 = ConvBN(filters, filters, 3, 1, bias=True, eps=eps, act="relu")
        self.c3 = ConvBN(filters, 4 * filters, 1, 1, bias=True, eps=eps)

    def forward(self, x):
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(s + self.c3(self.c2(self.c1(x))))


class TorchResNet50(nn.Module):
    """ResNet50 as Keras builds it (biased convolutions, BN eps 1.001e-5, TF padding of the stem)."""

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.stem = ConvBN(3, 64, 7, 2, bias=True, eps=1.001e-5, act="relu")
        blocks, c_in = [], 64
        for filters, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for i in range(count):
                blocks.append(Bottleneck(c_in, filters, stride if i == 0 else 1, i == 0))
                c_in = 4 * filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.relu(self.stem.bn(self.stem.conv(F.pad(x, (3, 3, 3, 3)))))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        x = self.blocks(x)
        return F.softmax(self.fc(x.mean((2, 3))), dim=-1)

    def keras_names(self) -> list[tuple[nn.Module, str]]:
        """(torch module, Keras layer name) pairs for copying the weights."""
        pairs = [(self.stem, "conv1")]
        idx = 0
        for stage, count in zip((2, 3, 4, 5), (3, 4, 6, 3)):
            for i in range(1, count + 1):
                b = self.blocks[idx]
                prefix = f"conv{stage}_block{i}"
                pairs += [(b.c1, prefix + "_1"), (b.c2, prefix + "_2"), (b.c3, prefix + "_3")]
                if b.shortcut is not None:
                    pairs.append((b.shortcut, prefix + "_0"))
                idx += 1
        return pairs


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int):
        super().__init__()
        hidden = c_in * expansion
        self.expand = ConvBN(c_in, hidden, 1, act="relu6") if expansion != 1 else None
        self.dw = ConvBN(hidden, hidden, 3, stride, groups=hidden, act="relu6")
        self.project = ConvBN(hidden, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        y = self.project(self.dw(x if self.expand is None else self.expand(x)))
        return x + y if self.residual else y


class TorchMobileNetV2(nn.Module):
    """MobileNetV2 (alpha 1.0) as Keras builds it: TF "same" padding, ReLU6, BN eps 1e-3."""

    SPEC = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
            (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
            (320, 1, 6))

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.stem = ConvBN(3, 32, 3, 2, act="relu6")
        blocks, c_in = [], 32
        for c_out, stride, expansion in self.SPEC:
            blocks.append(InvertedResidual(c_in, c_out, stride, expansion))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBN(320, 1280, 1, act="relu6")
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return F.softmax(self.fc(x.mean((2, 3))), dim=-1)

    def keras_names(self) -> list[tuple[nn.Module, str]]:
        pairs = [(self.stem, ("Conv1", "bn_Conv1")), (self.head, ("Conv_1", "Conv_1_bn"))]
        for i, b in enumerate(self.blocks):
            prefix = "expanded_conv_" if i == 0 else f"block_{i}_"
            if b.expand is not None:
                pairs.append((b.expand, (prefix + "expand", prefix + "expand_BN")))
            pairs += [(b.dw, (prefix + "depthwise", prefix + "depthwise_BN")),
                      (b.project, (prefix + "project", prefix + "project_BN"))]
        return pairs


def copy_weights(model, module: nn.Module, pairs) -> None:
    """Copy the cornu model's Keras-layout weights into the torch reference."""
    with torch.no_grad():
        for sub, names in pairs:
            conv_name, bn_name = names if isinstance(names, tuple) else (names + "_conv", names + "_bn")
            weights = model.get_layer(conv_name).get_weights()
            kernel = torch.from_numpy(weights[0])
            if sub.conv.groups > 1:  # depthwise (kh, kw, in, 1) -> (in, 1, kh, kw)
                sub.conv.weight.copy_(kernel.permute(2, 3, 0, 1))
            else:
                sub.conv.weight.copy_(kernel.permute(3, 2, 0, 1))
            if sub.conv.bias is not None:
                sub.conv.bias.copy_(torch.from_numpy(weights[1]))
            gamma, beta, mean, var = model.get_layer(bn_name).get_weights()
            for t, v in ((sub.bn.weight, gamma), (sub.bn.bias, beta), (sub.bn.running_mean, mean),
                         (sub.bn.running_var, var)):
                t.copy_(torch.from_numpy(v))
        kernel, bias = model.get_layer("predictions").get_weights()
        module.fc.weight.copy_(torch.from_numpy(kernel).T)
        module.fc.bias.copy_(torch.from_numpy(bias))


def torch_predict(module: nn.Module, x: np.ndarray, batch_size: int, device: torch.device) -> np.ndarray:
    with torch.inference_mode():
        xs = torch.from_numpy(x).to(device).permute(0, 3, 1, 2)  # NHWC memory = channels_last NCHW view
        outs = [module(xs[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return torch.cat(outs).cpu().numpy()


TORCH_REFERENCES = {"ResNet50": TorchResNet50, "MobileNetV2": TorchMobileNetV2}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_model(name: str, args, device: torch.device) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (args.images, args.size, args.size, 3)).astype("float32")
    model = getattr(keras.applications, name)(weights=None, input_shape=(args.size, args.size, 3))
    contenders = {"cornu_predict": lambda: model.predict(x, batch_size=args.batch_size, verbose=0)}
    if name in TORCH_REFERENCES:
        module = TORCH_REFERENCES[name]().to(device).eval().to(memory_format=torch.channels_last)
        copy_weights(model, module, module.keras_names())
        contenders["torch_eager"] = lambda: torch_predict(module, x, args.batch_size, device)
        diff = float(np.abs(contenders["cornu_predict"]() - contenders["torch_eager"]()).max())
        if diff > 1e-3:
            raise RuntimeError(f"{name}: the torch reference differs from cornu by {diff}")
    times: dict[str, list[float]] = {c: [] for c in contenders}
    cpu_times: dict[str, list[float]] = {c: [] for c in contenders}
    for _ in range(args.rounds + 1):
        for c, fn in contenders.items():
            sync(device)
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            sync(device)
            times[c].append(time.perf_counter() - start)
            cpu_times[c].append(time.process_time() - start_cpu)
    common = {"model": name, "device": str(device), "size": args.size, "batch_size": args.batch_size,
              "images": args.images}
    median = {c: statistics.median(t[1:]) for c, t in times.items()}
    median_cpu = {c: statistics.median(t[1:]) for c, t in cpu_times.items()}
    for c, t in times.items():
        print(json.dumps({"name": c, **common, "images_per_s": round(args.images / median[c], 2),
                          "median_s": round(median[c], 4), "median_cpu_s": round(median_cpu[c], 4),
                          "rounds_s": [round(v, 4) for v in t]}), flush=True)
    if "torch_eager" in times:
        per_round = statistics.median(a / b for a, b in zip(times["cornu_predict"][1:], times["torch_eager"][1:]))
        print(json.dumps({"ratio": "cornu_predict/torch_eager", **common,
                          "value": round(median["cornu_predict"] / median["torch_eager"], 3),
                          "median_of_round_ratios": round(per_round, 3),
                          "cpu_value": round(median_cpu["cornu_predict"] / median_cpu["torch_eager"], 3)}),
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["ResNet50", "MobileNetV2", "EfficientNetB0"])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--images", type=int, default=64, help="images per round (a multiple of the batch)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after the warm-up round")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default=None, help="default: cornu's device (CORNU_DEVICE, else cuda if any)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device:
        keras.config.set_device(args.device)
    device = keras.config.device()
    print(json.dumps({"bench": "applications", "device": str(device), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    for name in args.models:
        bench_model(name, args, device)


if __name__ == "__main__":
    main()
