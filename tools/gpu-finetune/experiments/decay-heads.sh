#!/bin/bash
# Weight decay 0.002 at the shipped schedule (21,300 iterations), two seeds, each CNN then judged
# by heads.py (SVMs + box regressors + validation mAP, as rcnn train and rcnn eval do); the shipped
# CNN goes through heads.py too, to compare the GPU heads with rcnn train's numbers on the same
# 80 photos (64.0 / 60.0 % with / without box regression at NMS 0.4, 62.3 / 59.7 at 0.3).
# The runs live under .gpu/runs (ignored, so a second call on the warm machine still has them).
export PYTHONUNBUFFERED=1
S=${S:-480}
R=.gpu/runs
mkdir -p $R
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
heads() { python3 tools/gpu-finetune/heads.py --data .gpu/data --cnn "$1" --out $R/heads-$2 --svm-c 0.01,0.1 > $R/heads-$2.log 2>&1; cp $R/heads-$2/heads-eval.json $OUT/heads-$2.json; }
train() { seed=$1; python3 tools/gpu-finetune/finetune.py --data .gpu/data --arch-from public/models/fruit-animals --out $R/d$seed \
  --iterations 21300 --seconds $S --reserve 70 --eval-every 4000 --augment window --weight-decay 0.002 --seed $seed > $R/d$seed.log 2>&1
  cp $R/d$seed/cnn.bin $OUT/cnn-d$seed.bin; heads $R/d$seed d$seed; }
heads public/models/fruit-animals shipped &
train 1 &
train 2 &
wait
for n in d1 d2; do echo "== $n"; grep -E "measured|fine-tuning|softmax mAP|probe|Error|error" $R/$n.log | tail -n 5; done
for n in shipped d1 d2; do echo "== heads $n"; grep -E "features|mAP|Error|error" $R/heads-$n.log | tail -n 4; done
tar czf $OUT/results.tgz $R/*.log $R/*/finetune-log.json $R/heads-*/heads-eval.json 2>/dev/null
ls -la $OUT
