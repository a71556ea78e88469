#!/usr/bin/env python3
"""Writes an augmented PASCAL VOC training set from the training split of a VOC folder.

The bundled detector learnt from 450 web and clip-art photos, most with one large object, and
fails on what it has not seen: close-ups on plain studio backgrounds, objects small among others,
old scanned photos with colour casts, grain and blur (issue 23). This tool makes such photos out
of the training photos alone, so fine-tuning can meet them:

  studio  one to three objects cut from training boxes (GrabCut mask, feathered edge, sometimes a
          soft shadow) pasted large onto a plain, gradient, textured or blurred background:
          "Cut, Paste and Learn" (Dwibedi et al., ICCV 2017);
  scene   two to six objects pasted at smaller scales onto another training photo (its own boxes
          kept) or onto such a background, not overlapping each other or the photo's boxes by
          more than IoU 0.3: "Simple Copy-Paste" (Ghiasi et al., CVPR 2021);
  jitter  a whole training photo zoomed in (a crop around one object) or out (shrunk onto a larger
          background), boxes kept.

Every photo then gets scanned-photo artefacts with probability --artefacts (colour cast or tint,
faded contrast, saturation, gamma, blur, grain, JPEG blocking). New boxes are the tight boxes of
the pasted masks, so they are right by construction.

Only the ids in --split are read (the training split: never validation or test photos), and
objects are drawn class-balanced. augment-log.json records, per written photo, the training
photos it was made from. Seeded: each photo draws from its own stream (seed, kind, index), so the
same arguments write the same files, and a smaller count writes the first photos of a larger one.

Usage: python3 tools/augment/augment.py --data DIR --split train.txt --out DIR
         [--studio 300] [--scenes 300] [--jitter 300] [--seed 1] [--artefacts 0.8]
Needs numpy, Pillow and OpenCV (Debian: apt-get install python3-numpy python3-pil python3-opencv).
"""
import argparse
import json
import math
import os
import sys
import time
import xml.etree.ElementTree as ET

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

# A few dataset JPEGs end early; the app's decoder shows what is there, and so does this.
ImageFile.LOAD_TRUNCATED_IMAGES = True

# Objects smaller than this (either side, original pixels) are not cut out: GrabCut has too little
# to work with, and selective search drops boxes under 20 px anyway (docs/algorithm.md section 1).
MIN_OBJECT_SIDE = 24
# A GrabCut mask is kept when it covers this share of its box: less means GrabCut lost the object,
# more means it took the whole rectangle (no background to tell apart).
MASK_FILL = (0.2, 0.97)
# Longest side of the written photos: selective search works on at most 500 px wide
# (docs/algorithm.md section 1) and its cost, the export's on this CPU, grows with the pixel count.
CANVAS_LONG_SIDE = (360, 500)
# Pasted objects and a photo's own boxes may overlap this much (IoU, and intersection over either
# box), so no pasted object hides most of another: an object mostly hidden but still labelled,
# or visible but unlabelled, would teach the detector wrong boxes.
MAX_OVERLAP = 0.3


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# Reading the training photos


def read_voc(data, ids):
    """Each id's upright RGB photo and its boxes as continuous pixels [x1, y1, x2, y2] (VOC's
    1-based inclusive xmin..xmax becomes [xmin - 1, xmax)), clipped to the decoded size, which is
    trusted over the XML's <size> (as src/cli/dataset.ts does)."""
    photos = []
    for pid in ids:
        im = Image.open(os.path.join(data, "JPEGImages", f"{pid}.jpg"))
        if im.getexif().get(274, 1) in range(2, 9):
            im = ImageOps.exif_transpose(im)
        rgb = np.asarray(im.convert("RGB"))
        H, W = rgb.shape[:2]
        root = ET.parse(os.path.join(data, "Annotations", f"{pid}.xml")).getroot()
        boxes, names = [], []
        for o in root.findall("object"):
            name = (o.findtext("name") or "").strip()
            bb = o.find("bndbox")
            if not name or bb is None:
                continue
            try:
                x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (TypeError, ValueError):
                continue
            b = [max(0.0, x1 - 1), max(0.0, y1 - 1), min(float(W), x2), min(float(H), y2)]
            if b[2] - b[0] >= 1 and b[3] - b[1] >= 1:
                boxes.append(b)
                names.append(name)
        photos.append(dict(id=pid, rgb=rgb, boxes=np.array(boxes, np.float32).reshape(-1, 4), names=names))
    return photos


