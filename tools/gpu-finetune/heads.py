#!/usr/bin/env python3
"""Stages 2 and 3 of R-CNN (docs/algorithm.md sections 5-6) and the validation mAP on a CUDA GPU, to
compare CNNs by what matters: the R-CNN detector's mAP with SVMs and box regressors, not the
softmax mAP that finetune.py prints (three CNNs with the shipped CNN's softmax mAP scored 2.6-5.5
points lower once `rcnn train` had fitted SVMs to them, and that stage costs an hour per CNN on the
2-core machine, nearly all of it CNN forward passes).

Same data as finetune.py (export.ts also writes the training images' ground truth; their proposals are
their fine-tuning windows after it),
same warp, same CNN; the heads follow src/pipeline/train/heads.ts and the evaluation
src/pipeline/train/evaluate.ts (what rcnn train and the app's Train view both run):
  - features of the ground truth + first N proposals of every training image; fc7 and pool5
    scaled to a mean L2 norm of 20, the factor measured on 200 images x 40 random windows;
  - per class a linear SVM on fc7: the ground-truth boxes of the class positive, every window under
    0.3 IoU with every instance of the class negative; loss weight C (x2 on positives), bias
    feature 10, the objective of src/core/learn/svm.ts. What differs: heads.ts mines hard negatives
    in passes over the images (one by default, --hard-epochs) (the release's cache, retrains and evictions), which approximates
    the SVM on all negatives; here the SVM on all negatives is solved directly (the GPU holds them
    all) by L-BFGS on the hinge smoothed over the last `--huber` of margin, and the reported
    objective is the true hinge objective of that solution;
  - per class a ridge box regressor on pool5 (lambda 1000, constant feature regularised too,
    targets centred) from up to 32 random windows per image over 0.6 IoU with their best ground
    truth, ground-truth boxes included (target 0);
  - on the validation images: SVM scores of the first N proposals, per-class NMS at each given
    threshold, at most 100 detections per class and image, VOC all-point AP at IoU 0.5 (difficult
    boxes ignored), with and without box regression.
The random streams differ from the TypeScript trainer's (numpy instead of mulberry32), so the 200
feature-statistics images and the 32 regression windows per image differ too.

Usage: heads.py --data DIR --cnn RUN_OR_PACKAGE [--cnn ...] --out DIR [--svm-c 0.1] [--nms 0.3,0.4]
RUN_OR_PACKAGE is a finetune.py output folder (cnn.bin + finetune-log.json) or a model package.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import finetune as ft  # noqa: E402

TARGET_NORM = 20.0
SVM_POSITIVE_WEIGHT = 2.0
SVM_BIAS_MULTIPLIER = 10.0
SVM_NEGATIVE_IOU = 0.3
BBOX_MIN_IOU = 0.6


def load_cnn(path):
    """(architecture, weights in tfjs layouts) of a model package or a finetune.py run."""
    if os.path.exists(os.path.join(path, "model.json")):
        meta, weights = ft.load_package(path)
        return meta["architecture"], weights
    run = json.load(open(os.path.join(path, "finetune-log.json")))
    arch = run["architecture"]
    raw = open(os.path.join(path, "cnn.bin"), "rb").read()
    weights, off = {}, 0
    for name, shape in ft.weight_shapes(arch):
        n = int(np.prod(shape))
        weights[name] = np.frombuffer(raw, dtype="<f4", count=n, offset=off).reshape(shape).copy()
        off += 4 * n
    if off != len(raw):
        raise SystemExit(f"{path}/cnn.bin holds {len(raw)} bytes, the logged architecture needs {off}")
    return arch, weights


def iou_matrix(a, b):
    """IoU of boxes a [n, 4] against b [m, 4], continuous areas (src/core/geometry.ts)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area = lambda x: (x[:, 2] - x[:, 0]).clamp(min=0) * (x[:, 3] - x[:, 1]).clamp(min=0)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter).clamp(min=1e-12)


@torch.no_grad()
def features(net, data, boxes, image, mean, pool5_rows=None, batch=1024):
    """fc7 of every window, and pool5 (flattened) of the rows pool5_rows selects (all when None)."""
    net.eval()
    fc7, pool5 = [], []
    for k in range(0, boxes.shape[0], batch):
        x = ft.warp(data, boxes[k : k + batch], image[k : k + batch], mean)
        r = net(x, outputs=("pool5", "fc7"))
        fc7.append(r["fc7"].float())
        p5 = r["pool5"].flatten(1).float()
        if pool5_rows is not None:
            p5 = p5[pool5_rows[k : k + batch]]
        pool5.append(p5)
    return torch.cat(fc7), torch.cat(pool5)


