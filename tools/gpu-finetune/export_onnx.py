#!/usr/bin/env python3
"""Export a model package's CNN (as finetune.py builds it in PyTorch) to ONNX with torch.onnx.export.

    python3 tools/gpu-finetune/export_onnx.py PACKAGE_DIR OUT.onnx [--lrn torch|op|none]

--lrn torch (default): plain torch.onnx.export, which writes LocalResponseNorm as a subgraph of
  Shape/Reshape/Pad/AveragePool/Pow/Div nodes; the app and `rcnn import` read it as LRN
  (src/model/onnx/torchLrn.ts). --lrn op writes the ONNX LRN op instead (a torch.autograd.Function
  with a symbolic); --lrn none drops the LRN layers.
The graph's input is "data" (N x 3 x 227 x 227, BGR, mean subtracted), its output "fc8".
Used by tools/gpu-finetune/torchOnnx.test.ts and e2e/tools/pytorch-onnx.spec.ts as an ONNX file written by
another producer than the project's own exporter.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import finetune as ft  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("package")
    ap.add_argument("out")
    ap.add_argument("--lrn", choices=["torch", "op", "none"], default="torch")
    a = ap.parse_args()
    meta, w = ft.load_package(a.package)
    arch = dict(meta["architecture"])
    if a.lrn == "none":
        arch.pop("norm1", None)
        arch.pop("norm2", None)
    elif a.lrn == "op":
        local_response_norm = torch.nn.functional.local_response_norm

        class LRN(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, size, alpha, beta, k):
                return local_response_norm(x, size, alpha=alpha, beta=beta, k=k)

            @staticmethod
            def symbolic(g, x, size, alpha, beta, k):
                return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)

        ft.F.local_response_norm = lambda x, size, alpha, beta, k: LRN.apply(x, size, alpha, beta, k)
    net = ft.CaffeNet(arch, w).eval()

    class Fc8(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            return self.n(x)

    side = arch["inputHeight"]
    torch.onnx.export(Fc8(net), torch.zeros(1, 3, side, side), a.out, input_names=["data"], output_names=["fc8"],
                      dynamic_axes={"data": {0: "N"}, "fc8": {0: "N"}}, opset_version=11)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes, LRN: {a.lrn})")


if __name__ == "__main__":
    main()
