#!/usr/bin/env bash
# The bundled voice's WaveNet trained on for MINUTES on a lent GPU machine, in one command: the
# device tool's `run`, with carry [".devpack"] (python -m recipes.demo.device_pack pack, here):
#
#   MINUTES=6 BATCH=32 recipes/demo/device_train.sh
#
# Unpacks flite and the wheels, makes the prepared corpus again (recipes/demo/device_pack.py),
# trains from tts/voices/default (envelope frozen, as RESULTS.md's continuations) until
# MINUTES have passed (SIGTERM: the run stops with a checkpoint), and writes the EMA WaveNet
# as a voice with the bundled prosody into $OUT/voice (float16, under the tool's 16 MiB a
# file) with the training log beside it. Back here: `python -m tts.voice level $VOICE` measures
# its speakers' levels, then benchmarks/intelligibility.py --voice $VOICE.
#
# Knobs (environment): MINUTES (training wall time, default 6), BATCH (default 32), STEPS
# (where the cosine schedule ends, default 20000), LR (default 3e-4), WAVENET_SET (extra
# "--set section.key=value" arguments, e.g. "train.speaker_weights=p232:3,p233:3"), PACK,
# WORK, OUT, PYTHON. Without a GPU it runs on the CPU (the test suite runs it so, tiny).
set -euo pipefail
cd "$(dirname "$0")/../.."

PACK=${PACK:-.devpack}
WORK=${WORK:-/tmp/device_work}
OUT=${OUT:-exp/device_out}
PYTHON=${PYTHON:-python3}
MINUTES=${MINUTES:-6}
BATCH=${BATCH:-32}
STEPS=${STEPS:-20000}
LR=${LR:-3e-4}
read -r -a EXTRA <<< "${WAVENET_SET:-}"
SETS=()
for item in "${EXTRA[@]}"; do SETS+=(--set "$item"); done
say() { echo "== $(date +%H:%M:%S) $*" >&2; }

debs=("$PACK"/*.deb)
if [[ -e "${debs[0]}" ]]; then
    say "flite from ${#debs[@]} .deb files"
    mkdir -p /tmp/flite_root
    for deb in "${debs[@]}"; do dpkg -x "$deb" /tmp/flite_root; done
    export PATH="/tmp/flite_root/usr/bin:$PATH"
    export LD_LIBRARY_PATH="/tmp/flite_root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
wheels=("$PACK"/*.whl)
if [[ -e "${wheels[0]}" ]]; then
    say "${#wheels[@]} wheels"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/device_site "${wheels[@]}"
    export PYTHONPATH="/tmp/device_site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

say "make the prepared corpus in $WORK"
"$PYTHON" -m recipes.demo.device_pack unpack --pack "$PACK" --work "$WORK" --jobs "$(nproc)"

say "train for $MINUTES minutes"
status=0
timeout -s TERM -k 120 "$(awk "BEGIN {print int($MINUTES * 60)}")" \
    "$PYTHON" -m vocoder.train --prep "$WORK/prep" --out "$WORK/exp" \
    --config recipes/demo/wavenet_shape.json --config recipes/demo/wavenet_joint.json \
    --set model.speaker_envelopes=true --set train.init=all:tts/voices/default \
    --set "train.batch_size=$BATCH" --set "train.max_steps=$STEPS" --set "train.lr=$LR" \
    --set train.warmup_steps=50 --set train.eval_every=250 --set train.ckpt_every=250 \
    "${SETS[@]}" || status=$?
# 124: timeout stopped it, as planned; the run wrote its checkpoint on the way out.
[[ $status == 0 || $status == 124 ]] || { say "training failed ($status)"; exit "$status"; }

say "export the voice into $OUT/voice"
mkdir -p "$OUT"
"$PYTHON" - "$WORK" "$OUT" <<'EOF'
import sys
from pathlib import Path

from tts.voice import export_voice

work, out = Path(sys.argv[1]), Path(sys.argv[2])
export_voice(work / "prep", "tts/voices/default", work / "exp", out / "voice", name="default",
             temperature=1.0, measure_levels=False)
EOF
cp "$WORK/exp/log.jsonl" "$OUT/log.jsonl"
say "done: $OUT/voice"
