#!/usr/bin/env python3
"""Stage 1 of R-CNN training (docs/algorithm.md section 4) on a CUDA GPU with PyTorch.

The same recipe as `rcnn train --stages cnn` (src/cli/train/finetune.ts, trainerWorker.ts,
src/model/finetune/cpuWarp.ts), for a machine with a GPU, where the wasm trainer's 1.75 s per
iteration becomes milliseconds:
  - windows, labels, split and validation sample come from tools/gpu-finetune/export.ts, which
    calls the TypeScript trainer's own functions (buildWindows, splitVocDataset);
  - mini-batches of 32 positive + 96 background windows drawn uniformly with replacement;
  - R-CNN's warp (16 px context, bilinear between pixel centres, border pixel held in the half
    pixel next to the edge, the mean outside the image) as warpBoxInto, with the window layer's
    augmentation: mirror, per-channel gain 0.92-1.08, offset +-8, and with --augment colour the
    hue +-15 deg / saturation 0.7-1.3 / brightness 0.85-1.15 matrix on RGB before the mean;
  - Caffe's SGD: V = m V + lr (mult g + decay W), W -= V; lr_mult 2 for biases, weight decay
    0.0005 on weights only, conv1's weight lr_mult 1/60^2 (model/training.ts lrMult); multistep lr
    (x0.1 at 60 % and 85 % of the iterations) with a linear warm-up from lr/10;
  - dropout 0.5 on fc6 and fc7 while training.
The numbers above are not defined here: export.ts writes src/model/finetune/recipe.ts (the one
definition, which rcnn train uses) into meta.json as "recipe", and `Recipe` reads them from there.
It reads and writes the project's model package layout (model.json + cnn.bin, float32, tfjs
HWIO conv and [in, out] fc layouts); tools/gpu-finetune/import.ts turns its cnn.bin into a
package for `rcnn train --init DIR --stages svm,bbox`.

Besides the training log, it reports the softmax mAP of the validation images (every proposal
scored by the fine-tuned CNN's softmax, per-class NMS at IoU 0.3, VOC all-point AP at IoU 0.5,
difficult boxes ignored): the paper's "fine-tuned softmax" detector, used here to compare runs.

Tested by finetune.test.ts on the CPU on a tiny synthetic dataset, part of `npm run test:tools`
(not `npm test`: it needs Python 3 with PyTorch, NumPy and Pillow).
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SIZE = 227  # CaffeNet's input (the architecture's inputHeight / inputWidth)


class Recipe:
    """Stage 1's constants as the TypeScript trainer defines them (src/model/finetune/recipe.ts,
    written into meta.json by export.ts): the batch, Caffe's SGD, the learning-rate schedule, the
    warp's context and the augmentation ranges. Nothing here has a default of its own, so the two
    trainers cannot drift apart."""

    def __init__(self, meta, where):
        r = meta.get("recipe")
        if not r:
            raise SystemExit(f"{where}: meta.json has no 'recipe' (exported before the recipe was shared): export the data again with tools/gpu-finetune/export.ts")
        a = r["augment"]
        self.positives, self.background = r["positivesPerBatch"], r["backgroundPerBatch"]
        self.momentum, self.weight_decay = r["momentum"], r["weightDecay"]
        self.base_lr, self.init_lr = r["baseLr"], r["initLr"]
        self.lr_steps, self.lr_step_factor = list(r["lrSteps"]), r["lrStepFactor"]
        self.warmup, self.warmup_start = r["warmup"], r["warmupStart"]
        self.bias_lr_mult, self.input_std = r["biasLrMult"], float(r["inputStd"])
        self.padding = r["warpPadding"]
        self.mirror, self.gain_jitter, self.offset = a["mirror"], a["gainJitter"], a["offset"]
        self.colour = dict(hue=float(a["colour"]["hueDegrees"]), saturation=tuple(a["colour"]["saturation"]), brightness=tuple(a["colour"]["brightness"]))
        self.blur_max_sigma, self.blur_radius = a["blurMaxSigma"], a["blurRadius"]


def autocast(enabled):
    return torch.autocast("cuda", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# Model package I/O (src/model/package.ts layout)

CNN_NAMES = [f"{l}.{p}" for l in ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"] for p in ["weight", "bias"]]


def load_package(model_dir):
    meta = json.load(open(os.path.join(model_dir, "model.json")))
    files = {}
    weights = {}
    for t in meta["tensors"]:
        if t["name"] not in CNN_NAMES:
            continue
        if t["file"] not in files:
            files[t["file"]] = open(os.path.join(model_dir, t["file"]), "rb").read()
        if t.get("dtype", "float32") != "float32":
            raise SystemExit(f"{model_dir}: tensor {t['name']} is {t['dtype']}; only float32 packages are supported")
        n = int(np.prod(t["shape"]))
        weights[t["name"]] = np.frombuffer(files[t["file"]], dtype="<f4", count=n, offset=t["byteOffset"]).reshape(t["shape"]).copy()
    return meta, weights


def he_init(arch, seed, input_std):
    """trainerWorker.ts: randomWeights(arch, {scheme: 'he'}), N(0, 2 / fan_in) weights and zero biases, conv1 / the recipe's inputStd."""
    g = np.random.default_rng(seed)
    shapes = weight_shapes(arch)
    out = {}
    for name, shape in shapes:
        if name.endswith(".weight"):
            fan_in = shape[0] * shape[1] * shape[2] if len(shape) == 4 else shape[0]
            w = g.standard_normal(shape) * math.sqrt(2.0 / fan_in)
            if name == "conv1.weight":
                w /= input_std  # trainerWorker.ts: conv1 sees 0..255 inputs (see the lr_mult below)
            out[name] = w.astype(np.float32)
        else:
            out[name] = np.zeros(shape, np.float32)
    return out