def hinge_objective(w, v, s_pos, s_neg, C):
    """svm.ts objective: C_pos sum hinge(1 - s) over positives + C sum hinge(1 + s) over negatives
    + 1/2 |w|^2 + 1/2 v^2 (b = 10 v)."""
    lp = torch.clamp(1 - s_pos, min=0).sum() * C * SVM_POSITIVE_WEIGHT
    ln = torch.clamp(1 + s_neg, min=0).sum() * C
    return float(lp + ln + 0.5 * (w @ w + v * v))


def train_svm(X, pos_rows, neg_mask, C, huber, iterations):
    """Linear SVM on scaled fc7 rows X: positives X[pos_rows], negatives X[neg_mask].
    Returns (w, b, stats)."""
    d = X.shape[1]
    dev = X.device
    theta = torch.zeros(d + 1, dtype=torch.float64, device=dev, requires_grad=True)
    negf = neg_mask.double()
    Xp = X[pos_rows]

    def smooth(z):  # hinge max(0, z) smoothed quadratically over [0, huber]
        return torch.where(z <= 0, torch.zeros_like(z), torch.where(z < huber, z * z / (2 * huber), z - huber / 2))

    def scores(t, rows):
        return (rows @ t[:d].float()).double() + SVM_BIAS_MULTIPLIER * t[d]

    opt = torch.optim.LBFGS([theta], lr=1, max_iter=iterations, history_size=20, tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe")
    evals = [0]

    def closure():
        opt.zero_grad()
        evals[0] += 1
        sp = scores(theta, Xp)
        sa = scores(theta, X)
        f = C * SVM_POSITIVE_WEIGHT * smooth(1 - sp).sum() + C * (smooth(1 + sa) * negf).sum() + 0.5 * (theta * theta).sum()
        f.backward()
        return f

    t0 = time.time()
    opt.step(closure)
    with torch.no_grad():
        w, v = theta[:d].detach(), float(theta[d])
        sp = scores(theta, Xp)
        sn = scores(theta, X)[neg_mask]
        obj = hinge_objective(w, torch.tensor(v, dtype=torch.float64), sp, sn, C)
        stats = dict(
            positives=int(len(pos_rows)),
            negatives=int(neg_mask.sum()),
            objective=obj,
            functionEvaluations=evals[0],
            positiveMarginViolations=int((sp < 1).sum()),
            negativeMarginViolations=int((sn > -1).sum()),
            seconds=time.time() - t0,
        )
    return w.float(), SVM_BIAS_MULTIPLIER * v, stats


def encode(p, g):
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    return torch.stack([(g[:, 0] + 0.5 * gw - p[:, 0] - 0.5 * pw) / pw, (g[:, 1] + 0.5 * gh - p[:, 1] - 0.5 * ph) / ph, torch.log(gw / pw), torch.log(gh / ph)], 1)


def decode(p, t):
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    cx, cy = p[:, 0] + 0.5 * pw + t[:, 0] * pw, p[:, 1] + 0.5 * ph + t[:, 1] * ph
    w, h = pw * torch.exp(t[:, 2]), ph * torch.exp(t[:, 3])
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], 1)


def train_ridge(X, P, G, lam):
    """Ridge on [X, 1] (constant regularised too) to the centred targets encode(P, G); float64.
    (bboxRegression.ts also whitens the targets, which cancels exactly in the predictions.)"""
    t = encode(P.double(), G.double())
    mu = t.mean(0)
    A = torch.cat([X.double(), torch.ones(X.shape[0], 1, dtype=torch.float64, device=X.device)], 1)
    M = A.T @ A + lam * torch.eye(A.shape[1], dtype=torch.float64, device=X.device)
    Wb = torch.linalg.solve(M, A.T @ (t - mu))
    return Wb[:-1].float(), Wb[-1].float(), mu.float()


def evaluate(ev, classes, per_image, nms_thresholds, max_per_class=100):
    """per_image[k] = (proposals [n, 4], scores [n, C], regressed [C, n, 4] or None) -> mAP tables."""
    out = {}
    for tau in nms_thresholds:
        for reg in ([False, True] if per_image[0][2] is not None else [False]):
            aps = {}
            for c in range(1, len(classes)):
                dets = []
                for k, (props, scores, regressed) in enumerate(per_image):
                    b = regressed[c - 1] if reg else props
                    s = scores[:, c - 1]
                    keep = ft.nms(b, s, tau, max_per_class)
                    bk, sk = b[keep].cpu().numpy(), s[keep].cpu().numpy()
                    dets.extend((float(sk[j]), k, bk[j]) for j in range(len(keep)))
                aps[classes[c]] = ft.class_ap(ev, c, dets)
            out[f"nms{tau}" + ("-bbox" if reg else "")] = dict(ap=aps, map=float(np.mean(list(aps.values()))))
    return out


