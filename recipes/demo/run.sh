#!/usr/bin/env bash
# The whole demo recipe in one command: render the flite corpus, prepare it, train the duration,
# F0 and WaveNet models, and export a voice directory. Every stage resumes where it stopped, so
# running this again after an interruption (or in the next session) carries on.
#
#   recipes/demo/run.sh                      # everything, into data/demo, exp/demo, voices/demo
#   JOBS=16 WAVENET_STEPS=40000 recipes/demo/run.sh          # a 16-core GPU machine
#   STAGES="wavenet export" recipes/demo/run.sh              # only some stages
#
# Knobs (environment): JOBS (parallel processes for rendering and preparation), THREADS (torch
# threads for training on CPU), WAVENET_STEPS (where the learning-rate schedule ends),
# WAVENET_SET (extra "--set key=value" arguments for vocoder.train), LPC_ORDER (24: the WaveNet
# models the residual of LPC filters from its own predicted envelope, see vocoder/lpc.py; 0: it
# models the waveform), ENVELOPE_MINUTES (frame-rate pretraining of that envelope),
# REFINE_MINUTES and ENVELOPE_LAYERS (an envelope network of its own, started from the
# pretrained one and trained on while the WaveNet keeps the features it learned from),
# JOINT_STEPS (then the WaveNet goes on with that envelope frozen and its conditioning network
# free to learn for the excitation; see RESULTS.md, session 6), DATA, EXP, VOICE.
set -euo pipefail
cd "$(dirname "$0")/../.."

JOBS=${JOBS:-2}
THREADS=${THREADS:-2}
DATA=${DATA:-data/demo}
EXP=${EXP:-exp/demo}
VOICE=${VOICE:-voices/demo}
WAVENET_STEPS=${WAVENET_STEPS:-200000}
WAVENET_SET=${WAVENET_SET:-}
LPC_ORDER=${LPC_ORDER:-24}
ENVELOPE_MINUTES=${ENVELOPE_MINUTES:-25}
REFINE_MINUTES=${REFINE_MINUTES:-50}
ENVELOPE_LAYERS=${ENVELOPE_LAYERS:-10}
JOINT_STEPS=${JOINT_STEPS:-3000}
STAGES=${STAGES:-"corpus prepare relabel duration pitch eval envelope refine wavenet joint export"}
# The bundled voice's shape: 20 layers 64/128/128 (fast enough for real time on one core) with a
# wide frame-rate conditioning network (256 channels, 6 blocks: nearly free).
SHAPE="cond_hidden=256 cond_layers=6 lpc_order=$LPC_ORDER"

run_stage() { [[ " $STAGES " == *" $1 "* ]]; }
say() { echo "== $(date +%H:%M:%S) $*" >&2; }

if run_stage corpus; then
    say "render the flite corpus into $DATA/vctk"
    python -m recipes.demo.make_corpus "$DATA/vctk" --jobs "$JOBS"
fi
if run_stage prepare; then
    say "prepare $DATA/vctk into $DATA/prep"
    python -m recipes.vctk.prepare "$DATA/vctk" "$DATA/prep" --jobs "$JOBS"
fi
if run_stage relabel; then
    # The corpus is flite's: its true phone times replace the forced alignment (see relabel.py),
    # and the features and conditioning built from the durations are rebuilt.
    say "relabel $DATA/prep with flite's phone times"
    python -m recipes.demo.relabel "$DATA/prep" --jobs "$JOBS"
    python -m recipes.vctk.prepare "$DATA/vctk" "$DATA/prep" --jobs "$JOBS" --stage 4
fi
if run_stage duration; then
    say "duration model"
    python -m frontend.prosody_train duration --prep "$DATA/prep" --out "$EXP/prosody" --threads 1
fi
if run_stage pitch; then
    say "F0 model"
    python -m frontend.prosody_train pitch --prep "$DATA/prep" --out "$EXP/prosody" --threads 1
fi
if run_stage eval; then
    say "prosody evaluation on the held-out splits"
    python -m frontend.prosody_train eval --prep "$DATA/prep" --out "$EXP/prosody"