def weight_shapes(arch):
    shapes = []
    cin = arch["inputChannels"]
    for c in ["conv1", "conv2", "conv3", "conv4", "conv5"]:
        s = arch["conv"][c]
        shapes.append((f"{c}.weight", [s["kernel"][0], s["kernel"][1], cin // s["group"], s["filters"]]))
        shapes.append((f"{c}.bias", [s["filters"]]))
        cin = s["filters"]
    side = pooled_side(arch)
    fin = cin * side * side
    for f in ["fc6", "fc7", "fc8"]:
        shapes.append((f"{f}.weight", [fin, arch[f]]))
        shapes.append((f"{f}.bias", [arch[f]]))
        fin = arch[f]
    return shapes


def pooled_side(arch):
    x = arch["inputHeight"]

    def conv(x, s):
        p = s["pads"]
        return (x + p[0] + p[1] - s["kernel"][0]) // s["stride"][0] + 1

    for i, c in enumerate(["conv1", "conv2", "conv3", "conv4", "conv5"], 1):
        x = conv(x, arch["conv"][c])
        pool = arch.get(f"pool{i}")
        if pool:
            x = conv(x, pool)
    return x


# ---------------------------------------------------------------------------------------------
# CaffeNet in PyTorch, NCHW, parameters in PyTorch layout


class CaffeNet(torch.nn.Module):
    def __init__(self, arch, weights):
        super().__init__()
        self.arch = arch
        self.params = torch.nn.ParameterDict()
        for name, w in weights.items():
            t = torch.from_numpy(np.ascontiguousarray(w))
            if name.endswith(".weight"):
                t = t.permute(3, 2, 0, 1) if t.dim() == 4 else t.t()  # HWIO -> OIHW, [in,out] -> [out,in]
            self.params[name.replace(".", "_")] = torch.nn.Parameter(t.contiguous().clone())

    def p(self, name):
        return self.params[name.replace(".", "_")]

    def export(self):
        out = {}
        for name in CNN_NAMES:
            t = self.p(name).detach().float().cpu()
            if name.endswith(".weight"):
                t = t.permute(2, 3, 1, 0) if t.dim() == 4 else t.t()
            out[name] = t.contiguous().numpy()
        return out

    def forward(self, x, outputs=("fc8",)):
        res = {}
        x = self.convs(x, res)
        x = self.fcs(x.flatten(1), res)
        return res if len(outputs) > 1 else res[outputs[0]]

    def convs(self, x, res=None, pool5=True):
        """conv1..conv5 (with their ReLUs, pools and LRNs); without pool5 when pool5 is False (conv5
        after its ReLU, what RoI pooling reads: roi_finetune.py). res gets "pool5" when pooled."""
        a = self.arch
        for i, c in enumerate(["conv1", "conv2", "conv3", "conv4", "conv5"], 1):
            s = a["conv"][c]
            pt, pb, pl, pr = s["pads"]
            if pt == pb and pl == pr:
                x = F.conv2d(x, self.p(f"{c}.weight"), self.p(f"{c}.bias"), stride=tuple(s["stride"]), padding=(pt, pl), groups=s["group"])
            else:
                x = F.conv2d(F.pad(x, (pl, pr, pt, pb)), self.p(f"{c}.weight"), self.p(f"{c}.bias"), stride=tuple(s["stride"]), groups=s["group"])
            x = F.relu(x)
            pool = a.get(f"pool{i}") if (pool5 or i < 5) else None
            norm = a.get(f"norm{i}")

            def do_pool(x, pool=pool):
                pt, pb, pl, pr = pool["pads"]
                if pt or pb or pl or pr:
                    x = F.pad(x, (pl, pr, pt, pb), value=float("-inf"))
                return F.max_pool2d(x, tuple(pool["kernel"]), tuple(pool["stride"]))

            def do_norm(x, norm=norm):
                return F.local_response_norm(x, norm["size"], alpha=norm["alpha"], beta=norm["beta"], k=norm["k"])

            if a.get("normOrder", "pool-then-lrn") == "pool-then-lrn":
                if pool:
                    x = do_pool(x)
                if norm:
                    x = do_norm(x)
            else:
                if norm:
                    x = do_norm(x)
                if pool:
                    x = do_pool(x)
            if i == 5 and pool5 and res is not None:
                res["pool5"] = x
        return x

    def fcs(self, x, res):
        """fc6, fc7 (ReLU, dropout while training) and fc8 on flattened pool5 [N, C*6*6]; fills res."""
        a = self.arch
        for f in ["fc6", "fc7", "fc8"]:
            x = F.linear(x, self.p(f"{f}.weight"), self.p(f"{f}.bias"))
            if f != "fc8":
                x = F.relu(x)
                res[f] = x
                if self.training and a.get("dropout", 0) > 0:
                    x = F.dropout(x, a["dropout"], training=True)
                res[f + "Out"] = x  # after dropout while training: what the next layer saw
        res["fc8"] = x
        return x


# ---------------------------------------------------------------------------------------------
# Data: rasters on the GPU as one flat uint8 buffer, windows, warp


def load_windows(data_dir, name, device):
    """export.ts's fine-tuning windows of a split ("train" or "val"): boxes [N, 4] in photo pixels
    (stored in eighths), the photo index and the label (0 background) of each."""
    boxes = np.fromfile(os.path.join(data_dir, f"{name}-boxes.u16"), dtype="<u2").astype(np.float32).reshape(-1, 4) / 8
    image = np.fromfile(os.path.join(data_dir, f"{name}-image.u16"), dtype="<u2").astype(np.int64)
    label = np.fromfile(os.path.join(data_dir, f"{name}-label.u8"), dtype=np.uint8).astype(np.int64)
    return torch.from_numpy(boxes).to(device), torch.from_numpy(image).to(device), torch.from_numpy(label).to(device)


class Data:
    def __init__(self, data_dir, device):
        self.meta = json.load(open(os.path.join(data_dir, "meta.json")))
        m = self.meta
        self.recipe = Recipe(m, data_dir)
        chunks, offs, ws, hs = [], [], [], []
        off = 0
        for im in m["images"]:
            a = np.asarray(Image.open(os.path.join(data_dir, im["file"])).convert("RGB"))
            if a.shape[0] != im["height"] or a.shape[1] != im["width"]:
                raise SystemExit(f"{im['file']}: decoded {a.shape[1]}x{a.shape[0]}, expected {im['width']}x{im['height']}")
            chunks.append(a.reshape(-1))
            offs.append(off)
            ws.append(im["width"])
            hs.append(im["height"])
            off += a.size
        self.flat = torch.from_numpy(np.concatenate(chunks)).to(device)
        self.off = torch.tensor(offs, dtype=torch.int64, device=device)
        self.w = torch.tensor(ws, dtype=torch.float32, device=device)
        self.h = torch.tensor(hs, dtype=torch.float32, device=device)

        self.train = load_windows(data_dir, "train", device)
        self.val = load_windows(data_dir, "val", device)
        self.fg = torch.nonzero(self.train[2] > 0).flatten()
        self.bg = torch.nonzero(self.train[2] == 0).flatten()
        # export.ts --extra puts the extra (augmented) photos last among the training images.
        first_extra = m["trainImages"] - m.get("extraImages", 0)
        self.fg_split = (self.fg[self.train[1][self.fg] < first_extra], self.fg[self.train[1][self.fg] >= first_extra])
        self.bg_split = (self.bg[self.train[1][self.bg] < first_extra], self.bg[self.train[1][self.bg] >= first_extra])
        vs = torch.from_numpy(np.fromfile(os.path.join(data_dir, "val-sample.i32"), dtype="<i4").astype(np.int64)).to(device)
        self.val_sample = (self.val[0][vs], self.val[1][vs], self.val[2][vs])
        self.val_props = torch.from_numpy(np.fromfile(os.path.join(data_dir, "val-proposals.f32"), dtype="<f4").reshape(-1, 4).copy()).to(device)
        self.device = device


def axis_tables(lo, length, n):
    """cpuWarp.ts axis(): per output sample, the two source indices, the weight and 'inside'."""
    u = torch.arange(SIZE, device=lo.device, dtype=torch.float32)
    p = lo[:, None] + (u[None, :] + 0.5) * length[:, None] / SIZE
    inside = (p >= 0) & (p <= n[:, None])
    f = torch.minimum(torch.clamp(p - 0.5, min=0), (n - 1)[:, None])
    i0 = torch.floor(f)
    w = f - i0
    i1 = torch.minimum(i0 + 1, (n - 1)[:, None])
    return i0.long(), i1.long(), w, inside


def colour_matrices(B, gen, device, colour):
    """randomColourMatrix / colourMatrix (cpuWarp.ts): hue rotation about grey, saturation, brightness."""
    r = torch.rand(B, 3, generator=gen, device=device)
    hue = (colour["hue"] * (2 * r[:, 0] - 1)) * math.pi / 180
    sat = colour["saturation"][0] + (colour["saturation"][1] - colour["saturation"][0]) * r[:, 1]
    bri = colour["brightness"][0] + (colour["brightness"][1] - colour["brightness"][0]) * r[:, 2]
    c, s, t = torch.cos(hue), torch.sin(hue) / math.sqrt(3), (1 - torch.cos(hue)) / 3
    H = torch.stack([c + t, t - s, t + s, t + s, c + t, t - s, t - s, t + s, c + t], 1).view(B, 3, 3)
    luma = torch.tensor([0.299, 0.587, 0.114], device=device)
    S = sat[:, None, None] * torch.eye(3, device=device)[None] + (1 - sat)[:, None, None] * luma[None, None, :]
    return bri[:, None, None] * (S @ H)


def blur_crops(bgr, sigma, r):
    """Separable Gaussian blur of crops [B, v, u, 3], one sigma per crop (0: unchanged), radius r."""
    B = bgr.shape[0]
    t = torch.arange(-r, r + 1, device=bgr.device, dtype=torch.float32)
    k = torch.exp(-0.5 * (t[None, :] / sigma.clamp(min=1e-3)[:, None]) ** 2)
    k = torch.where(sigma[:, None] > 0, k, (t[None, :] == 0).float())
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(3, 0)  # [B*3, 9]
    x = bgr.permute(0, 3, 1, 2).reshape(1, B * 3, SIZE, SIZE)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k[:, None, None, :], groups=B * 3)
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k[:, None, :, None], groups=B * 3)
    return x.reshape(B, 3, SIZE, SIZE).permute(0, 2, 3, 1)


PER_CROP_ON_CPU = True  # warp_per_crop on the CPU; False: the batched path there too (tests compare the two)


def warp_per_crop(data, image, tables, mean_bgr, M, gain, offset, sigma, flip, blur_radius):
    """warp() on the CPU, one crop at a time from sampling to the mirror, so each crop's
    intermediates (227 x 227 x 3 floats) stay in the cache. The batched GPU path's gather builds
    int64 index tensors of B x 227 x 227 x 3 and each of its elementwise steps streams the whole
    batch through memory: over a minute per 128-window batch on one shared CPU thread. The
    arithmetic is the same, in cpuWarp.ts's order (along the row, then between rows; colour
    matrix, mean, gain and offset, the mean outside the image, blur, mirror)."""
    xi0, xi1, xw, xin, yi0, yi1, yw, yin = tables
    B = image.shape[0]
    mean = torch.tensor(mean_bgr, dtype=torch.float32)
    out = torch.empty(B, 3, SIZE, SIZE)
    for b in range(B):
        i = int(image[b])
        h, w = int(data.h[i]), int(data.w[i])
        o = int(data.off[i])
        img = data.flat[o : o + h * w * 3].view(h, w, 3)
        cells = img.index_select(0, torch.cat([yi0[b], yi1[b]])).index_select(1, torch.cat([xi0[b], xi1[b]])).float()
        ax, ay = xw[b][None, :, None], yw[b][:, None, None]
        top = cells[:SIZE, :SIZE] * (1 - ax) + cells[:SIZE, SIZE:] * ax
        bottom = cells[SIZE:, :SIZE] * (1 - ax) + cells[SIZE:, SIZE:] * ax
        rgb = top * (1 - ay) + bottom * ay
        if M is not None:
            rgb = torch.clamp(torch.einsum("rk,vuk->vur", M[b], rgb), 0, 255)
        bgr = rgb.flip(-1) - mean
        if gain is not None:
            bgr = bgr * gain[b] + offset[b]
        bgr = bgr * (yin[b][:, None, None] & xin[b][None, :, None])
        if sigma is not None and sigma[b] > 0:
            bgr = blur_crops(bgr[None], sigma[b : b + 1], blur_radius)[0]
        if flip is not None and flip[b]:
            bgr = bgr.flip(1)
        out[b] = bgr.permute(2, 0, 1)
    return out


def warp(data, boxes, image, mean_bgr, augment=None, gen=None, wb=None, blur=0.0):
    """Warped, mean-subtracted BGR crops [B, 3, 227, 227] (warpBoxInto), optionally augmented.
    wb: half-range of the per-channel gain (None: the recipe's, the window layer's 0.92-1.08;
    larger values imitate colour casts); blur: the fraction of crops blurred with a Gaussian of
    sigma uniform in [0, blurMaxSigma) px. The random draws come first, in one order on every
    device (colour matrices, gains, offsets, blur, mirror), so CPU and GPU crops agree."""
    rc = data.recipe
    wb = rc.gain_jitter if wb is None else wb
    B = boxes.shape[0]
    dev = boxes.device
    M = colour_matrices(B, gen, dev, rc.colour) if augment == "colour" else None
    gain = offset = sigma = flip = None
    if augment is not None:
        gain = 1 - wb + 2 * wb * torch.rand(B, 3, generator=gen, device=dev)
        offset = (torch.rand(B, generator=gen, device=dev) - 0.5) * 2 * rc.offset
        if blur > 0:
            u = torch.rand(B, 2, generator=gen, device=dev)
            sigma = torch.where(u[:, 0] < blur, rc.blur_max_sigma * u[:, 1], torch.zeros((), device=dev))
        flip = torch.rand(B, generator=gen, device=dev) < rc.mirror
    s = SIZE / (SIZE - 2 * rc.padding)
    cx = 0.5 * (boxes[:, 0] + boxes[:, 2])
    cy = 0.5 * (boxes[:, 1] + boxes[:, 3])
    w = (boxes[:, 2] - boxes[:, 0]) * s
    h = (boxes[:, 3] - boxes[:, 1]) * s
    W, H = data.w[image], data.h[image]
    xi0, xi1, xw, xin = axis_tables(cx - w / 2, w, W)
    yi0, yi1, yw, yin = axis_tables(cy - h / 2, h, H)
    if dev.type == "cpu" and PER_CROP_ON_CPU:
        return warp_per_crop(data, image, (xi0, xi1, xw, xin, yi0, yi1, yw, yin), mean_bgr, M, gain, offset, sigma, flip, rc.blur_radius)
    Wl = W.long()[:, None, None]
    base = data.off[image][:, None, None]
    r0, r1 = yi0[:, :, None] * Wl, yi1[:, :, None] * Wl
    c0, c1 = xi0[:, None, :], xi1[:, None, :]
    ch = torch.arange(3, device=dev)

    def px(r, c):
        return data.flat[((base + (r + c) * 3)[..., None] + ch)].float()

    ax, ay = xw[:, None, :, None], yw[:, :, None, None]
    rgb = (px(r0, c0) * (1 - ax) + px(r0, c1) * ax) * (1 - ay) + (px(r1, c0) * (1 - ax) + px(r1, c1) * ax) * ay  # [B, v, u, 3]
    if M is not None:
        rgb = torch.clamp(torch.einsum("brk,bvuk->bvur", M, rgb), 0, 255)
    bgr = rgb.flip(-1) - torch.tensor(mean_bgr, device=dev, dtype=torch.float32)
    if gain is not None:
        bgr = bgr * gain[:, None, None, :] + offset[:, None, None, None]
    inside = (yin[:, :, None] & xin[:, None, :])[..., None]
    bgr = torch.where(inside, bgr, torch.zeros((), device=dev))
    if sigma is not None:
        bgr = blur_crops(bgr, sigma, rc.blur_radius)
    if flip is not None:
        bgr = torch.where(flip[:, None, None, None], bgr.flip(2), bgr)
    return bgr.permute(0, 3, 1, 2).contiguous()


# ---------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def predict(net, data, boxes, image, mean, batch=512, amp=False):
    net.eval()
    outs = []
    for k in range(0, boxes.shape[0], batch):
        x = warp(data, boxes[k : k + batch], image[k : k + batch], mean)
        with autocast(amp):
            outs.append(net(x).float())
    net.train()
    return torch.cat(outs) if outs else torch.zeros(0, net.arch["fc8"], device=boxes.device)


def nms(boxes, scores, thresh, limit=0):
    """Greedy per-class NMS as src/core/nms.ts (score order, ties by index; a box is suppressed when
    its IoU with a kept one exceeds thresh), stopped once `limit` boxes are kept (0: no limit; the
    first k kept boxes do not depend on the rest). Returns the kept indices, best first."""
    b = boxes.detach().cpu().numpy().astype(np.float64)
    order = np.argsort(-scores.detach().cpu().numpy(), kind="stable")
    area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    alive = np.ones(len(order), bool)
    keep = []
    for pos, i in enumerate(order):
        if not alive[pos]:
            continue
        keep.append(i)
        if len(keep) == limit:
            break
        rest = order[pos + 1 :]
        iw = np.clip(np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]), 0, None)
        ih = np.clip(np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]), 0, None)
        inter = iw * ih
        alive[pos + 1 :] &= inter / np.maximum(area[i] + area[rest] - inter, 1e-12) <= thresh
    return torch.tensor(keep, dtype=torch.long, device=boxes.device)


