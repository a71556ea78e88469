#!/usr/bin/env python3
"""Fast R-CNN's fine-tuning through RoI pooling (Girshick, ICCV 2015, section 2.3), in PyTorch,
on a CPU or a CUDA GPU: the training step that R-CNN's warped-crop CNN lacks for the shared-
convolution path (docs/fast-rcnn.md, issue 24).

Starts from a model package (--init, normally the bundled R-CNN CNN) and trains it the way Fast
R-CNN trains its network, on export.ts's data (the same split, photos, proposals and labels as
`rcnn train` and finetune.py):
  - each mini-batch is 2 photos (--images) and 64 RoIs per photo (--rois): a quarter foreground
    (the windows export.ts labels positive, IoU >= 0.5 with a ground-truth box, ground truth
    included), the rest background with a maximum IoU in [0.1, 0.5); photos and RoIs drawn
    uniformly; each photo mirrored with probability 0.5;
  - the photo at the app's `fast-rcnn` scale (src/model/roiGeometry.ts: shorter side 600 px,
    longer side at most 1000; --short-side / --max-side), resized as src/core/image/resize.ts
    does (area average when shrinking, bilinear when enlarging), BGR minus the mean;
  - conv1..conv5 once per photo, RoI max pooling to 6 x 6 with Fast R-CNN's rounding rules
    (`roi_pool` below is src/core/roiPool.ts's roiBinBounds + roiMaxPoolNhwc, tested against it by
    roiFinetune.test.ts), then fc6, fc7 (dropout 0.5) and two sibling outputs: fc8, the softmax
    over the classes, and a new box-regression layer (4 numbers per class, N(0, 0.001) weights);
  - the multi-task loss: cross-entropy + smooth L1 on the true class's box deltas (targets
    normalised by 0.1, 0.1, 0.2, 0.2), lambda 1;
  - SGD as in Fast R-CNN's solver: lr 0.001 (--lr), x0.1 at --step, momentum 0.9, weight decay
    0.0005 on weights, biases at lr x2, conv1 frozen (Fast R-CNN leaves it so for CaffeNet-sized
    nets).
The box-regression layer is trained for what it does to the shared features (Fast R-CNN's
multi-task result) and then dropped: the project keeps R-CNN's heads, so `rcnn train --stages
svm,bbox --features roi` trains per-class SVMs and ridge box regressors on the new network's RoI
features. The output is a finetune.py-style run (cnn.bin in the package's tfjs layouts and
finetune-log.json), which import.ts packages.

Each evaluation reports Fast R-CNN's own detector on the validation photos' proposals (softmax
scores, per-class NMS 0.3, VOC AP at IoU 0.5), with and without its box-regression layer: cheap
numbers to follow a run; the model's reported mAP is `rcnn train`'s with SVMs.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from finetune import CaffeNet, class_ap, load_package, load_windows, log, nms, write_run  # noqa: E402

P = 6  # pool5's grid, what fc6 was trained on
SPATIAL_SCALE = np.float32(1 / 16)  # conv5's stride in CaffeNet
BBOX_STDS = torch.tensor([0.1, 0.1, 0.2, 0.2])


# ---------------------------------------------------------------------------------------------
# RoI pooling (docs/fast-rcnn.md "RoI pooling, exactly"; src/core/roiPool.ts)


def c_round(v):
    """C's round(): halves away from zero."""
    return np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5)).astype(np.int64)


def boxes_to_rois(boxes, scale):
    """roiPool.ts boxesToRois: s * [x1, y1, x2 - 1, y2 - 1] in float32 (continuous boxes to the
    release's inclusive pixel indices)."""
    b = np.asarray(boxes, np.float64)
    return np.stack([b[:, 0] * scale, b[:, 1] * scale, (b[:, 2] - 1) * scale, (b[:, 3] - 1) * scale], 1).astype(np.float32)


