#!/usr/bin/env bash
# GPU check for the webgpu backend (issue 11): conformance suite + benchmarks, JSON report.
#
#   bash tooling/gpu-check.sh bundle          # here (needs pnpm install): builds
#                                             # tooling/gpu-check/dist (~35 MiB, git-ignored)
#   bash tooling/gpu-check.sh run [DIR] [--small]
#                                             # on the GPU machine: installs nothing from the
#                                             # network; report -> DIR/gpu-check.json and the same
#                                             # numbers as a markdown table in DIR/gpu-check.md
#                                             # (default DIR: $OUT or .); --budget-s S (default 480)
#                                             # bounds the sections, --fp32-peak-tflops X gives the
#                                             # matmul share of a 1B fit step as a fraction of X
#
# Device tool: carry ["tooling/gpu-check/dist", ".gl"] and run `bash tooling/gpu-check.sh run`.
# .gl holds libvulkan1 & co. as .deb files (see /work/.library/device/README.md); they are unpacked
# only when the machine has no Vulkan loader. --small: tiny shapes (dry run on lavapipe), the
# Llama-3.2-1B sections at a reduced layout (2 layers, 1 kv head, vocab 512).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cmd="${1:-run}"
shift || true

if [ "$cmd" = bundle ]; then
  node "$here/gpu-check/bundle.mjs" "$@"
  exit 0
fi
[ "$cmd" = run ] || { echo "usage: gpu-check.sh bundle|run [DIR] [--small]" >&2; exit 64; }

out="${OUT:-.}"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out="$1"; shift; fi
mkdir -p "$out"
bundle="$here/gpu-check/dist"
[ -f "$bundle/check.mjs" ] || { echo "gpu-check: $bundle/check.mjs missing: run 'bash tooling/gpu-check.sh bundle' first" >&2; exit 66; }

# Work on a private copy (the carried folder may be read-only); unpack Dawn there.
work="$(mktemp -d)"
cp -r "$bundle/." "$work/"
unxz_to() { # $1 = .xz file, $2 = output (xz, else Python's lzma)
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}
unxz_to "$work/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
rm -f "$work/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# node >= 20: the machine's, else the carried one.
node_bin="$(command -v node || true)"
[ "${GPU_CHECK_CARRIED_NODE:-}" = 1 ] && node_bin="" # test the carried node
if [ -z "$node_bin" ] || ! "$node_bin" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  [ -f "$work/node.xz" ] || { echo "gpu-check: no node >= 20 here and none carried" >&2; exit 69; }
  unxz_to "$work/node.xz" "$work/node" && chmod +x "$work/node" && node_bin="$work/node"
fi

# Vulkan loader: unpack the carried .debs when the machine has none.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if compgen -G "$root/.gl/*.deb" >/dev/null; then
    for f in "$root"/.gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    echo "gpu-check: no libvulkan.so.1 and no .gl/*.deb to unpack" >&2
  fi
fi
# NVIDIA's ICD where the driver is mounted under /usr/local/nvidia (device README).
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] \
  && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

{
  echo "node: $("$node_bin" --version) ($node_bin)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: none"
  ldconfig -p | grep -E 'libvulkan|libnvidia-glcore' | head -3 || true
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
} | tee "$out/gpu-check-env.txt"

set +e
"$node_bin" "$work/check.mjs" --out "$out" "$@" 2>&1 | tee "$out/gpu-check.log"
status=${PIPESTATUS[0]}
set -e
rm -rf "$work"
echo "gpu-check: exit $status, report $out/gpu-check.json"
exit "$status"