def run_heads(path, data, args, dev):
    t_start = time.time()
    arch, weights = load_cnn(path)
    net = ft.CaffeNet(arch, weights).to(dev)
    mean = arch["mean"]
    classes = data.meta["classes"]
    C = len(classes) - 1
    rng = np.random.default_rng(args.seed)
    train_ev = data.meta["trainEval"][: args.limit_train or None]
    val_ev = data.meta["valEval"][: args.limit_val or None]

    # Training windows: each image's ground truth first, then its first N proposals (heads.ts
    # candidates()); export.ts's windows of an image are exactly that, in that order.
    wb, wi = data.train[0].cpu(), data.train[1].cpu()
    counts = torch.bincount(wi, minlength=len(train_ev))
    starts = torch.cumsum(counts, 0) - counts
    boxes, image, first = [], [], []
    pos_rows = [[] for _ in range(C)]
    neg_rows_mask = []
    bbox_rows, bbox_gt = [], []
    n_rows = 0
    for i, e in enumerate(train_ev):
        gt = torch.tensor(e["gtBoxes"], dtype=torch.float32).view(-1, 4)
        gl = torch.tensor(e["gtLabels"], dtype=torch.long)
        o, m = int(starts[e["image"]]), int(counts[e["image"]])
        cand = wb[o : o + min(m, len(gt) + args.proposals)]
        if len(cand) < len(gt) or (len(gt) and (cand[: len(gt)] - gt).abs().max() > 0.07):
            raise SystemExit(f"{e['id']}: its first windows are not its ground truth; export the data again with this version of export.ts")
        first.append(n_rows)
        for j, c in enumerate(gl.tolist()):
            pos_rows[c - 1].append(n_rows + j)
        ov = iou_matrix(cand, gt) if len(gt) else torch.zeros(len(cand), 0)
        neg = torch.ones(len(cand), C, dtype=torch.bool)
        for c in range(C):
            cols = gl == c + 1
            if cols.any():
                neg[:, c] = ov[:, cols].max(1).values < SVM_NEGATIVE_IOU
        neg_rows_mask.append(neg)
        if len(gt):
            best, arg = ov.max(1)
            rows = torch.nonzero(best > BBOX_MIN_IOU).flatten().numpy()
            if args.bbox_samples and len(rows) > args.bbox_samples:
                rows = np.sort(rng.choice(rows, args.bbox_samples, replace=False))
            bbox_rows.extend((n_rows + rows).tolist())
            bbox_gt.extend([(i, int(arg[r])) for r in rows])
        boxes.append(cand)
        image.append(torch.full((len(cand),), e["image"], dtype=torch.long))
        n_rows += len(cand)
    boxes = torch.cat(boxes).to(dev)
    image = torch.cat(image).to(dev)
    neg_mask = torch.cat(neg_rows_mask).to(dev)
    sel = torch.zeros(n_rows, dtype=torch.bool)
    sel[bbox_rows] = True
    t0 = time.time()
    fc7, pool5 = features(net, data, boxes, image, mean, pool5_rows=sel.to(dev))
    feat_s = time.time() - t0
    ft.log(f"{path}: features of {n_rows} training windows of {len(train_ev)} images in {feat_s:.0f} s ({n_rows / feat_s:.0f} windows/s)")

    # Feature scale (rcnn_feature_stats.m): 200 random images x 40 random windows.
    stat_imgs = rng.permutation(len(train_ev))[: min(200, len(train_ev))]
    stat_rows = []
    for i in stat_imgs:
        lo, hi = first[i], first[i + 1] if i + 1 < len(first) else n_rows
        stat_rows.extend((lo + rng.permutation(hi - lo)[: min(40, hi - lo)]).tolist())
    stat_rows = torch.tensor(stat_rows, device=dev)
    fc7_scale = TARGET_NORM / float(fc7[stat_rows].norm(dim=1).mean())
    # pool5 is kept only for the regression rows; its statistics use the same windows' pool5.
    stat_p5 = features(net, data, boxes[stat_rows], image[stat_rows], mean)[1]
    pool5_scale = TARGET_NORM / float(stat_p5.norm(dim=1).mean())
    fc7.mul_(fc7_scale)

    svms = {}
    for svm_c in args.svm_c:
        W = torch.zeros(C, fc7.shape[1], device=dev)
        b = torch.zeros(C, device=dev)
        st = []
        for c in range(C):
            w, bias, s = train_svm(fc7, torch.tensor(pos_rows[c], dtype=torch.long, device=dev), neg_mask[:, c], svm_c, args.huber, args.lbfgs_iterations)
            W[c], b[c] = w, bias
            st.append(dict(cls=classes[c + 1], **s))
            ft.log(f"svm {classes[c + 1]} (C {svm_c}): {s['positives']} positives, {s['negatives']} negatives, objective {s['objective']:.4f}, {s['functionEvaluations']} evaluations, margin violations {s['positiveMarginViolations']}+{s['negativeMarginViolations']}, {s['seconds']:.1f} s")
        svms[svm_c] = (W, b, st)
    del fc7

    # Box regressors.
    bbox_gt_boxes = torch.stack([torch.tensor(train_ev[i]["gtBoxes"], dtype=torch.float32).view(-1, 4)[g] for i, g in bbox_gt]).to(dev)
    bbox_cls = torch.tensor([train_ev[i]["gtLabels"][g] - 1 for i, g in bbox_gt], device=dev)
    bbox_P = boxes[torch.tensor(bbox_rows, device=dev)]
    X5 = pool5 * pool5_scale
    regs = []
    for c in range(C):
        m = bbox_cls == c
        regs.append(train_ridge(X5[m], bbox_P[m], bbox_gt_boxes[m], args.bbox_lambda) if m.any() else None)
    ft.log(f"box regressors: {', '.join(f'{classes[c + 1]} {int((bbox_cls == c).sum())}' for c in range(C))} pairs")

    # Validation.
    results = {}
    per_c = {svm_c: [] for svm_c in args.svm_c}
    for k, e in enumerate(val_ev):
        o, n = e["proposalOffset"], min(e["proposalCount"], args.proposals)
        props = data.val_props[o : o + n]
        f7, p5 = features(net, data, props, torch.full((n,), e["image"], dtype=torch.long, device=dev), mean)
        W_img, H_img = float(data.w[e["image"]]), float(data.h[e["image"]])
        regressed = torch.empty(C, n, 4, device=dev)
        for c in range(C):
            if regs[c] is None:
                regressed[c] = props
                continue
            Wr, br, mu = regs[c]
            t = (p5 * pool5_scale) @ Wr + br + mu
            bx = decode(props, t)
            bx[:, 0::2] = bx[:, 0::2].clamp(0, W_img)
            bx[:, 1::2] = bx[:, 1::2].clamp(0, H_img)
            regressed[c] = bx
        for svm_c, (W, b, _) in svms.items():
            per_c[svm_c].append((props, (f7 * fc7_scale) @ W.T + b, regressed))
    for svm_c in args.svm_c:
        results[str(svm_c)] = evaluate(val_ev, classes, per_c[svm_c], args.nms)
        ft.log(f"{path} C {svm_c}: " + " | ".join(f"{k} mAP {100 * v['map']:.1f}" for k, v in results[str(svm_c)].items()))
    return dict(
        cnn=path,
        trainImages=len(train_ev),
        valImages=len(val_ev),
        trainWindows=n_rows,
        featureSeconds=feat_s,
        fc7Scale=fc7_scale,
        pool5Scale=pool5_scale,
        svm={str(k): v[2] for k, v in svms.items()},
        bboxPairs={classes[c + 1]: int((bbox_cls == c).sum()) for c in range(C)},
        results=results,
        seconds=time.time() - t_start,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder written by export.ts (with meta.trainEval)")
    ap.add_argument("--cnn", action="append", required=True, help="finetune.py output folder or model package (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--svm-c", default="0.1", help="SVM C values, comma-separated (the bundled model: 0.1)")
    ap.add_argument("--nms", default="0.3,0.4", help="NMS IoU thresholds to evaluate, comma-separated")
    ap.add_argument("--proposals", type=int, default=2000)
    ap.add_argument("--bbox-samples", type=int, default=32, help="regression windows kept per image (0: all), as rcnn train --bbox-samples")
    ap.add_argument("--bbox-lambda", type=float, default=1000.0)
    ap.add_argument("--huber", type=float, default=0.01, help="margin over which the hinge is smoothed for L-BFGS")
    ap.add_argument("--lbfgs-iterations", type=int, default=300)
    ap.add_argument("--limit-train", type=int, default=0, help="first K training images only (a quick check)")
    ap.add_argument("--limit-val", type=int, default=0, help="first K validation images only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    args.svm_c = [float(v) for v in args.svm_c.split(",")]
    args.nms = [float(v) for v in args.nms.split(",")]
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    data = ft.Data(args.data, dev)
    if "trainEval" not in data.meta:
        raise SystemExit(f"{args.data}: no training ground truth (meta.trainEval); export it again with this version of export.ts")
    os.makedirs(args.out, exist_ok=True)
    report = []
    for path in args.cnn:
        report.append(run_heads(path, data, args, dev))
        json.dump(dict(command=" ".join(["python3", "tools/gpu-finetune/heads.py"] + sys.argv[1:]), device=torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", torch=torch.__version__, runs=report), open(os.path.join(args.out, "heads-eval.json"), "w"), indent=1)
    ft.log(f"wrote {args.out}/heads-eval.json")


if __name__ == "__main__":
    main()