def iou(a, b):
    """IoU of box a with each row of b, and the intersection over a's and over b's area."""
    b = np.asarray(b, np.float32).reshape(-1, 4)
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    aa = (a[2] - a[0]) * (a[3] - a[1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(aa + ab - inter, 1e-9), inter / max(aa, 1e-9), inter / np.maximum(ab, 1e-9)


# ---------------------------------------------------------------------------------------------
# The object bank: every usable training box with a GrabCut mask


def grabcut_mask(rgb, box):
    """The object's mask inside its box (float 0/1 at the box's pixel size), or None.
    GrabCut runs on the box plus a 15 % margin of context, at most 200 px, initialised with the
    box as 'probably foreground' and the margin as background; a box that fills the photo gets a
    rectangle inset by 4 % instead, so GrabCut still has background pixels to learn from."""
    H, W = rgb.shape[:2]
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    m = 0.15
    cx1, cy1 = int(max(0, math.floor(x1 - m * bw))), int(max(0, math.floor(y1 - m * bh)))
    cx2, cy2 = int(min(W, math.ceil(x2 + m * bw))), int(min(H, math.ceil(y2 + m * bh)))
    crop = rgb[cy1:cy2, cx1:cx2]
    s = min(1.0, 200.0 / max(crop.shape[:2]))
    small = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    rx1, ry1 = (x1 - cx1) * s, (y1 - cy1) * s
    rx2, ry2 = (x2 - cx1) * s, (y2 - cy1) * s
    inset_x, inset_y = 0.04 * (rx2 - rx1), 0.04 * (ry2 - ry1)
    if rx1 < 2:
        rx1 += inset_x
    if ry1 < 2:
        ry1 += inset_y
    if rx2 > sw - 2:
        rx2 -= inset_x
    if ry2 > sh - 2:
        ry2 -= inset_y
    rect = (int(rx1), int(ry1), max(1, int(rx2 - rx1)), max(1, int(ry2 - ry1)))
    if rect[2] < 8 or rect[3] < 8:
        return None
    mask = np.zeros((sh, sw), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, rect, bgd, fgd, 4, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return None
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    # Keep the large connected pieces (drops specks GrabCut took from the margin), fill small holes.
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return None
    big = stats[1:, cv2.CC_STAT_AREA].max()
    keep = np.zeros(n, np.uint8)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 0.1 * big
    fg = keep[lab]
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    # Back to the box's own pixels.
    full = cv2.resize(fg.astype(np.float32), (cx2 - cx1, cy2 - cy1), interpolation=cv2.INTER_LINEAR)
    bx1, by1 = int(math.floor(x1)) - cx1, int(math.floor(y1)) - cy1
    bx2, by2 = int(math.ceil(x2)) - cx1, int(math.ceil(y2)) - cy1
    obj = (full[by1:by2, bx1:bx2] > 0.5).astype(np.float32)
    fill = obj.mean() if obj.size else 0
    if not (MASK_FILL[0] <= fill <= MASK_FILL[1]):
        return None
    return obj


def object_bank(photos):
    """Per class, the cut-out objects: RGB patch of the box, its mask, the source photo's id.
    Boxes overlapping another box of their photo by IoU > 0.5 are skipped: their box holds most
    of a second object, which the mask would carry along unlabelled."""
    bank, skipped = {}, dict(small=0, overlapping=0, mask=0)
    for p in photos:
        for k, (b, name) in enumerate(zip(p["boxes"], p["names"])):
            if b[2] - b[0] < MIN_OBJECT_SIDE or b[3] - b[1] < MIN_OBJECT_SIDE:
                skipped["small"] += 1
                continue
            others = np.delete(p["boxes"], k, 0)
            if len(others) and iou(b, others)[0].max() > 0.5:
                skipped["overlapping"] += 1
                continue
            mask = grabcut_mask(p["rgb"], b)
            if mask is None:
                skipped["mask"] += 1
                continue
            x1, y1 = int(math.floor(b[0])), int(math.floor(b[1]))
            patch = p["rgb"][y1 : y1 + mask.shape[0], x1 : x1 + mask.shape[1]]
            mask = mask[: patch.shape[0], : patch.shape[1]]
            bank.setdefault(name, []).append(dict(rgb=patch, mask=mask, source=p["id"]))
    return bank, skipped


# ---------------------------------------------------------------------------------------------
# Backgrounds


def canvas_size(rng):
    long = int(rng.integers(CANVAS_LONG_SIDE[0], CANVAS_LONG_SIDE[1] + 1))
    aspect = rng.choice([1.0, 4 / 3, 3 / 2, 16 / 9])
    short = int(round(long / aspect))
    return (long, short) if rng.random() < 0.7 else (short, long)  # (width, height)


def random_colour(rng):
    """Any hue; from grey to saturated, dark to light (studio cloths, tables, walls)."""
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(0, 200), rng.uniform(60, 250)]]], np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def smooth_noise(rng, W, H, cells):
    """Value noise in [0, 1]: a random grid of cells x cells, resized up bicubically."""
    g = rng.random((cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(g, (W, H), interpolation=cv2.INTER_CUBIC), 0, 1)


def plain_background(rng, W, H):
    """One colour with a gentle gradient or vignette and faint noise: a studio backdrop."""
    c = random_colour(rng)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if rng.random() < 0.5:
        a = rng.uniform(0, 2 * math.pi)
        t = ((xx / W - 0.5) * math.cos(a) + (yy / H - 0.5) * math.sin(a)) * rng.uniform(0, 0.5)
    else:
        t = -((xx / W - 0.5) ** 2 + (yy / H - 0.5) ** 2) * rng.uniform(0, 1.2)
    img = c[None, None, :] * (1 + t[..., None]) + rng.normal(0, 2, (H, W, 1))
    return np.clip(img, 0, 255)


def textured_background(rng, W, H):
    """Two colours mixed by multi-scale noise, stripes or checks: cloth, wood, wallpaper."""
    c1, c2 = random_colour(rng), random_colour(rng)
    kind = rng.integers(3)
    if kind == 0:
        t = sum(w * smooth_noise(rng, W, H, n) for w, n in ((0.5, 4), (0.3, 12), (0.2, 40)))
    else:
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        period = rng.uniform(8, 60)
        a = rng.uniform(0, math.pi)
        u = xx * math.cos(a) + yy * math.sin(a)
        if kind == 1:
            t = 0.5 + 0.5 * np.sin(2 * math.pi * u / period + 3 * smooth_noise(rng, W, H, 6))
        else:
            v = -xx * math.sin(a) + yy * math.cos(a)
            t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
            t = cv2.GaussianBlur(t, (0, 0), 1.0)
    img = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]
    return np.clip(img + rng.normal(0, 3, (H, W, 1)), 0, 255)


