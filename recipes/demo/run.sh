#!/usr/bin/env bash
# The whole demo recipe in one command: render the flite corpus, prepare it, train the duration,
# F0 and WaveNet models, and export a voice directory. Every stage resumes where it stopped, so
# running this again after an interruption (or in the next session) carries on.
#
#   recipes/demo/run.sh                      # everything, into data/demo, exp/demo, voices/demo
#   JOBS=16 WAVENET_STEPS=40000 recipes/demo/run.sh          # a 16-core GPU machine
#   STAGES="wavenet export" recipes/demo/run.sh              # only some stages
#
# What the stages train is in the config files beside this script, the bundled voice's recipe:
# wavenet_shape.json (the WaveNet's architecture, shared by the envelope and WaveNet stages),
# duration.json, pitch.json, envelope.json, envelope_refined.json, wavenet.json,
# wavenet_joint.json (each stage's model and training settings). This script only wires the
# stages' directories together (train.init) and passes the knobs below as --set overrides.
#
# Knobs (environment): JOBS (parallel processes for rendering and preparation), THREADS (torch
# threads for training on CPU), WAVENET_STEPS (where the WaveNet's learning-rate schedule ends;
# default: wavenet.json's), WAVENET_SET (extra "--set section.key=value" arguments for
# vocoder.train), PROSODY_SET (the same for frontend.prosody_train), LPC_ORDER (0: the WaveNet
# models the waveform, and the envelope stages are skipped; default: wavenet_shape.json's 24,
# the residual of LPC filters from its own predicted envelope, see vocoder/lpc.py),
# ENVELOPE_MINUTES and REFINE_MINUTES (the envelope stages' time budgets; 0 skips the
# refinement), JOINT_STEPS (0 skips the joint stage), DATA, EXP, VOICE.
# The extra-text stages (EXTRA_TEXT, default "varied"; "varied short" adds the experimental
# short set of RESULTS.md, session 12): 5,000 sentences of a set of recipes/demo/sentences.py
# (make_corpus --sentences SET) rendered by the same speakers into $DATA/vctk_SET and prepared
# for the prosody models only (no WaveNet conditioning, all in the training split) into
# $DATA/prep_SET; the duration and pitch stages train on every one that exists (RESULTS.md,
# sessions 9 and 12). The heads stage fits every speaker of the exported voice its own
# envelope head.
# The stages: envelope (frame-rate pretraining of the envelope), refine (an envelope network of
# its own, started from the pretrained one and trained on), wavenet (the WaveNet with the
# pretrained envelope frozen), joint (the WaveNet goes on with the refined envelope frozen and
# its conditioning network free to learn for the excitation; see RESULTS.md, session 6).
set -euo pipefail
cd "$(dirname "$0")/../.."

RECIPE=recipes/demo
JOBS=${JOBS:-2}
THREADS=${THREADS:-2}
DATA=${DATA:-data/demo}
EXP=${EXP:-exp/demo}
VOICE=${VOICE:-voices/demo}
WAVENET_SET=${WAVENET_SET:-}
PROSODY_SET=${PROSODY_SET:-}
LPC_ORDER=${LPC_ORDER:-24}
ENVELOPE_MINUTES=${ENVELOPE_MINUTES:-}
REFINE_MINUTES=${REFINE_MINUTES:-}
JOINT_STEPS=${JOINT_STEPS:-}
STAGES=${STAGES:-"corpus prepare relabel varied short duration pitch eval envelope refine wavenet joint export heads"}
SHAPE=(--config "$RECIPE/wavenet_shape.json" --set "model.lpc_order=$LPC_ORDER")
THREADS_SET=(--set "train.num_threads=$THREADS")
# "--set KEY=VALUE" for a knob that is set, nothing for one that is not.
knob() { [[ -n "$2" ]] && printf -- "--set\n%s=%s\n" "$1" "$2" || true; }
mapfile -t WAVENET_STEPS_SET < <(knob train.max_steps "${WAVENET_STEPS:-}")
mapfile -t ENVELOPE_MINUTES_SET < <(knob train.minutes "$ENVELOPE_MINUTES")
mapfile -t REFINE_MINUTES_SET < <(knob train.minutes "$REFINE_MINUTES")
mapfile -t JOINT_STEPS_SET < <(knob train.max_steps "$JOINT_STEPS")

run_stage() { [[ " $STAGES " == *" $1 "* ]]; }
say() { echo "== $(date +%H:%M:%S) $*" >&2; }

if run_stage corpus; then
    say "render the flite corpus into $DATA/vctk"
    python -m recipes.demo.make_corpus "$DATA/vctk" --jobs "$JOBS"
fi
if run_stage prepare; then
    # The corpus is flite's: its phone durations are flite's own phone times (--labels flite,
    # see recipes/demo/relabel.py), forced alignment only where they cannot be mapped.
    say "prepare $DATA/vctk into $DATA/prep"
    python -m recipes.vctk.prepare "$DATA/vctk" "$DATA/prep" --jobs "$JOBS" --labels flite
fi
if run_stage relabel; then
    # A corpus prepared with forced alignment (before --labels flite): flite's phone times
    # replace it, and the features and conditioning built from the durations are rebuilt.
    say "relabel $DATA/prep with flite's phone times"
    python -m recipes.demo.relabel "$DATA/prep" --jobs "$JOBS"
    python -m recipes.vctk.prepare "$DATA/vctk" "$DATA/prep" --jobs "$JOBS" --stage 4
