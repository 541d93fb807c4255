#!/usr/bin/env bash
# One-step setup for a fresh Debian machine (or any machine that already has the tools):
#   - Debian packages the project calls: flite (demo corpus, benchmarks), espeak-ng (phonemizer
#     backend), sox; only installed when missing, so a non-root user with them present is fine.
#   - PyTorch pinned to 2.13.0 (the CPU build), then this package with its test extras, into
#     the project's virtual environment .venv/ (see below).
# INSTALL_DRY_RUN=1 prints what it would change instead of changing it.
set -euo pipefail
cd "$(dirname "$0")"

run() {
  if [ -n "${INSTALL_DRY_RUN:-}" ]; then
    printf '+ %s\n' "$*" >&2
  else
    "$@"
  fi
}

# Python goes into .venv/, which the README's commands use (.venv/bin/tts, .venv/bin/python):
# Debian's own python3 refuses `pip install` outside a virtual environment
# (externally-managed-environment). With a virtual environment already active, .venv/ becomes a
# link to it, so the commands run that one; an existing .venv/ is always reused.
venv=.venv
base_python=""
if [ -L "$venv" ] && [ ! -e "$venv" ]; then
  run rm "$venv"  # a link to a virtual environment that has since been removed
fi
if [ ! -x "$venv/bin/python" ] && { [ -e "$venv" ] || [ -z "${VIRTUAL_ENV:-}" ]; }; then
  base_python=$(command -v python3 || command -v python || true)
  if [ -z "$base_python" ] || ! "$base_python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "install.sh: error: no Python 3.10 or newer found: install python3 (apt-get install python3)" >&2
    exit 1
  fi
fi

missing=()
for cmd in flite espeak-ng sox; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
# chromium + chromium-driver: the headless browser of the `tts server` web page test.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# festival + its KED voice: the unseen speaker of benchmarks/adaptation.py (tts adapt).
command -v festival >/dev/null 2>&1 || missing+=(festival)
compgen -G "/usr/share/festival/voices/*/ked_diphone" >/dev/null || missing+=(festvox-kdlpc16k)
# Debian ships venv's pip bootstrap (ensurepip) separately, in python3-venv.
if [ -n "$base_python" ] && ! "$base_python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  run "${sudo_cmd[@]}" apt-get update -qq
  run "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    libsndfile1 >/dev/null
fi

if [ -n "$base_python" ]; then
  echo "install.sh: creating the virtual environment $venv/ with $base_python" >&2
  run "$base_python" -m venv "$venv"
elif [ ! -e "$venv" ]; then
  echo "install.sh: installing into the active virtual environment $VIRTUAL_ENV ($venv links to it)" >&2
  run ln -s "$VIRTUAL_ENV" "$venv"
else
  echo "install.sh: installing into $venv/" >&2
fi
python="$venv/bin/python"
run "$python" -m pip install -q "torch==2.13.0"
run "$python" -m pip install -q -e ".[test]"
run "$python" -m tts.warmup  # compiles and caches the numba kernels now, not on the first `tts say`
echo "install.sh: done; run the tools as $venv/bin/tts and $venv/bin/python, or after . $venv/bin/activate" >&2
