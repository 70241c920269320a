#!/usr/bin/env bash
# Run every chapter of the Colab edition the way Google Colab would: Python 3.13 with exactly Colab's packages
# (.ci/colab-pins.txt); lenet_utils installed by the chapter's own install line, with only the repository's address
# replaced by a local bare clone that has the release tag v<version> (on a commit of this working tree, so a change
# under test is what gets installed); each chapter alone in an empty folder, cold (an empty LENET_CACHE unless
# LENET_COLAB_CACHE names one), counting the notes a reader would see (tests/booktools/test_colab_run.py).
#
# The environment (about 5 GB, mostly torch's CUDA libraries) is built once per machine and kept outside git in
# $LENET_COLAB_HOME (default ~/.cache/lenet-colab), in a folder named by a hash of the pins file and the Python
# version, so it is rebuilt only when those change.
# Usage: scripts/colab_env.sh [--env-only | PYTEST_ARGS...], e.g. scripts/colab_env.sh -k 01_data
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
pins=$repo/.ci/colab-pins.txt
home=${LENET_COLAB_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/lenet-colab}
want=$(sed -n 's/^# python \([0-9.]*\)$/\1/p' "$pins")  # e.g. 3.13
mkdir -p "$home"

find_python() {
  # The first Python $want among: $LENET_COLAB_PYTHON, python$want on PATH, pyenv's, one that uv installs.
  local candidates=("${LENET_COLAB_PYTHON:-}" "$(command -v "python$want" || true)")
  if command -v pyenv >/dev/null; then
    candidates+=("$(printf '%s\n' "$(pyenv root)/versions/$want".*/bin/python | sort -V | tail -1)")
  fi
  for python in "${candidates[@]}"; do
    if [ -n "$python" ] && "$python" -c "import sys, venv; assert sys.version.startswith('$want.')" 2>/dev/null; then
      echo "$python"
      return
    fi
  done
  # No Python $want on this machine: uv (from PyPI) downloads a standalone build of it.
  echo "colab: no Python $want found; installing one with uv" >&2
  python3 -m venv "$home/uv" && "$home/uv/bin/pip" install -q uv >&2 && "$home/uv/bin/uv" python install "$want" >&2 &&
    "$home/uv/bin/uv" python find "$want" && return
  echo "colab: could not get Python $want; install it, or set LENET_COLAB_PYTHON to its interpreter." >&2
  exit 1
}

freeze() { "$env/bin/python" -m pip freeze --all --disable-pip-version-check | grep -vi '^lenet[-_]utils[ =@]' || true; }

# Before the 5 GB environment: the Colab edition, the tagged clone and the requirement the install line makes of it.
work=$(mktemp -d "${TMPDIR:-/tmp}/lenet-colab.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
version=$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' lenet_utils/__init__.py)
.venv/bin/python -m booktools editions "$work" colab >/dev/null
# safe.directory: CI's container checks out the repository as another user than the one running this.
git -c safe.directory='*' clone -q --bare "$repo" "$work/lenet.git"
(
  export GIT_DIR="$work/lenet.git" GIT_WORK_TREE="$repo" GIT_INDEX_FILE="$work/index"
  export GIT_AUTHOR_NAME=colab_env GIT_AUTHOR_EMAIL=colab_env@localhost
  export GIT_COMMITTER_NAME=colab_env GIT_COMMITTER_EMAIL=colab_env@localhost
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
  git read-tree HEAD && git add --all && git commit -q --allow-empty -m "the working tree under test"
  git tag -f "v$version" >/dev/null
)
address=$(.venv/bin/python -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).as_uri())' "$work/lenet.git")
first=$(.venv/bin/python -c 'from booktools.chapters import chapters; print(chapters()[0].path.name)')
requirement=$(.venv/bin/python -m booktools requirement "$work/colab/$first" --repository "$address")
echo "colab: installing \"$requirement\" (the chapter's install line, from a local clone)" >&2

python=$(find_python)
key=$( (cat "$pins"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
env=$home/$key
exec 9>"$home/.lock"
flock 9  # one build at a time on this machine

if [ -f "$env/.complete" ]; then
  "$env/bin/python" -m pip uninstall -q -y lenet_utils 2>/dev/null || true
  if ! diff -u "$env/freeze.txt" <(freeze) >/dev/null; then
    echo "colab: the environment in $env no longer matches the pins; rebuilding it" >&2
    rm "$env/.complete"
  fi
fi
if [ ! -f "$env/.complete" ]; then
  started=$SECONDS
  # Only one environment is kept: drop those of older pins or Pythons.
  find "$home" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' -exec rm -rf {} +
  "$python" -m venv "$env"
  nice -n 10 "$env/bin/python" -m pip install -q --disable-pip-version-check -r "$pins"
  "$env/bin/python" -Xfrozen_modules=off -m ipykernel install --prefix "$env" --name colab-python3 --display-name "Python 3 (Colab)" >/dev/null
  freeze >"$env/freeze.txt"
  touch "$env/.complete"
  echo "colab: built $env with $("$env/bin/python" --version) in $((SECONDS - started)) s" >&2
else
  echo "colab: reusing $env ($("$env/bin/python" --version))" >&2
fi
[ "${1:-}" = --env-only ] && { echo "$env"; exit 0; }

# Install lenet_utils as the install cell does (a pip install with dependencies, from the tag). Colab's packages
# must stay as they are.
started=$SECONDS
nice -n 10 "$env/bin/python" -m pip install -q --disable-pip-version-check "$requirement"
echo "colab: the install line took $((SECONDS - started)) s (what a class waits for before the first lesson cell)" >&2
if ! diff -u "$env/freeze.txt" <(freeze); then
  rm "$env/.complete"  # the next run rebuilds it
  echo "colab: installing lenet_utils changed the packages (diff above): widen its dependency ranges in" \
    "pyproject.toml to admit Colab's versions, or add a new dependency to .ci/colab-pins.txt at Colab's version." >&2
  exit 1
fi
installed=$(cd / && "$env/bin/python" -c 'import lenet_utils; print(lenet_utils.__version__)')
[ "$installed" = "$version" ] || { echo "colab: installed lenet_utils $installed, expected $version" >&2; exit 1; }

mkdir -p "$work/cache"
LENET_COLAB_ENV=$env LENET_CACHE=${LENET_COLAB_CACHE:-$work/cache} nice -n 10 "${PYTEST:-.venv/bin/pytest}" \
  tests/booktools/test_colab_run.py "$@"