def blurred_background(rng, W, H, photos):
    """A training photo reduced to 4-10 px across and enlarged again: its colours, no objects."""
    p = photos[rng.integers(len(photos))]
    n = int(rng.integers(4, 11))
    small = cv2.resize(p["rgb"], (n, max(2, round(n * H / W))), interpolation=cv2.INTER_AREA).astype(np.float32)
    img = cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 2, (H, W, 1)), 0, 255), p["id"]


def background(rng, W, H, photos, weights):
    """(image float32 HxWx3, source id or None, kind) by weights over plain / textured / blurred."""
    kind = rng.choice(["plain", "textured", "blurred"], p=np.array(weights) / sum(weights))
    if kind == "plain":
        return plain_background(rng, W, H).astype(np.float32), None, kind
    if kind == "textured":
        return textured_background(rng, W, H).astype(np.float32), None, kind
    img, src = blurred_background(rng, W, H, photos)
    return img.astype(np.float32), src, kind


# ---------------------------------------------------------------------------------------------
# Pasting


def paste(canvas, obj, long_side, x, y, flip, rng, shadow):
    """Pastes obj scaled so its longer side is long_side, top-left at (x, y); returns its tight box
    (the mask's, continuous pixels) or None when too little of it lands on the canvas."""
    h0, w0 = obj["mask"].shape
    s = long_side / max(w0, h0)
    w, h = max(2, round(w0 * s)), max(2, round(h0 * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    rgb = cv2.resize(obj["rgb"], (w, h), interpolation=interp).astype(np.float32)
    mask = cv2.resize(obj["mask"], (w, h), interpolation=cv2.INTER_LINEAR)
    if flip:
        rgb, mask = rgb[:, ::-1], mask[:, ::-1]
    hard = mask > 0.5
    # Dwibedi et al. blend with several edge treatments so the detector cannot key on the seam:
    # a hard edge or a Gaussian-feathered one.
    alpha = mask if rng.random() < 0.3 else cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.6, 2.0))
    H, W = canvas.shape[:2]
    if shadow:
        # A soft contact shadow, offset down and to one side, darkening what is under it.
        sh = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.06 * long_side))
        dx, dy = int(rng.uniform(-0.06, 0.06) * w), int(rng.uniform(0.02, 0.08) * h)
        region = _clip_region(x + dx, y + dy, w, h, W, H)
        if region:
            cx1, cy1, cx2, cy2, ox, oy = region
            k = rng.uniform(0.25, 0.5) * sh[oy : oy + cy2 - cy1, ox : ox + cx2 - cx1, None]
            canvas[cy1:cy2, cx1:cx2] *= 1 - k
    region = _clip_region(x, y, w, h, W, H)
    if not region:
        return None
    cx1, cy1, cx2, cy2, ox, oy = region
    a = alpha[oy : oy + cy2 - cy1, ox : ox + cx2 - cx1, None]
    canvas[cy1:cy2, cx1:cx2] = canvas[cy1:cy2, cx1:cx2] * (1 - a) + rgb[oy : oy + cy2 - cy1, ox : ox + cx2 - cx1] * a
    visible = hard[oy : oy + cy2 - cy1, ox : ox + cx2 - cx1]
    if visible.sum() < 0.7 * hard.sum():
        return None  # mostly off the canvas: the caller keeps its box out of the ground truth
    ys, xs = np.nonzero(visible)
    return np.array([cx1 + xs.min(), cy1 + ys.min(), cx1 + xs.max() + 1, cy1 + ys.max() + 1], np.float32)


