#!/usr/bin/python3
"""OpenCV ximgproc selective search, the speed and recall peer of `rcnn bench proposals`.

Usage: opencv_selective_search.py [--mode fast|quality] [--threads 1] [--stdin | IMAGE...]
With --stdin, image paths are read one per line from stdin and each is answered as soon as it is
read, so a caller can interleave OpenCV with its own timings under the same machine load.
Each IMAGE is read as is (the benchmark writes the same 500-px-wide resized image it feeds our
implementation, as binary PPM). Prints one JSON object per image on stdout:
  {"path": ..., "ms": <setBaseImage + switchToSelectiveSearch* + process>, "boxes": [[x1,y1,x2,y2], ...]}
boxes in OpenCV's ranked order, continuous pixel convention (x2 = x + w). OpenCV's fast mode is
HSV + Lab x k = 150, 300, 450 (min size 100) x 2 strategies; quality adds colour spaces and k.
If cv2 or cv2.ximgproc is missing, prints {"error": "..."} and exits with status 3.
"""
import json
import sys
import time


def main(argv):
    mode = "fast"
    threads = 1
    paths = []
    from_stdin = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--mode":
            mode = argv[i + 1]
            i += 2
        elif a == "--stdin":
            from_stdin = True
            i += 1
        elif a == "--threads":
            threads = int(argv[i + 1])
            i += 2
        else:
            paths.append(a)
            i += 1
    try:
        import cv2  # noqa: F401
        seg = cv2.ximgproc.segmentation
    except Exception as e:  # ImportError, or an OpenCV build without the contrib modules
        print(json.dumps({"error": f"OpenCV ximgproc unavailable: {e}"}), flush=True)
        return 3
    cv2.setNumThreads(threads)
    info = {"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "mode": mode}
    print(json.dumps({"info": info}), flush=True)
    warmed = False
    source = (line.strip() for line in sys.stdin) if from_stdin else iter(paths)
    for path in source:
        if not path:
            continue
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            print(json.dumps({"path": path, "error": "cannot read image"}), flush=True)
            continue
        if not warmed:
            # One untimed call so one-off library initialisation is not charged to the first image.
            ss = seg.createSelectiveSearchSegmentation()
            ss.setBaseImage(img)
            ss.switchToSelectiveSearchFast()
            ss.process()
            warmed = True
        t0 = time.perf_counter()
        ss = seg.createSelectiveSearchSegmentation()
        ss.setBaseImage(img)
        if mode == "quality":
            ss.switchToSelectiveSearchQuality()
        else:
            ss.switchToSelectiveSearchFast()
        rects = ss.process()
        ms = (time.perf_counter() - t0) * 1000.0
        boxes = [[int(x), int(y), int(x + w), int(y + h)] for (x, y, w, h) in rects]
        print(json.dumps({"path": path, "ms": ms, "boxes": boxes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