fi
read -r -a EXTRA_TEXT <<< "${EXTRA_TEXT:-varied}"
for SET in "${EXTRA_TEXT[@]}"; do
    if run_stage "$SET"; then
        say "render the $SET text into $DATA/vctk_$SET and prepare it for the prosody models"
        python -m recipes.demo.make_corpus "$DATA/vctk_$SET" --sentences "$SET" \
            --sentences-per-speaker 500 --jobs "$JOBS"
        python -m recipes.vctk.prepare "$DATA/vctk_$SET" "$DATA/prep_$SET" --jobs "$JOBS" \
            --labels flite --no-cond --valid 0 --test 0
    fi
done
# The prosody models train on the extra text too once it is prepared (validation: $DATA/prep).
PROSODY_PREP=(--prep "$DATA/prep")
for SET in "${EXTRA_TEXT[@]}"; do
    if [[ -f "$DATA/prep_$SET/manifest.jsonl" ]]; then PROSODY_PREP+=(--prep "$DATA/prep_$SET"); fi
done
# shellcheck disable=SC2086
if run_stage duration; then
    say "duration model"
    python -m frontend.prosody_train duration "${PROSODY_PREP[@]}" --out "$EXP/prosody" \
        --config "$RECIPE/duration.json" $PROSODY_SET
fi
if run_stage pitch; then
    say "F0 model"
    python -m frontend.prosody_train pitch "${PROSODY_PREP[@]}" --out "$EXP/prosody" \
        --config "$RECIPE/pitch.json" $PROSODY_SET
fi
if run_stage eval; then
    say "prosody evaluation on the held-out splits"
    python -m frontend.prosody_train eval --prep "$DATA/prep" --out "$EXP/prosody"
fi
# Every training stage resumes its own checkpoint, and one that is done returns at once.
if run_stage envelope && [[ "$LPC_ORDER" != 0 ]]; then
    say "envelope pretraining at frame rate"
    python -m vocoder.envelope --prep "$DATA/prep" --out "$EXP/envelope" "${SHAPE[@]}" \
        --config "$RECIPE/envelope.json" "${THREADS_SET[@]}" "${ENVELOPE_MINUTES_SET[@]}"
fi
if run_stage refine && [[ "$LPC_ORDER" != 0 && "$REFINE_MINUTES" != 0 ]]; then
    # Its own network, started as the pretrained envelope, so it can learn on without moving
    # the WaveNet's conditioning.
    say "envelope network of its own, from the pretrained one"
    python -m vocoder.envelope --prep "$DATA/prep" --out "$EXP/envelope_refined" "${SHAPE[@]}" \
        --config "$RECIPE/envelope_refined.json" \
        --set "train.init=all:$EXP/envelope/checkpoint.pt" "${THREADS_SET[@]}" \
        "${REFINE_MINUTES_SET[@]}"
fi
if run_stage wavenet; then
    say "WaveNet (resumes from $EXP/wavenet/checkpoint.pt)"
    # The pretrained envelope stays as it is (wavenet.json freezes it): trained jointly, the
    # WaveNet's gradient undoes it. A waveform model has no pretrained envelope to keep.
    INIT=(--set "train.init=all:$EXP/envelope/checkpoint.pt")
    [[ "$LPC_ORDER" == 0 || ! -f "$EXP/envelope/checkpoint.pt" ]] && INIT=(--set "train.freeze=")
    # shellcheck disable=SC2086
    python -m vocoder.train --prep "$DATA/prep" --out "$EXP/wavenet" "${SHAPE[@]}" \
        --config "$RECIPE/wavenet.json" "${INIT[@]}" "${THREADS_SET[@]}" \
        "${WAVENET_STEPS_SET[@]}" $WAVENET_SET
fi
if run_stage joint && [[ "$LPC_ORDER" != 0 && "$JOINT_STEPS" != 0 \
                         && -f "$EXP/envelope_refined/checkpoint.pt" ]]; then
    # The refined envelope, frozen, takes over the formants, so the conditioning network is
    # free to learn what the excitation needs (on the demo corpus: validation 3.095 → 3.053).
    say "WaveNet with the refined envelope frozen and its conditioning free"
    CKPT=checkpoint.pt
    # shellcheck disable=SC2086
    python -m vocoder.train --prep "$DATA/prep" --out "$EXP/wavenet_joint" "${SHAPE[@]}" \
        --config "$RECIPE/wavenet_joint.json" \
        --set "train.init=all:$EXP/wavenet/checkpoint.pt,envelope:$EXP/envelope_refined/$CKPT" \
        "${THREADS_SET[@]}" "${JOINT_STEPS_SET[@]}" $WAVENET_SET
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
if run_stage heads && [[ "$LPC_ORDER" != 0 ]]; then
    # Each speaker's own envelope head, fitted in closed form to its recordings (tts/envelopes.py):
    # the shared head blends voices of similar pitch (RESULTS.md, session 8).
    say "per-speaker envelope heads for $VOICE"
    python -m tts.envelopes --voice "$VOICE" --prep "$DATA/prep" -o "$VOICE.heads" --threads "$THREADS"
    rm -rf "$VOICE" && mv "$VOICE.heads" "$VOICE"
fi
say "done"
