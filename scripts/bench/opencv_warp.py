#!/usr/bin/env python3
"""R-CNN's warp with OpenCV, the peer of `rcnn bench warp`.

    python3 opencv_warp.py DIR --size 227 --padding 16 --rounds 3

DIR holds images.json ([{"ppm": path, "boxes": path}]; boxes: float32 x1,y1,x2,y2 per proposal).
Each proposal is dilated by size / (size - 2 * padding) about its centre and warped to size x size
by cv2.warpAffine (bilinear, inverse map: output pixel u samples x1 + (u + 0.5) * w / size - 0.5),
the mean outside the image, then mean-subtracted float32 BGR, as the network takes it. Prints one
JSON line: milliseconds per round (all images), and writes the first image's crops to
DIR/opencv_first.f32 for the agreement check.
"""
import argparse
import json
import os
import time

import cv2
import numpy as np

MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def warp_all(img, boxes, size, padding):
    s = size / (size - 2 * padding)
    out = np.empty((len(boxes), size, size, 3), dtype=np.float32)
    border = tuple(float(v) for v in MEAN_BGR)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        cx, cy = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
        w, h = (x2 - x1) * s, (y2 - y1) * s
        sx, sy = w / size, h / size
        m = np.array([[sx, 0, cx - w / 2 + 0.5 * sx - 0.5], [0, sy, cy - h / 2 + 0.5 * sy - 0.5]], dtype=np.float64)
        crop = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=border)
        out[i] = crop.astype(np.float32) - MEAN_BGR
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--size", type=int, default=227)
    ap.add_argument("--padding", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    items = json.load(open(os.path.join(a.dir, "images.json")))
    data = [(cv2.imread(it["ppm"], cv2.IMREAD_COLOR), np.fromfile(it["boxes"], dtype=np.float32).reshape(-1, 4)) for it in items]
    warp_all(*data[0], a.size, a.padding).tofile(os.path.join(a.dir, "opencv_first.f32"))
    rounds = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for img, boxes in data:
            warp_all(img, boxes, a.size, a.padding)
        rounds.append(1000 * (time.perf_counter() - t0))
    print(json.dumps({"ms": rounds, "opencv": cv2.__version__, "crops": int(sum(len(b) for _, b in data))}))


if __name__ == "__main__":
    main()
