#!/usr/bin/env bash
# Builds llama.cpp's own `llama-bench` and `llama-batched-bench` from the very llama.cpp sources
# pyxa links (the `llama-cpp-sys-2` crate, which leaves the tools' sources out), with the tools'
# sources taken from llama-cpp-python's sdist on PyPI (pinned by sha256), and the same ggml
# options cargo builds with (AVX2/FMA/F16C, no OpenMP). `pyxa bench ask` then prints llama.cpp's
# decode tokens/s next to pyxa's for the same GGUF and threads. Idempotent; about 10 minutes on
# 2 cores the first time.
set -euo pipefail

home="${PYXA_HOME:-$HOME/.cache/pyxa}"
out="$home/tools"
if [[ -x "$out/llama-bench" && -x "$out/llama-batched-bench" && "${1:-}" != "--force" ]]; then
  echo "llama-bench: already built in $out"
  exit 0
fi

sys_version=$(sed -n '/^name = "llama-cpp-sys-2"$/{n;s/^version = "\(.*\)"$/\1/p;}' "$(dirname "$0")/../Cargo.lock")
crate=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/llama-cpp-sys-2-"$sys_version" 2>/dev/null | head -1 || true)
if [[ -z "$crate" ]]; then
  echo "llama-bench: fetching llama-cpp-sys-2 $sys_version's sources (cargo fetch)"
  (cd "$(dirname "$0")/.." && cargo fetch --locked >/dev/null)
  crate=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/llama-cpp-sys-2-"$sys_version" | head -1)
fi

sdist_version=0.3.36
sdist_sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
work="$home/llama-bench-build"
mkdir -p "$work"
sdist="$work/llama_cpp_python-$sdist_version.tar.gz"
if ! echo "$sdist_sha256  $sdist" | sha256sum -c --status 2>/dev/null; then
  echo "llama-bench: downloading llama-cpp-python $sdist_version's sdist from PyPI (76 MB)"
  python3 -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$sdist_version" -d "$work"
  echo "$sdist_sha256  $sdist" | sha256sum -c --quiet
fi

src="$work/llama.cpp"
rm -rf "$src"
cp -r "$crate/llama.cpp" "$src"
tar xzf "$sdist" -C "$work" "llama_cpp_python-$sdist_version/vendor/llama.cpp/tools/llama-bench" \
  "llama_cpp_python-$sdist_version/vendor/llama.cpp/tools/batched-bench"
for tool in llama-bench batched-bench; do
  cp -r "$work/llama_cpp_python-$sdist_version/vendor/llama.cpp/tools/$tool/." "$src/tools/$tool/"
done
# Only the two tools: the crate ships none of the others' sources.
printf 'find_package(Threads REQUIRED)\nllama_add_compile_flags()\nadd_subdirectory(batched-bench)\nadd_subdirectory(llama-bench)\n' \
  >"$src/tools/CMakeLists.txt"

echo "llama-bench: configuring (cmake)"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
  -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TOOLS=ON >"$work/cmake.log"
echo "llama-bench: compiling (progress below)"
cmake --build "$work/build" -j"$(nproc)" --target llama-bench llama-batched-bench
mkdir -p "$out"
cp "$work/build/bin/llama-bench" "$work/build/bin/llama-batched-bench" "$out/"
echo "llama-bench: built $out/llama-bench and $out/llama-batched-bench"
