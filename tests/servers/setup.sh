#!/usr/bin/env bash
# Build llama.cpp once and install what the real-server tests need (run by .ci/run before `pytest -m servers`).
#
# One build gives both servers, from the same llama.cpp source: llama-cpp-python's wheel (its server speaks the
# OpenAI forms) and llama.cpp's own llama-server (which adds /completion with n_probs), left in the build folder.
# Both are kept in $LOGITSVIZ_CI_CACHE (default ~/.cache/logitsviz-ci): the next run reuses them (about 7 minutes
# of compiling on 2 cores the first time).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.3.36
CACHE="${LOGITSVIZ_CI_CACHE:-$HOME/.cache/logitsviz-ci}"
BUILD="$CACHE/llama-build"
WHEELS="$CACHE/wheels"
wheel() { ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1; }

if [ ! -x "$BUILD/bin/llama-server" ] || [ -z "$(wheel)" ]; then
  echo "== building llama.cpp $VERSION (llama-cpp-python and llama-server) into $CACHE"
  rm -rf "$BUILD" "$WHEELS"
  mkdir -p "$WHEELS"
  src="$(mktemp -d)"
  python -m pip download -q --no-binary :all: --no-deps "llama-cpp-python==$VERSION" -d "$src"
  # tools and server on (llama-server is one of them), the multimodal library off (the tools add it a second time)
  CMAKE_ARGS="-DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    python -m pip wheel -q --no-deps --no-binary llama-cpp-python --config-settings=build-dir="$BUILD" \
    "$src/llama_cpp_python-$VERSION.tar.gz" -w "$WHEELS"
  rm -rf "$src"
fi
python -m pip install -q "$(wheel)" -r requirements-servers.txt
"$BUILD/bin/llama-server" --version 2>&1 | head -n 2
python -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"