def voc_ap(rec, prec):
    """All-point interpolated AP (VOC 2010+), as src/core/eval."""
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[0.0], prec, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def iou_one(b, gts):
    ix1 = np.maximum(b[0], gts[:, 0]); iy1 = np.maximum(b[1], gts[:, 1])
    ix2 = np.minimum(b[2], gts[:, 2]); iy2 = np.minimum(b[3], gts[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    ua = (b[2] - b[0]) * (b[3] - b[1]) + (gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1]) - inter
    return inter / np.maximum(ua, 1e-12)


def class_ap(ev, c, dets):
    """VOC all-point AP at IoU 0.5 of class c (difficult boxes ignored, as src/core/eval/ap.ts):
    dets is a list of (score, index into ev, box [4]) over the images ev."""
    npos = sum(int(((np.array(e["gtLabels"]) == c) & (np.array(e["gtDifficult"]) == 0)).sum()) for e in ev)
    dets = sorted(dets, key=lambda d: -d[0])
    used = [np.zeros(len(e["gtLabels"]), bool) for e in ev]
    tp = np.zeros(len(dets)); fp = np.zeros(len(dets))
    for d, (score, k, b) in enumerate(dets):
        e = ev[k]
        gl = np.array(e["gtLabels"]); gd = np.array(e["gtDifficult"])
        gts = np.array(e["gtBoxes"], np.float32).reshape(-1, 4)
        cand = np.where(gl == c)[0]
        if len(cand) == 0:
            fp[d] = 1
            continue
        ious = iou_one(b, gts[cand])
        j = int(np.argmax(ious))
        if ious[j] >= 0.5:
            g = cand[j]
            if gd[g]:
                continue
            if not used[k][g]:
                tp[d] = 1
                used[k][g] = True
            else:
                fp[d] = 1
        else:
            fp[d] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = tp / max(npos, 1)
    prec = tp / np.maximum(tp + fp, 1e-12)
    return voc_ap(rec, prec)


@torch.no_grad()
def softmax_map(net, data, mean, amp=False, limit=0):
    ev = data.meta["valEval"][: limit or None]
    classes = data.meta["classes"]
    props = data.val_props[: ev[-1]["proposalOffset"] + ev[-1]["proposalCount"]]
    image = torch.cat([torch.full((e["proposalCount"],), e["image"], dtype=torch.long) for e in ev]).to(props.device)
    prob = torch.softmax(predict(net, data, props, image, mean, amp=amp), 1)
    aps = {}
    for c in range(1, len(classes)):
        dets = []  # (score, image index in ev, box)
        for k, e in enumerate(ev):
            o, n = e["proposalOffset"], e["proposalCount"]
            b = props[o : o + n]
            s = prob[o : o + n, c]
            keep = nms(b, s, 0.3)
            for i in keep.tolist():
                dets.append((float(s[i]), k, b[i].cpu().numpy()))
        aps[classes[c]] = class_ap(ev, c, dets)
    return aps, float(np.mean(list(aps.values())))


@torch.no_grad()
def probe_report(net, data, mean, amp=False):
    """Out-of-domain photos (export.ts --probe): per photo, the softmax probability of each
    ground-truth box's class on that box, and the most confident non-background proposal
    (class, probability, IoU with the best box of that class)."""
    ev = data.meta.get("probeEval") or []
    classes = data.meta["classes"]
    out = []
    for e in ev:
        o, n = e["proposalOffset"], e["proposalCount"]
        b = data.val_props[o : o + n]
        image = torch.full((n,), e["image"], dtype=torch.long, device=b.device)
        prob = torch.softmax(predict(net, data, b, image, mean, amp=amp), 1)
        gts = np.array(e["gtBoxes"], np.float32).reshape(-1, 4)
        gl = np.array(e["gtLabels"])
        gp = torch.softmax(predict(net, data, torch.from_numpy(gts).to(b.device), torch.full((len(gl),), e["image"], dtype=torch.long, device=b.device), mean, amp=amp), 1)
        on_gt = [dict(cls=classes[c], p=float(gp[k, c]), argmax=classes[int(gp[k].argmax())]) for k, c in enumerate(gl)]
        s, c = prob[:, 1:].max(1)
        k = int(s.argmax())
        top_c = int(c[k]) + 1
        cand = np.where(gl == top_c)[0]
        top_iou = float(iou_one(b[k].cpu().numpy(), gts[cand]).max()) if len(cand) else 0.0
        out.append(dict(id=e["id"], onGt=on_gt, top=dict(cls=classes[top_c], p=float(s[k]), iou=top_iou)))
    return out


def probe_line(rep):
    return " | ".join(
        f"{r['id']}: top {r['top']['cls']} {r['top']['p']:.2f} IoU {r['top']['iou']:.2f}; gt " + ", ".join(f"{g['cls']} {g['p']:.2f}" for g in r["onGt"]) for r in rep
    )


@torch.no_grad()
def val_metrics(net, data, mean, amp=False):
    boxes, image, label = data.val_sample
    logits = predict(net, data, boxes, image, mean, amp=amp)
    loss = F.cross_entropy(logits, label).item()
    pred = logits.argmax(1)
    fg = label > 0
    return dict(
        loss=loss,
        accuracy=(pred == label).float().mean().item(),
        foregroundRecall=((pred == label) & fg).sum().item() / max(1, fg.sum().item()),
        foregroundPrecision=((pred == label) & fg).sum().item() / max(1, (pred > 0).sum().item()),
    )


# ---------------------------------------------------------------------------------------------
# Training


def write_run(out, net, script, fields):
    """A run's output, which import.ts packages: cnn.bin (float32, the package's tfjs layouts, in
    CNN_NAMES order) and finetune-log.json (`fields`, plus the command, torch version, layout and
    shapes that import.ts checks)."""
    w = net.export()
    with open(os.path.join(out, "cnn.bin"), "wb") as f:
        for name in CNN_NAMES:
            f.write(np.ascontiguousarray(w[name], dtype="<f4").tobytes())
    head = dict(command=" ".join(["python3", f"tools/gpu-finetune/{script}"] + sys.argv[1:]))
    tail = dict(torch=torch.__version__, architecture=net.arch, shapes={n: list(w[n].shape) for n in CNN_NAMES})
    json.dump({**head, **fields, **tail}, open(os.path.join(out, "finetune-log.json"), "w"))


def learning_rate(base, it, iterations, rc, warmup):
    """finetune.ts learningRate: multistep at the recipe's lrSteps, linear warm-up from warmupStart x lr."""
    lr = base
    for s in rc.lr_steps:
        if it >= math.floor(s * iterations):
            lr *= rc.lr_step_factor
    if it < warmup:
        lr *= rc.warmup_start + (1 - rc.warmup_start) * it / warmup
    return lr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by export.ts")
    ap.add_argument("--init", help="model package to start from (fine-tuning); else --arch-from's layout from scratch")
    ap.add_argument("--arch-from", help="model package whose architecture to train from scratch")
    ap.add_argument("--conv-filters", help="with --arch-from: conv1..conv5 filter counts instead of its own, e.g. 36,96,144,144,96")
    ap.add_argument("--fc", type=int, help="with --arch-from: fc6 and fc7 size instead of its own")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, default=0, help="0: as many as --seconds allows at the measured speed")
    ap.add_argument("--seconds", type=float, default=0, help="time budget for choosing --iterations (and a hard stop)")
    ap.add_argument("--reserve", type=float, default=60, help="seconds of --seconds kept for the final evaluation")
    ap.add_argument("--eval-only", action="store_true", help="only evaluate --init (validation sample and softmax mAP)")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--weight-decay", type=float, help="L2 decay on weights (default: the recipe's, Caffe's 0.0005)")
    ap.add_argument("--augment", choices=["window", "colour", "none"], default="window")
    ap.add_argument("--wb", type=float, help="half-range of the per-channel gain jitter (default: the recipe's 0.08, the window layer's)")
    ap.add_argument("--blur", type=float, default=0.0, help="fraction of training crops given a Gaussian blur, sigma uniform in [0, 2) px")
    ap.add_argument("--extra-share", type=float, help="with export.ts --extra: this share of each mini-batch's positives and of its background windows comes from the extra photos, the rest from the dataset's (default: all training windows drawn uniformly)")
    ap.add_argument("--stop-after", type=int, default=0, help="with --checkpoint-every: stop after this iteration, checkpoint saved, to go on in a later session")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads of PyTorch (0: its default); with --device cpu on a shared machine, 1")
    ap.add_argument("--checkpoint-every", type=int, default=0, help="save weights, momentum, random state and log to OUT/checkpoint.pt every N iterations (needs --iterations); a rerun with the same arguments resumes there and draws the same mini-batches as an uninterrupted run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--map-images", type=int, default=0, help="softmax mAP on the first K validation images only (0: all)")
    ap.add_argument("--skip-map", action="store_true", help="no softmax mAP at the end (on a CPU the validation images' proposals cost as much as a hundred iterations; rcnn train's heads measure the CNN anyway)")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast (not used for the bundled model)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--parity", type=int, default=0, help="only write fc8 and the warped crops [N, 3, 227, 227] of the first N validation-sample windows (no training)")
    args = ap.parse_args()
    t_start = time.time()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.stop_after and not args.checkpoint_every:
        raise SystemExit("--stop-after needs --checkpoint-every: without a checkpoint the stopped run would be lost")
    if args.checkpoint_every and (args.seconds or not args.iterations):
        raise SystemExit("--checkpoint-every needs a fixed --iterations (a time budget, --seconds, would choose another length on resuming)")
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    data = Data(args.data, dev)
    classes = data.meta["classes"]
    if args.extra_share is not None:
        if not 0 <= args.extra_share <= 1:
            raise SystemExit(f"--extra-share {args.extra_share}: give a share between 0 and 1")
        if not (len(data.fg_split[1]) and len(data.bg_split[1]) and len(data.fg_split[0]) and len(data.bg_split[0])):
            raise SystemExit(f"--extra-share needs positive and background windows in both the dataset's and the extra photos ({args.data} was exported {'without --extra' if not data.meta.get('extraImages') else 'with extra photos lacking some'})")
    if args.init and (args.conv_filters or args.fc):
        raise SystemExit("--conv-filters and --fc change the layout of a network trained from scratch (--arch-from), not --init's")
    if args.init:
        meta, weights = load_package(args.init)
        if meta["classes"] != classes:
            raise SystemExit(f"--init's classes {meta['classes']} differ from the data's {classes}")
    else:
        meta, _ = load_package(args.arch_from)
        meta["architecture"]["fc8"] = len(classes)
        if args.conv_filters:
            counts = [int(v) for v in args.conv_filters.split(",")]
            if len(counts) != 5:
                raise SystemExit(f"--conv-filters needs five counts, got {args.conv_filters}")
            for c, n in zip(["conv1", "conv2", "conv3", "conv4", "conv5"], counts):
                meta["architecture"]["conv"][c]["filters"] = n
            for c, prev in [("conv2", "conv1"), ("conv3", "conv2"), ("conv4", "conv3"), ("conv5", "conv4")]:
                g = meta["architecture"]["conv"][c]["group"]
                if meta["architecture"]["conv"][prev]["filters"] % g or meta["architecture"]["conv"][c]["filters"] % g:
                    raise SystemExit(f"--conv-filters: {prev} and {c} must be multiples of {c}'s group {g}")
        if args.fc:
            meta["architecture"]["fc6"] = meta["architecture"]["fc7"] = args.fc
        weights = he_init(meta["architecture"], args.seed, data.recipe.input_std)
    arch = meta["architecture"]
    mean = arch["mean"]
    net = CaffeNet(arch, weights).to(dev)
    log(f"data: {len(data.meta['images'])} images, {data.train[0].shape[0]} train windows ({len(data.fg)} positive), val sample {len(data.val_sample[2])}; {'init ' + args.init if args.init else 'from scratch'}; device {dev}")

    if args.parity:
        b, i, _ = data.val_sample
        y = predict(net, data, b[: args.parity], i[: args.parity], mean).cpu().numpy()
        np.save(os.path.join(args.out, "parity-fc8.npy"), y)
        x = warp(data, b[: args.parity], i[: args.parity], mean).cpu().numpy()
        np.save(os.path.join(args.out, "parity-crop.npy"), x)
        log(f"parity: wrote fc8 of {args.parity} windows")
        return

    if args.eval_only:
        v = val_metrics(net, data, mean, args.amp)
        aps, m = softmax_map(net, data, mean, args.amp, args.map_images)
        log(f"{args.init}: val loss {v['loss']:.3f} acc {100 * v['accuracy']:.1f}% | softmax mAP " + " ".join(f"{k} {100 * x:.1f}" for k, x in aps.items()) + f" | mAP {100 * m:.1f}")
        probe = probe_report(net, data, mean, args.amp)
        if probe:
            log("probe: " + probe_line(probe))
        json.dump(dict(init=args.init, val=v, softmaxAp=aps, softmaxMap=m, probe=probe), open(os.path.join(args.out, "eval.json"), "w"))
        return

    rc = data.recipe
    base_lr = args.lr if args.lr is not None else (rc.init_lr if args.init else rc.base_lr)
    weight_decay = rc.weight_decay if args.weight_decay is None else args.weight_decay
    wb = rc.gain_jitter if args.wb is None else args.wb
    params = list(net.params.items())
    mults = []
    for name, p in params:
        bias = name.endswith("_bias")
        # model/training.ts lrMult: biases x biasLrMult; conv1's weights / inputStd^2 (they see 0..255 inputs).
        mults.append((rc.bias_lr_mult if bias else 1.0) / (rc.input_std * rc.input_std if name == "conv1_weight" else 1.0))
    velocity = [torch.zeros_like(p) for _, p in params]
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)

    def step(lr):
        if args.extra_share is None:
            fi = data.fg[torch.randint(len(data.fg), (rc.positives,), generator=gen, device=dev)]
            bi = data.bg[torch.randint(len(data.bg), (rc.background,), generator=gen, device=dev)]
            idx = torch.cat([fi, bi])
        else:
            parts = []
            for (real, extra), n in ((data.fg_split, rc.positives), (data.bg_split, rc.background)):
                k = round(args.extra_share * n)
                parts += [real[torch.randint(len(real), (n - k,), generator=gen, device=dev)], extra[torch.randint(len(extra), (k,), generator=gen, device=dev)]]
            idx = torch.cat(parts)
        x = warp(data, data.train[0][idx], data.train[1][idx], mean, augment=None if args.augment == "none" else args.augment, gen=gen, wb=wb, blur=args.blur)
        y = data.train[2][idx]
        with autocast(args.amp):
            logits = net(x).float()
        loss = F.cross_entropy(logits, y)
        for _, p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for (name, p), v, m in zip(params, velocity, mults):
                g = p.grad * m
                if not name.endswith("_bias"):
                    g = g + weight_decay * p
                v.mul_(rc.momentum).add_(g, alpha=lr)
                p.sub_(v)
        return loss.detach(), (logits.argmax(1) == y).float().mean().detach()

    iterations = args.iterations
    if args.seconds > 0:
        # Measure the speed on a throwaway copy, then fit the run to the time budget.
        saved = [p.detach().clone() for _, p in params]
        warm, timed = (30, 100) if dev.type == "cuda" else (3, 10)
        for k in range(warm):
            step(0.0)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.time()
        for k in range(timed):
            step(0.0)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        per = (time.time() - t0) / timed
        with torch.no_grad():
            for (_, p), s in zip(params, saved):
                p.copy_(s)
            for v in velocity:
                v.zero_()
        left = args.seconds - (time.time() - t_start) - args.reserve
        fit = max(100, int(left / (per * 1.15)) // 100 * 100)
        log(f"measured {per * 1000:.1f} ms per iteration: {fit} iterations fit in the time budget")
        iterations = min(iterations, fit) if iterations > 0 else fit
    warmup = args.warmup if args.warmup is not None else (0 if args.init else min(rc.warmup, iterations // 10))
    steps = rc.lr_steps
    per_epoch = math.ceil(len(data.fg) / rc.positives)
    entries = []
    run_loss = run_acc = None
    stopped = None
    start, trained_before = 0, 0.0
    ck_path = os.path.join(args.out, "checkpoint.pt")
    # Everything that changes the mini-batches or the updates: a checkpoint made with other values is not resumed.
    ck_key = dict(extra_share=args.extra_share, data=os.path.abspath(args.data), init=args.init, arch_from=args.arch_from, conv_filters=args.conv_filters, fc=args.fc, iterations=iterations, lr=base_lr, warmup=warmup, weight_decay=weight_decay, augment=args.augment, wb=wb, blur=args.blur, seed=args.seed, amp=args.amp, recipe=data.meta["recipe"])
    if args.checkpoint_every and os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location="cpu")
        if ck["key"] == ck_key:
            with torch.no_grad():
                for (name, p), v in zip(params, velocity):
                    p.copy_(ck["params"][name])
                    v.copy_(ck["velocity"][name])
            gen.set_state(ck["gen"])
            torch.set_rng_state(ck["rng"])
            start, entries, trained_before = ck["iteration"], ck["log"], ck["trainSeconds"]
            run_loss, run_acc = torch.tensor(ck["runLoss"]), torch.tensor(ck["runAccuracy"])
            log(f"resuming from the checkpoint at iteration {start} of {iterations}")
        else:
            log("a checkpoint exists but was made with other arguments: starting over")

    def save_checkpoint(it, t0):
        tmp = ck_path + ".tmp"
        torch.save(
            dict(
                key=ck_key,
                iteration=it,
                params={name: p.detach().cpu() for name, p in params},
                velocity={name: v.detach().cpu() for (name, _), v in zip(params, velocity)},
                gen=gen.get_state(),
                rng=torch.get_rng_state(),
                log=entries,
                runLoss=run_loss.item(),
                runAccuracy=run_acc.item(),
                trainSeconds=trained_before + time.time() - t0,
            ),
            tmp,
        )
        os.replace(tmp, ck_path)  # atomic: an interrupted save leaves the previous checkpoint

    log(f"fine-tuning {iterations} iterations ({iterations / per_epoch:.1f} epochs of {per_epoch}), lr {base_lr}, warm-up {warmup}, weight decay {weight_decay}, augment {args.augment}")
    t0 = time.time()
    for it in range(start, iterations):
        lr = learning_rate(base_lr, it, iterations, rc, warmup)
        loss, acc = step(lr)
        run_loss = loss if run_loss is None else run_loss * 0.98 + loss * 0.02
        run_acc = acc if run_acc is None else run_acc * 0.98 + acc * 0.02
        last = it + 1 == iterations
        if (it + 1) % 100 == 0 or last:
            e = dict(iteration=it + 1, lr=lr, loss=run_loss.item(), accuracy=run_acc.item(), msPerIteration=(time.time() - t0) * 1000 / (it + 1 - start))
            if not math.isfinite(e["loss"]):
                raise SystemExit(f"diverged at iteration {it + 1}")
            if (it + 1) % args.eval_every == 0 or last:
                e["val"] = val_metrics(net, data, mean, args.amp)
                v = e["val"]
                log(f"cnn {it + 1}/{iterations} lr {lr:.1e} loss {e['loss']:.3f} acc {100 * e['accuracy']:.1f}% | val loss {v['loss']:.3f} acc {100 * v['accuracy']:.1f}% fg recall {100 * v['foregroundRecall']:.1f}% precision {100 * v['foregroundPrecision']:.1f}% | {e['msPerIteration']:.1f} ms/it")
            entries.append(e)
        if args.checkpoint_every and ((it + 1) % args.checkpoint_every == 0 or last or it + 1 == args.stop_after):
            save_checkpoint(it + 1, t0)
        if it + 1 == args.stop_after and not last:
            log(f"stopping after iteration {it + 1} of {iterations} as asked (--stop-after): the same command without it resumes from {ck_path}")
            return
        if args.seconds and time.time() - t_start > args.seconds - args.reserve and not last:
            stopped = it + 1
            log(f"time budget reached: stopping at iteration {stopped} of {iterations}")
            entries.append(dict(iteration=stopped, lr=lr, loss=run_loss.item(), accuracy=run_acc.item(), msPerIteration=(time.time() - t0) * 1000 / (stopped - start), val=val_metrics(net, data, mean, args.amp)))
            break
    train_s = trained_before + time.time() - t0
    aps, m = None, None
    if not args.skip_map:
        aps, m = softmax_map(net, data, mean, args.amp, args.map_images)
        log("softmax mAP on the validation images: " + " ".join(f"{k} {100 * v:.1f}" for k, v in aps.items()) + f" | mAP {100 * m:.1f}")
    probe = probe_report(net, data, mean, args.amp)
    if probe:
        log("probe: " + probe_line(probe))
    write_run(
        args.out,
        net,
        "finetune.py",
        dict(
            iterations=iterations,
            stoppedAt=stopped,
            baseLr=base_lr,
            warmup=warmup,
            weightDecay=weight_decay,
            lrSteps=steps,
            augment=args.augment,
            extraShare=args.extra_share,
            extraImages=data.meta.get("extraImages", 0),
            wb=wb,
            blur=args.blur,
            seed=args.seed,
            init=args.init,
            classes=classes,
            trainSeconds=train_s,
            device=torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
            softmaxAp=aps,
            softmaxMap=m,
            probe=probe,
            log=entries,
        ),
    )
    log(f"wrote {args.out}/cnn.bin and finetune-log.json ({train_s:.0f} s training)")


if __name__ == "__main__":
    main()