def _clip_region(x, y, w, h, W, H):
    cx1, cy1, cx2, cy2 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if cx2 <= cx1 or cy2 <= cy1:
        return None
    return cx1, cy1, cx2, cy2, cx1 - x, cy1 - y


def free_spot(rng, W, H, w, h, boxes, margin=0.1):
    """A top-left corner where a w x h box overlaps no box in `boxes` by more than MAX_OVERLAP
    (IoU and intersection over either box), at most `margin` of it off the canvas; None if 30
    tries find none."""
    for _ in range(30):
        x = int(rng.uniform(-margin * w, W - (1 - margin) * w)) if W > w else int(rng.uniform(W - w, 1))
        y = int(rng.uniform(-margin * h, H - (1 - margin) * h)) if H > h else int(rng.uniform(H - h, 1))
        b = np.array([x, y, x + w, y + h], np.float32)
        if len(boxes) == 0:
            return x, y
        u, over_a, over_b = iou(b, boxes)
        if u.max() <= MAX_OVERLAP and over_a.max() <= MAX_OVERLAP and over_b.max() <= MAX_OVERLAP:
            return x, y
    return None


def pick_object(rng, bank, classes):
    """Class-balanced: a class uniformly, then one of its objects."""
    c = classes[rng.integers(len(classes))]
    objs = bank[c]
    return c, objs[rng.integers(len(objs))]