fi
if run_stage envelope && [[ "$LPC_ORDER" != 0 ]]; then
    if [[ -f "$EXP/envelope/checkpoint.pt" ]]; then
        say "envelope: $EXP/envelope/checkpoint.pt exists, kept"
    else
        say "envelope pretraining at frame rate ($ENVELOPE_MINUTES min)"
        # shellcheck disable=SC2046
        python -m vocoder.envelope --prep "$DATA/prep" --out "$EXP/envelope" \
            $(printf -- "--set %s " $SHAPE) --minutes "$ENVELOPE_MINUTES" --threads "$THREADS"
    fi
fi
if run_stage refine && [[ "$LPC_ORDER" != 0 && "$REFINE_MINUTES" != 0 ]]; then
    if [[ -f "$EXP/envelope_refined/checkpoint.pt" ]]; then
        say "refine: $EXP/envelope_refined/checkpoint.pt exists, kept"
    else
        # Its own network, so it can learn on without moving the WaveNet's conditioning.
        say "envelope network of its own, from the pretrained one ($REFINE_MINUTES min)"
        python -m vocoder.envelope --prep "$DATA/prep" --out "$EXP/envelope_refined" \
            --init-from "$EXP/envelope/checkpoint.pt" --set envelope_layers="$ENVELOPE_LAYERS" \
            --minutes "$REFINE_MINUTES" --lr 5e-4 --threads "$THREADS"
    fi
fi
if run_stage wavenet; then
    say "WaveNet (resumes from $EXP/wavenet/checkpoint.pt)"
    INIT=()
    # The pretrained envelope stays as it is: trained jointly, the WaveNet's gradient undoes it.
    [[ -f "$EXP/envelope/checkpoint.pt" && "$LPC_ORDER" != 0 ]] && \
        INIT=(--set "init_from=$EXP/envelope/checkpoint.pt" --set freeze_conditioning=true)
    # shellcheck disable=SC2046,SC2086
    python -m vocoder.train --prep "$DATA/prep" --out "$EXP/wavenet" \
        --set num_threads="$THREADS" --set max_steps="$WAVENET_STEPS" --set warmup_steps=300 \
        --set ckpt_every=100 $(printf -- "--set model.%s " $SHAPE) "${INIT[@]}" $WAVENET_SET
fi
if run_stage joint && [[ "$LPC_ORDER" != 0 && "$JOINT_STEPS" != 0 \
                         && -f "$EXP/envelope_refined/checkpoint.pt" ]]; then
    # The refined envelope, frozen, takes over the formants, so the conditioning network is
    # free to learn what the excitation needs (on the demo corpus: validation 3.095 → 3.053).
    say "WaveNet with the refined envelope frozen and its conditioning free ($JOINT_STEPS steps)"
    # (init_from and envelope_from only start a run; a rerun resumes its checkpoint)
    # shellcheck disable=SC2046,SC2086
    python -m vocoder.train --prep "$DATA/prep" --out "$EXP/wavenet_joint" \
        --set num_threads="$THREADS" --set max_steps="$JOINT_STEPS" --set warmup_steps=100 \
        --set lr=3e-4 --set min_lr=1e-5 --set ckpt_every=100 \
        --set "init_from=$EXP/wavenet/checkpoint.pt" \
        --set "envelope_from=$EXP/envelope_refined/checkpoint.pt" --set freeze_envelope=true \
        $(printf -- "--set model.%s " $SHAPE) --set model.envelope_layers="$ENVELOPE_LAYERS" \
        $WAVENET_SET
fi
if run_stage export; then
    say "export $VOICE"
    ENVELOPE=()
    WAVENET="$EXP/wavenet"
    if [[ -f "$EXP/wavenet_joint/checkpoint.pt" ]]; then
        WAVENET="$EXP/wavenet_joint"  # it carries its own envelope network
    elif [[ -f "$EXP/envelope_refined/checkpoint.pt" && "$LPC_ORDER" != 0 ]]; then
        ENVELOPE=(--envelope "$EXP/envelope_refined")
    fi
    python -m tts export-voice --prep "$DATA/prep" --prosody "$EXP/prosody" \
        --wavenet "$WAVENET" -o "$VOICE" "${ENVELOPE[@]}"
fi
say "done"
