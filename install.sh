#!/usr/bin/env bash
# One-step setup for a fresh Debian machine (or any machine that already has the tools):
#   - Debian packages the project calls: flite (demo corpus, benchmarks), espeak-ng (phonemizer
#     backend), sox; only installed when missing, so a non-root user with them present is fine.
#   - PyTorch pinned to 2.13.0 (the CPU build), then this package with its test extras.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
for cmd in flite espeak-ng sox; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
# chromium + chromium-driver: the headless browser of the `tts server` web page test.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" libsndfile1 >/dev/null
fi

python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[test]"
# pyenv installs console scripts behind shims that only appear after a rehash.
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
python -m tts.warmup  # compiles and caches the numba kernels now, not on the first `tts say`
echo "install.sh: done" >&2