def compose(rng, canvas, bank, classes, count, scale, boxes, names, sources, shadow_p):
    """Pastes `count` objects with longer side scale * the canvas's shorter side, avoiding `boxes`."""
    H, W = canvas.shape[:2]
    for _ in range(count):
        c, obj = pick_object(rng, bank, classes)
        long_side = max(MIN_OBJECT_SIDE * 1.5, rng.uniform(*scale) * min(W, H))
        h0, w0 = obj["mask"].shape
        w, h = round(w0 * long_side / max(w0, h0)), round(h0 * long_side / max(w0, h0))
        spot = free_spot(rng, W, H, w, h, np.array(boxes, np.float32).reshape(-1, 4))
        if spot is None:
            continue
        b = paste(canvas, obj, long_side, spot[0], spot[1], rng.random() < 0.5, rng, rng.random() < shadow_p)
        if b is None:
            continue
        boxes.append(b)
        names.append(c)
        sources.append(obj["source"])


# ---------------------------------------------------------------------------------------------
# Whole photos: zoom, then scanned-photo artefacts


def zoom(rng, photo, photos, bg_weights):
    """Zoom in (a crop around one object, the others kept where at least 40 % of them remain,
    clipped, as VOC's truncated objects) or out (the photo shrunk onto a larger background)."""
    rgb, boxes, names = photo["rgb"].astype(np.float32), photo["boxes"].copy(), list(photo["names"])
    H, W = rgb.shape[:2]
    sources = [photo["id"]]
    if rng.random() < 0.5 and len(boxes):
        k = rng.integers(len(boxes))
        b = boxes[k]
        bw, bh = b[2] - b[0], b[3] - b[1]
        m = rng.uniform(0.05, 0.6)
        x1 = max(0, b[0] - rng.uniform(0, 2 * m) * bw)
        y1 = max(0, b[1] - rng.uniform(0, 2 * m) * bh)
        x2 = min(W, b[2] + rng.uniform(0, 2 * m) * bw)
        y2 = min(H, b[3] + rng.uniform(0, 2 * m) * bh)
        x1, y1, x2, y2 = int(x1), int(y1), int(math.ceil(x2)), int(math.ceil(y2))
        if x2 - x1 < 2 * MIN_OBJECT_SIDE or y2 - y1 < 2 * MIN_OBJECT_SIDE:
            return rgb, boxes, names, sources, "none"
        crop = np.array([x1, y1, x2, y2], np.float32)
        kept, kept_names = [], []
        for bb, n in zip(boxes, names):
            c = np.array([max(bb[0], x1), max(bb[1], y1), min(bb[2], x2), min(bb[3], y2)], np.float32)
            if c[2] <= c[0] or c[3] <= c[1]:
                continue
            if (c[2] - c[0]) * (c[3] - c[1]) < 0.4 * (bb[2] - bb[0]) * (bb[3] - bb[1]):
                # Mostly cut away: widen the crop would be another photo; drop this crop instead.
                return rgb, boxes, names, sources, "none"
            kept.append(c - crop[[0, 1, 0, 1]])
            kept_names.append(n)
        return rgb[y1:y2, x1:x2].copy(), np.array(kept, np.float32).reshape(-1, 4), kept_names, sources, "in"
    s = rng.uniform(0.35, 0.85)
    w, h = max(8, round(W * s)), max(8, round(H * s))
    canvas, src, _ = background(rng, W, H, photos, bg_weights)
    if src:
        sources.append(src)
    x, y = int(rng.integers(0, W - w + 1)), int(rng.integers(0, H - h + 1))
    canvas[y : y + h, x : x + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    boxes = boxes * np.float32(w / W) + np.array([x, y, x, y], np.float32)
    return canvas, boxes, names, sources, "out"


def artefacts(rng, img):
    """Scanned-photo artefacts on a float RGB image, each with its own probability: a colour cast
    (per-channel gains) or a tint, faded contrast with lifted blacks, saturation, gamma, blur and
    grain. Returns the image and the JPEG quality to write it at (low: blocking)."""
    img = img.astype(np.float32)
    applied = []
    if rng.random() < 0.6:
        gains = np.clip(1 + rng.normal(0, 0.12, 3), 0.7, 1.3).astype(np.float32)
        img = img * gains
        applied.append("cast")
    if rng.random() < 0.3:
        tint = random_colour(rng)
        a = rng.uniform(0.1, 0.35)
        img = img * (1 - a) + tint * a * (img.mean(axis=2, keepdims=True) / 128)
        applied.append("tint")
    if rng.random() < 0.4:
        c = rng.uniform(0.6, 1.0)
        lift = rng.uniform(0, 40)
        img = (img - 128) * c + 128 + lift * (1 - img / 255)
        applied.append("fade")
    if rng.random() < 0.4:
        grey = img.mean(axis=2, keepdims=True)
        img = grey + (img - grey) * rng.uniform(0.5, 1.4)
        applied.append("saturation")
    img = np.clip(img, 0, 255)
    if rng.random() < 0.3:
        img = 255 * (img / 255) ** rng.uniform(0.7, 1.4)
        applied.append("gamma")
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.5))
        applied.append("blur")
    if rng.random() < 0.5:
        sigma = rng.uniform(2, 12)
        grain = rng.normal(0, sigma, img.shape[:2] + (1,)) * 0.7 + rng.normal(0, sigma, img.shape) * 0.3
        img = img + grain
        applied.append("grain")
    quality = 92
    if rng.random() < 0.4:
        quality = int(rng.integers(12, 50))
        applied.append("jpeg")
    return np.clip(img, 0, 255), quality, applied


