#!/usr/bin/env bash
# Sets up everything ContentV Studio needs in ./.venv, once; later runs return in a moment.
#   scripts/bootstrap.sh          runtime (the app and the CLI)
#   scripts/bootstrap.sh dev      runtime + test tools
# Qt's system libraries are installed with apt-get where missing (as root, or through sudo). torch is the CUDA
# build when an NVIDIA GPU is present and the CPU build otherwise (override: TORCH_VARIANT=cpu|cuda).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=${1:-runtime}
python=${PYTHON:-python3}
torch_version=2.13.0
venv=.venv

say() { printf '[setup] %s\n' "$*" >&2; }

# --- Qt's system libraries (xcb and offscreen platforms, QtMultimedia) ---------------------------------------
declare -A lib_packages=(
  [libpulse.so.0]=libpulse0 [libxcb-cursor.so.0]=libxcb-cursor0 [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1 [libxcb-image.so.0]=libxcb-image0 [libxcb-render-util.so.0]=libxcb-render-util0
  [libxcb-randr.so.0]=libxcb-randr0 [libxcb-shape.so.0]=libxcb-shape0 [libxcb-xkb.so.1]=libxcb-xkb1
  [libxkbcommon.so.0]=libxkbcommon0 [libxkbcommon-x11.so.0]=libxkbcommon-x11-0 [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1 [libfontconfig.so.1]=libfontconfig1 [libdbus-1.so.3]=libdbus-1-3 [libglib-2.0.so.0]=libglib2.0-0
)
if [ "$(uname -s)" = Linux ] && command -v ldconfig >/dev/null 2>&1; then
  known=$(ldconfig -p 2>/dev/null || true)
  missing=()
  for lib in "${!lib_packages[@]}"; do
    # ldconfig -p lines start with a tab: "<tab>libpulse.so.0 (libc6,x86-64) => /lib/…"
    grep -qF "$(printf '\t')$lib (" <<<"$known" || missing+=("${lib_packages[$lib]}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
      say "installing Qt's system libraries: ${missing[*]}"
      $sudo apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "warning: missing system libraries; install them with your package manager: ${missing[*]}"
    fi
  fi
fi

# --- the virtual environment --------------------------------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$python" -m venv "$venv"
fi

variant=${TORCH_VARIANT:-}
if [ -z "$variant" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then variant=cuda; else variant=cpu; fi
fi
requirements=requirements.txt
[ "$profile" = dev ] && requirements=requirements-dev.txt

stamp="$venv/.contentv-setup"
want="$(cat requirements*.txt | sha256sum | cut -c1-16) $profile torch-$torch_version-$variant"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# A dev set-up also covers the runtime one.
if [ "$profile" = runtime ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${want% runtime *} dev ${want##* runtime }" ]; then
  exit 0
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$torch_version')" 2>/dev/null; then
  say "installing torch $torch_version ($variant build)"
  if [ "$variant" = cpu ]; then
    # torch alone from PyTorch's CPU index (a +cpu wheel there outranks the CUDA build of the same version);
    # its dependencies then come from the default index, so the extra index is asked about one package only.
    "${pip[@]}" install --no-deps --retries 1 --timeout 15 "torch==$torch_version" \
      --extra-index-url "${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
  fi
  "${pip[@]}" install "torch==$torch_version"
fi
say "installing $requirements"
"${pip[@]}" install -r "$requirements"
echo "$want" >"$stamp"
say "ready"