def roi_bin_bounds(rois, height, width):
    """roiPool.ts roiBinBounds: per RoI the P bins' [start, end) rows and columns on a height x
    width map, in Caffe's float32 arithmetic. Returns hs, he, ws, we, each int64 [R, P]."""
    r = np.asarray(rois, np.float32)
    f = lambda v: c_round((v * SPATIAL_SCALE).astype(np.float32).astype(np.float64))  # noqa: E731
    sw, sh, ew, eh = f(r[:, 0]), f(r[:, 1]), f(r[:, 2]), f(r[:, 3])
    rh = np.maximum(eh - sh + 1, 1)
    rw = np.maximum(ew - sw + 1, 1)
    bh = (rh / P).astype(np.float32).astype(np.float64)
    bw = (rw / P).astype(np.float32).astype(np.float64)
    p = np.arange(P, dtype=np.float64)
    fl = lambda v: np.floor(v.astype(np.float32).astype(np.float64)).astype(np.int64)  # noqa: E731
    cl = lambda v: np.ceil(v.astype(np.float32).astype(np.float64)).astype(np.int64)  # noqa: E731
    hs = np.clip(fl(p[None] * bh[:, None]) + sh[:, None], 0, height)
    he = np.clip(cl((p[None] + 1) * bh[:, None]) + sh[:, None], 0, height)
    ws = np.clip(fl(p[None] * bw[:, None]) + sw[:, None], 0, width)
    we = np.clip(cl((p[None] + 1) * bw[:, None]) + sw[:, None], 0, width)
    return hs, he, ws, we


def roi_pool(conv5, rois, groups=8):
    """RoI max pooling of conv5 [C, H, W] (one photo) over rois [R, 4] (the photo's resized
    pixels, inclusive corners): [R, C * P * P] in Caffe's C,H,W order, an empty bin 0. Each bin's
    cells are gathered (padded with a -inf cell) and max-reduced, so autograd gives max pooling's
    backward (the gradient goes to each bin's arg-max cell). The RoIs go in up to `groups` groups
    of similar size, each padded only to its own largest bin: one padding for all would gather a
    whole-photo RoI's bin size for every small RoI."""
    C, H, W = conv5.shape
    hs, he, ws, we = roi_bin_bounds(rois, H, W)
    R = hs.shape[0]
    out = conv5.new_zeros((R, C * P * P))
    if R == 0:
        return out
    # Cells as rows (channels contiguous): index_select copies whole rows, its backward is an index_add.
    rows = torch.cat([conv5.reshape(C, H * W).t(), conv5.new_full((1, C), float("-inf"))], 0)
    kh_r = np.maximum((he - hs).max(1), 1)
    kw_r = np.maximum((we - ws).max(1), 1)
    order = np.argsort(kh_r * kw_r, kind="stable")
    parts, where = [], []
    for sel in np.array_split(order, min(groups, R)):
        if len(sel) == 0:
            continue
        kh, kw = int(kh_r[sel].max()), int(kw_r[sel].max())
        row = hs[sel, :, None] + np.arange(kh)[None, None]  # [n, P, kh]
        col = ws[sel, :, None] + np.arange(kw)[None, None]  # [n, P, kw]
        valid = (row < he[sel, :, None])[:, :, None, :, None] & (col < we[sel, :, None])[:, None, :, None, :]
        cell = np.where(valid, row[:, :, None, :, None] * W + col[:, None, :, None, :], H * W).reshape(-1)
        g = rows.index_select(0, torch.from_numpy(cell).to(conv5.device)).view(len(sel), P * P, kh * kw, C).amax(2)
        empty = torch.from_numpy(~valid.reshape(len(sel), P * P, -1).any(2)).to(conv5.device)
        g = torch.where(empty[:, :, None], torch.zeros((), dtype=g.dtype, device=g.device), g)
        parts.append(g.permute(0, 2, 1).reshape(len(sel), C * P * P))
        where.append(sel)
    inv = torch.from_numpy(np.argsort(np.concatenate(where))).to(conv5.device)
    return torch.cat(parts).index_select(0, inv)


# ---------------------------------------------------------------------------------------------
# Photos at the RoI scale


def roi_size(width, height, short_side, max_side, min_side):
    """roiGeometry.ts roiImageSize('fast-rcnn') with its sides as arguments."""
    s = short_side / min(width, height)
    if s * max(width, height) > max_side:
        s = max_side / max(width, height)
    if s * min(width, height) < min_side:
        s = min_side / min(width, height)
    return max(1, round(width * s)), max(1, round(height * s)), s


def resize_like_app(img, w, h):
    """resize.ts resizeRgb: area average when shrinking (PIL's BOX filter), bilinear with pixel-centre
    alignment when enlarging."""
    if (w, h) == img.size:
        return img
    return img.resize((w, h), Image.BOX if w <= img.size[0] and h <= img.size[1] else Image.BILINEAR)