def fit_long_side(img, boxes, rng):
    """Scales a photo so its longer side lies in CANVAS_LONG_SIDE (only ever down)."""
    H, W = img.shape[:2]
    long = int(rng.integers(CANVAS_LONG_SIDE[0], CANVAS_LONG_SIDE[1] + 1))
    s = min(1.0, long / max(W, H))
    if s < 1:
        img = cv2.resize(img, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA)
        boxes = boxes * np.float32(s)
    return img, boxes


# ---------------------------------------------------------------------------------------------
# Writing VOC


def voc_xml(pid, W, H, boxes, names):
    """VOC annotation; continuous [x1, x2) becomes 1-based inclusive xmin = x1 + 1, xmax = x2."""
    objs = []
    for b, n in zip(boxes, names):
        x1, y1 = int(round(b[0])) + 1, int(round(b[1])) + 1
        x2, y2 = int(round(b[2])), int(round(b[3]))
        objs.append(
            f"<object><name>{n}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
            f"<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
        )
    return (
        f"<annotation><folder>augmented</folder><filename>{pid}.jpg</filename>"
        f"<size><width>{W}</width><height>{H}</height><depth>3</depth></size>{''.join(objs)}</annotation>\n"
    )


def write_photo(out, pid, img, boxes, names, quality):
    H, W = img.shape[:2]
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(np.round(img).astype(np.uint8), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise SystemExit(f"{pid}: JPEG encoding failed")
    with open(os.path.join(out, "JPEGImages", f"{pid}.jpg"), "wb") as f:
        f.write(enc.tobytes())
    with open(os.path.join(out, "Annotations", f"{pid}.xml"), "w") as f:
        f.write(voc_xml(pid, W, H, boxes, names))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="PASCAL VOC folder (JPEGImages/, Annotations/)")
    ap.add_argument("--split", required=True, help="ids to use, one per line: the training split only")
    ap.add_argument("--out", required=True, help="VOC folder to write (JPEGImages/, Annotations/, ImageSets/Main/trainval.txt)")
    ap.add_argument("--studio", type=int, default=300, help="photos of 1-3 large objects on a plain, textured or blurred background")
    ap.add_argument("--scenes", type=int, default=300, help="photos of 2-6 smaller objects on a training photo or a background")
    ap.add_argument("--jitter", type=int, default=300, help="training photos zoomed in or out")
    ap.add_argument("--artefacts", type=float, default=0.8, help="share of the written photos given scanned-photo artefacts")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    cv2.setRNGSeed(args.seed)  # GrabCut's k-means initialisation
    t0 = time.time()

    ids = [l.strip() for l in open(args.split) if l.strip()]
    if not ids:
        raise SystemExit(f"{args.split}: no ids (one training image id per line expected)")
    missing = [i for i in ids if not os.path.exists(os.path.join(args.data, "Annotations", f"{i}.xml"))]
    if missing:
        raise SystemExit(f"{args.split}: {len(missing)} ids have no annotation in {args.data}/Annotations (first: {missing[0]})")
    photos = read_voc(args.data, ids)
    bank, skipped = object_bank(photos)
    classes = sorted(bank)
    if not classes:
        raise SystemExit("no object could be cut out of the training photos (boxes too small or GrabCut failed on all)")
    log(f"{len(photos)} training photos; cut out " + ", ".join(f"{c} {len(bank[c])}" for c in classes) + f"; skipped {skipped} ({time.time() - t0:.0f} s)")

    for d in ("JPEGImages", "Annotations", "ImageSets/Main"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    written, record = [], []
    for k, (kind, n) in enumerate((("studio", args.studio), ("scene", args.scenes), ("jitter", args.jitter))):
        for i in range(n):
            pid = f"aug_{kind}_{i:05d}"
            rng = np.random.default_rng([args.seed, k, i])
            boxes, names, sources = [], [], []
            extra = {}
            if kind == "studio":
                W, H = canvas_size(rng)
                canvas, src, bg = background(rng, W, H, photos, (0.55, 0.3, 0.15))
                sources += [src] if src else []
                k = int(rng.choice([1, 1, 1, 1, 1, 1, 1, 2, 2, 3]))
                scale = (0.5, 0.95) if k == 1 else (0.35, 0.65)
                compose(rng, canvas, bank, classes, k, scale, boxes, names, sources, shadow_p=0.5)
                extra = dict(background=bg)
            elif kind == "scene":
                if rng.random() < 0.5:
                    p = photos[rng.integers(len(photos))]
                    canvas, b0 = fit_long_side(p["rgb"].astype(np.float32), p["boxes"], rng)
                    canvas = canvas.copy()
                    boxes, names, sources = list(b0), list(p["names"]), [p["id"]]
                    bg = "photo"
                else:
                    W, H = canvas_size(rng)
                    canvas, src, bg = background(rng, W, H, photos, (0.3, 0.4, 0.3))
                    sources += [src] if src else []
                compose(rng, canvas, bank, classes, int(rng.integers(2, 7)), (0.15, 0.45), boxes, names, sources, shadow_p=0.2)
                extra = dict(background=bg)
            else:
                p = photos[rng.integers(len(photos))]
                canvas, b, names, sources, how = zoom(rng, p, photos, (0.4, 0.3, 0.3))
                canvas, b = fit_long_side(canvas, b, rng)
                boxes = list(b)
                extra = dict(zoom=how)
            if not boxes:
                continue  # nothing could be placed: no photo without ground truth
            quality, applied = 92, []
            if rng.random() < args.artefacts:
                canvas, quality, applied = artefacts(rng, canvas)
            write_photo(args.out, pid, canvas, boxes, names, quality)
            written.append(pid)
            record.append(dict(id=pid, kind=kind, objects=len(boxes), sources=sorted(set(sources)), artefacts=applied, **extra))
        log(f"{kind}: {sum(r['kind'] == kind for r in record)} photos written ({time.time() - t0:.0f} s)")
    with open(os.path.join(args.out, "ImageSets", "Main", "trainval.txt"), "w") as f:
        f.write("\n".join(written) + "\n")
    per_class = {c: 0 for c in classes}
    for pid in written:
        for o in ET.parse(os.path.join(args.out, "Annotations", f"{pid}.xml")).getroot().findall("object"):
            per_class[o.findtext("name")] = per_class.get(o.findtext("name"), 0) + 1
    with open(os.path.join(args.out, "augment-log.json"), "w") as f:
        json.dump(
            dict(
                command=" ".join(["python3", "tools/augment/augment.py"] + sys.argv[1:]),
                seed=args.seed,
                split=args.split,
                trainingPhotos=len(photos),
                cutOut={c: len(bank[c]) for c in classes},
                skipped=skipped,
                boxesPerClass=per_class,
                seconds=round(time.time() - t0, 1),
                photos=record,
            ),
            f,
            indent=0,
        )
    log(f"wrote {len(written)} photos ({', '.join(f'{c} {n}' for c, n in per_class.items())} boxes) to {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
