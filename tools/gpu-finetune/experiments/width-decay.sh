#!/bin/bash
# Capacity against regularisation, 2x2, one seed, the shipped recipe otherwise (window augmentation):
#   A conv 36/96/144/144/96 (width 0.375), decay 5e-4   B the same, decay 2e-3
#   C width 0.25 (shipped layout), decay 2e-3           D width 0.25, decay 5e-4 (this call's baseline)
export PYTHONUNBUFFERED=1
S=${S:-450}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
W375="--conv-filters 36,96,144,144,96 --fc 1024"
run() { name=$1; shift; python3 tools/gpu-finetune/finetune.py --data .gpu/data --arch-from public/models/fruit-animals --out runs/$name --iterations 40000 --seconds $S --reserve 85 --eval-every 4000 --augment window --seed 11 "$@" > runs/$name.log 2>&1; }
mkdir -p runs
run A $W375 &
run B $W375 --weight-decay 0.002 &
run C --weight-decay 0.002 &
run D &
wait
for n in A B C D; do echo "== $n"; grep -E "measured|fine-tuning|softmax mAP|probe|Error|error" runs/$n.log | tail -n 5; done
python3 - <<'PY'
import json, os, shutil
out = os.environ["OUT"]
res = []
for n in "ABCD":
    p = f"runs/{n}/finetune-log.json"
    if os.path.exists(p):
        j = json.load(open(p)); res.append((j["softmaxMap"], n, os.path.getsize(f"runs/{n}/cnn.bin")))
res.sort(reverse=True)
print("ranked:", res)
budget, files = 60e6, 1
for m, n, size in res:
    parts = -(-size // 15_000_000)
    if size > budget or files + parts > 8:
        continue
    os.system(f"split -b 15000000 -d runs/{n}/cnn.bin {out}/cnn-{n}.bin.")
    budget -= size; files += parts
PY
tar czf $OUT/logs.tgz runs/*.log runs/*/finetune-log.json
ls -la $OUT
# The second call (seed 12 for the width-0.25 pair, and decay 0.005), on the same machine:
#   r() { n=$1; shift; python3 tools/gpu-finetune/finetune.py --data .gpu/data --arch-from public/models/fruit-animals \
#     --out runs/$n --iterations 40000 --seconds 370 --reserve 75 --eval-every 4000 --augment window "$@" > runs/$n.log 2>&1; }
#   r C2 --seed 12 --weight-decay 0.002 & r E --seed 11 --weight-decay 0.005 & r D2 --seed 12 & wait