class Photos:
    """export.ts's rasters resized to the RoI scale (uint8 HWC, RGB), with their scale factors."""

    def __init__(self, data_dir, meta, ids, short_side, max_side, min_side):
        self.px, self.scale = {}, {}
        for i in ids:
            im = meta["images"][i]
            img = Image.open(os.path.join(data_dir, im["file"])).convert("RGB")
            w, h, s = roi_size(im["width"], im["height"], short_side, max_side, min_side)
            self.px[i] = np.asarray(resize_like_app(img, w, h))
            self.scale[i] = s

    def tensor(self, i, mean, flip, device):
        """[1, 3, H, W] BGR minus the mean (the network's input order, sharedConv.ts photoTensor)."""
        a = self.px[i][:, ::-1] if flip else self.px[i]
        x = torch.from_numpy(np.ascontiguousarray(a[:, :, ::-1])).float()  # RGB -> BGR
        x = x - torch.tensor(mean, dtype=torch.float32)
        return x.permute(2, 0, 1)[None].to(device)


# ---------------------------------------------------------------------------------------------


def box_deltas(p, g):
    """R-CNN's regression targets (bboxRegression.ts): centre shift / size, log size ratio."""
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    return np.stack([((g[:, 0] + gw / 2) - (p[:, 0] + pw / 2)) / pw, ((g[:, 1] + gh / 2) - (p[:, 1] + ph / 2)) / ph, np.log(gw / pw), np.log(gh / ph)], 1)


def apply_deltas(p, d):
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    cx, cy = p[:, 0] + pw / 2 + d[:, 0] * pw, p[:, 1] + ph / 2 + d[:, 1] * ph
    w, h = pw * np.exp(d[:, 2]), ph * np.exp(d[:, 3])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


class Windows:
    """Per training photo: its foreground windows (label > 0) with box-regression targets, and its
    background windows with a maximum IoU in [bg_lo, 0.5)."""

    def __init__(self, data_dir, meta, bg_lo):
        boxes, image, label = (t.numpy() for t in load_windows(data_dir, "train", torch.device("cpu")))
        self.per = {}
        gts = {e["image"]: (np.array(e["gtBoxes"], np.float64).reshape(-1, 4), np.array(e["gtLabels"])) for e in meta["trainEval"]}
        order = np.argsort(image, kind="stable")
        cuts = np.searchsorted(image[order], np.arange(meta["trainImages"] + 1))
        for i in range(meta["trainImages"]):
            idx = order[cuts[i] : cuts[i + 1]]
            b, l = boxes[idx].astype(np.float64), label[idx]
            gt, gl = gts[i]
            if len(gt) == 0 or len(b) == 0:
                continue
            iw = np.clip(np.minimum(b[:, None, 2], gt[None, :, 2]) - np.maximum(b[:, None, 0], gt[None, :, 0]), 0, None)
            ih = np.clip(np.minimum(b[:, None, 3], gt[None, :, 3]) - np.maximum(b[:, None, 1], gt[None, :, 1]), 0, None)
            inter = iw * ih
            area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
            iou = inter / np.maximum(area(b)[:, None] + area(gt)[None] - inter, 1e-12)
            best = iou.argmax(1)
            top = iou.max(1)
            fg = np.nonzero(l > 0)[0]
            bg = np.nonzero((l == 0) & (top >= bg_lo) & (top < 0.5))[0]
            if len(bg) == 0:
                bg = np.nonzero(l == 0)[0]
            self.per[i] = dict(
                fg_boxes=b[fg], fg_labels=l[fg], fg_targets=box_deltas(b[fg], gt[best[fg]]) if len(fg) else np.zeros((0, 4)),
                bg_boxes=b[bg],
            )
        self.images = sorted(self.per)


def mini_batch(win, i, rois, fg_share, rng, width):
    """Photo i's RoIs for one mini-batch, mirrored to `width` if asked: boxes [n, 4] (photo pixels),
    labels, regression targets (zeros for background)."""
    w = win.per[i]
    n_fg = min(int(round(fg_share * rois)), len(w["fg_boxes"]))
    n_bg = rois - n_fg
    f = rng.choice(len(w["fg_boxes"]), n_fg, replace=False) if n_fg else np.zeros(0, np.int64)
    g = rng.choice(len(w["bg_boxes"]), n_bg, replace=len(w["bg_boxes"]) < n_bg) if len(w["bg_boxes"]) else np.zeros(0, np.int64)
    boxes = np.concatenate([w["fg_boxes"][f], w["bg_boxes"][g]])
    labels = np.concatenate([w["fg_labels"][f], np.zeros(len(g), np.int64)])
    targets = np.concatenate([w["fg_targets"][f], np.zeros((len(g), 4))])
    if width is not None:
        boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1)
        targets = targets * np.array([-1, 1, 1, 1])
    return boxes, labels, targets


class FastRcnn(torch.nn.Module):
    """The package's CaffeNet with pool5 replaced by RoI pooling and a box-regression layer beside fc8."""

    def __init__(self, arch, weights, seed):
        super().__init__()
        self.net = CaffeNet(arch, weights)
        g = torch.Generator().manual_seed(seed)
        n = arch["fc8"]
        self.bbox_w = torch.nn.Parameter(torch.randn(4 * n, arch["fc7"], generator=g) * 0.001)
        self.bbox_b = torch.nn.Parameter(torch.zeros(4 * n))

    def forward(self, photos, boxes, scales, out=None):
        """photos: list of [1, 3, H, W]; boxes: list of [n, 4] in photo pixels; scales: photo to input."""
        pooled = []
        for x, b, s in zip(photos, boxes, scales):
            conv5 = self.net.convs(x, pool5=False)[0]
            pooled.append(roi_pool(conv5, boxes_to_rois(b, s)))
        res = {} if out is None else out
        logits = self.net.fcs(torch.cat(pooled), res)
        return logits, F.linear(res["fc7Out"], self.bbox_w, self.bbox_b)


@torch.no_grad()
def detect_map(model, photos, meta, val_props, device):
    """Fast R-CNN's detector on the validation photos' proposals: softmax, per-class NMS 0.3, VOC AP
    at IoU 0.5, without and with its box-regression layer."""
    model.eval()
    ev = meta["valEval"]
    classes = meta["classes"]
    n = len(classes)
    dets = {c: ([], []) for c in range(1, n)}
    mean = model.net.arch["mean"]
    for k, e in enumerate(ev):
        o, m = e["proposalOffset"], e["proposalCount"]
        b = val_props[o : o + m].astype(np.float64)
        logits, deltas = model([photos.tensor(e["image"], mean, False, device)], [b], [photos.scale[e["image"]]])
        prob = torch.softmax(logits, 1).cpu()
        d = (deltas.cpu().view(-1, n, 4) * BBOX_STDS).numpy()
        for c in range(1, n):
            s = prob[:, c]
            for which, bx in ((0, b), (1, apply_deltas(b, d[:, c]))):
                t = torch.from_numpy(bx)
                for i in nms(t, s, 0.3).tolist():
                    dets[c][which].append((float(s[i]), k, bx[i]))
    model.train()
    out = {}
    for which, name in ((0, "withoutRegression"), (1, "withRegression")):
        aps = {classes[c]: class_ap(ev, c, dets[c][which]) for c in range(1, n)}
        out[name] = dict(ap=aps, map=float(np.mean(list(aps.values()))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by export.ts")
    ap.add_argument("--init", required=True, help="model package to start from (its CNN)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, required=True)
    ap.add_argument("--step", type=float, default=0.75, help="share of the iterations after which lr drops x0.1")
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--weight-decay", type=float, default=0.0005)
    ap.add_argument("--images", type=int, default=2, help="photos per mini-batch")
    ap.add_argument("--rois", type=int, default=64, help="RoIs per photo")
    ap.add_argument("--fg-share", type=float, default=0.25)
    ap.add_argument("--bg-lo", type=float, default=0.1, help="background RoIs have a maximum IoU in [bg-lo, 0.5)")
    ap.add_argument("--short-side", type=int, default=600)
    ap.add_argument("--max-side", type=int, default=1000)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--checkpoint-every", type=int, default=0, help="save OUT/checkpoint.pt every N iterations; a rerun with the same arguments resumes there")
    ap.add_argument("--stop-after", type=int, default=0, help="with --checkpoint-every: stop after this iteration, checkpoint saved, to go on later")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--parity", action="store_true", help="only write pool5 (RoI-pooled) and fc7 of the first validation photo's first 16 proposals (roiFinetune.test.ts)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.stop_after and not args.checkpoint_every:
        raise SystemExit("--stop-after needs --checkpoint-every: without a checkpoint the stopped run would be lost")
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    classes = meta["classes"]
    pmeta, weights = load_package(args.init)
    if pmeta["classes"] != classes:
        raise SystemExit(f"--init's classes {pmeta['classes']} differ from the data's {classes}")
    arch = pmeta["architecture"]
    mean = arch["mean"]
    min_side = max(arch["inputHeight"], arch["inputWidth"])
    model = FastRcnn(arch, weights, args.seed).to(dev)
    val_props = np.fromfile(os.path.join(args.data, "val-proposals.f32"), dtype="<f4").reshape(-1, 4)
    val_ids = [e["image"] for e in meta["valEval"]]

    if args.parity:
        e = meta["valEval"][0]
        photos = Photos(args.data, meta, [e["image"]], args.short_side, args.max_side, min_side)
        b = val_props[e["proposalOffset"] : e["proposalOffset"] + 16].astype(np.float64)
        model.eval()
        with torch.no_grad():
            x = photos.tensor(e["image"], mean, False, dev)
            conv5 = model.net.convs(x, pool5=False)[0]
            pool5 = roi_pool(conv5, boxes_to_rois(b, photos.scale[e["image"]]))
            res = {}
            model.net.fcs(pool5, res)
        np.save(os.path.join(args.out, "parity-pool5.npy"), pool5.cpu().numpy())
        np.save(os.path.join(args.out, "parity-fc7.npy"), res["fc7"].cpu().numpy())
        np.save(os.path.join(args.out, "parity-input.npy"), x.cpu().numpy())
        log(f"parity: wrote pool5 and fc7 of 16 proposals of {e['id']} at {x.shape[3]} x {x.shape[2]}")
        return

    t_load = time.time()
    win = Windows(args.data, meta, args.bg_lo)
    photos = Photos(args.data, meta, win.images + val_ids, args.short_side, args.max_side, min_side)
    log(f"{len(win.images)} training photos ({sum(len(w['fg_boxes']) for w in win.per.values())} foreground, {sum(len(w['bg_boxes']) for w in win.per.values())} background windows), {len(val_ids)} validation photos, loaded and resized in {time.time() - t_load:.0f} s; init {args.init}; device {dev}")

    params = [(n, p) for n, p in model.net.params.items() if not n.startswith("conv1_")] + [("bbox_w", model.bbox_w), ("bbox_b", model.bbox_b)]
    model.net.p("conv1.weight").requires_grad_(False)
    model.net.p("conv1.bias").requires_grad_(False)
    velocity = [torch.zeros_like(p) for _, p in params]
    rng = np.random.default_rng(args.seed)
    start, entries, trained_before, run = 0, [], 0.0, None
    ck_path = os.path.join(args.out, "checkpoint.pt")
    ck_key = {k: v for k, v in vars(args).items() if k not in ("out", "threads", "eval_every", "checkpoint_every", "stop_after", "device")}
    if args.checkpoint_every and os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location="cpu")
        if ck["key"] == ck_key:
            with torch.no_grad():
                for (name, p), v in zip(params, velocity):
                    p.copy_(ck["params"][name])
                    v.copy_(ck["velocity"][name])
            rng.bit_generator.state = ck["rng"]
            torch.set_rng_state(ck["torchRng"])
            start, entries, trained_before, run = ck["iteration"], ck["log"], ck["trainSeconds"], ck["run"]
            log(f"resuming from the checkpoint at iteration {start} of {args.iterations}")
        else:
            log("a checkpoint exists but was made with other arguments: starting over")

    n_cls = len(classes)
    stds = BBOX_STDS.to(dev)
    t0 = time.time()
    log(f"Fast R-CNN fine-tuning: {args.iterations} iterations of {args.images} photos x {args.rois} RoIs, lr {args.lr} (x0.1 after {int(args.step * args.iterations)}), conv1 frozen")
    for it in range(start, args.iterations):
        lr = args.lr * (0.1 if it >= int(args.step * args.iterations) else 1.0)
        ids = rng.choice(win.images, args.images, replace=False)
        xs, bs, ss, ls, ts = [], [], [], [], []
        for i in ids:
            flip = bool(rng.random() < 0.5)
            b, l, t = mini_batch(win, i, args.rois, args.fg_share, rng, meta["images"][i]["width"] if flip else None)
            xs.append(photos.tensor(i, mean, flip, dev))
            bs.append(b)
            ss.append(photos.scale[i])
            ls.append(l)
            ts.append(t)
        labels = torch.from_numpy(np.concatenate(ls)).long().to(dev)
        targets = torch.from_numpy(np.concatenate(ts)).float().to(dev) / stds
        logits, deltas = model(xs, bs, ss)
        cls_loss = F.cross_entropy(logits, labels)
        fg = labels > 0
        d = deltas.view(-1, n_cls, 4)[torch.arange(len(labels), device=dev), labels]
        box_loss = F.smooth_l1_loss(d[fg], targets[fg], reduction="sum") / len(labels)
        loss = cls_loss + box_loss
        for _, p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for (name, p), v in zip(params, velocity):
                g = p.grad * (2.0 if name.endswith("_bias") or name == "bbox_b" else 1.0)
                if not (name.endswith("_bias") or name == "bbox_b"):
                    g = g + args.weight_decay * p
                v.mul_(0.9).add_(g, alpha=lr)
                p.sub_(v)
        acc = (logits.argmax(1) == labels).float().mean().item()
        cur = (cls_loss.item(), box_loss.item(), acc)
        run = cur if run is None else tuple(0.98 * a + 0.02 * b for a, b in zip(run, cur))
        last = it + 1 == args.iterations
        if (it + 1) % 50 == 0 or last:
            e = dict(iteration=it + 1, lr=lr, loss=run[0], boxLoss=run[1], accuracy=run[2], msPerIteration=(time.time() - t0) * 1000 / (it + 1 - start))
            if not math.isfinite(e["loss"]):
                raise SystemExit(f"diverged at iteration {it + 1}")
            if (it + 1) % args.eval_every == 0 or last:
                e["val"] = detect_map(model, photos, meta, val_props, dev)
                v = e["val"]
                log(f"{it + 1}/{args.iterations} lr {lr:.0e} cls loss {run[0]:.3f} box loss {run[1]:.3f} acc {100 * run[2]:.1f}% | Fast R-CNN detector mAP {100 * v['withRegression']['map']:.1f} (without its box layer {100 * v['withoutRegression']['map']:.1f}) | {e['msPerIteration']:.0f} ms/it")
            else:
                log(f"{it + 1}/{args.iterations} lr {lr:.0e} cls loss {run[0]:.3f} box loss {run[1]:.3f} acc {100 * run[2]:.1f}% | {e['msPerIteration']:.0f} ms/it")
            entries.append(e)
        if args.checkpoint_every and ((it + 1) % args.checkpoint_every == 0 or it + 1 == args.stop_after) and not last:
            tmp = ck_path + ".tmp"
            torch.save(dict(key=ck_key, iteration=it + 1, params={n: p.detach().cpu() for n, p in params}, velocity={n: v.cpu() for (n, _), v in zip(params, velocity)},
                            rng=rng.bit_generator.state, torchRng=torch.get_rng_state(), log=entries, trainSeconds=trained_before + time.time() - t0, run=run), tmp)
            os.replace(tmp, ck_path)  # atomic: an interrupted save leaves the previous checkpoint
        if it + 1 == args.stop_after and not last:
            log(f"stopping after iteration {it + 1} of {args.iterations} as asked (--stop-after): the same command without it resumes from {ck_path}")
            return
    train_s = trained_before + time.time() - t0
    final = entries[-1]["val"] if entries and "val" in entries[-1] else detect_map(model, photos, meta, val_props, dev)
    write_run(
        args.out,
        model.net,
        "roi_finetune.py",
        dict(
            kind="roi",
            iterations=args.iterations,
            lr=args.lr,
            step=args.step,
            imagesPerBatch=args.images,
            roisPerImage=args.rois,
            fgShare=args.fg_share,
            bgLo=args.bg_lo,
            roiScale=dict(shortSide=args.short_side, maxSide=args.max_side),
            seed=args.seed,
            init=args.init,
            classes=classes,
            trainSeconds=train_s,
            device=torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
            fastRcnnDetector=final,
            softmaxMap=final["withoutRegression"]["map"],
            log=entries,
        ),
    )
    log(f"wrote {args.out}/cnn.bin and finetune-log.json ({train_s:.0f} s training)")


if __name__ == "__main__":
    main()
