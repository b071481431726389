#!/usr/bin/env bash
# Builds cachecar's runtime image with no registry pull: a minimal Debian
# root filesystem made from Debian's packages (mmdebstrap), holding only the
# libraries the binary links, the stripped binary and a default config;
# imported into podman as localhost/cachecar:<version> and saved as an OCI
# archive that a registry push can use later. docker/Containerfile builds
# the same image where registries are reachable.
#
#   docker/build-image.sh                    build the release preset, then the image
#   docker/build-image.sh --binary PATH      package an already built binary
#                                            (CI: the one the test suite just ran)
#   docker/build-image.sh --fleet            also the demo origin and Redis images
#                                            that docker/compose.yaml runs
# Output: build/image/cachecar-<version>.oci.tar, and the image in podman.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
fleet=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --fleet) fleet=1; shift ;;
    *) echo "usage: docker/build-image.sh [--binary PATH] [--fleet]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --image
version=$(sed -n 's/^project(cachecar VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [[ -z "$binary" ]]; then
  scripts/build.sh release
  binary=build/release/cachecar
fi
[[ -x "$binary" ]] || { echo "build-image: no executable at $binary" >&2; exit 1; }

out=build/image
mkdir -p "$out"
source docker/podman-env.sh

sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [[ -s "$file" ]] && sources+=("$file")
done

# package_image IMAGE PROGRAM AS_NAME CONFIG PORTS ENTRYPOINT CMD
# A root filesystem of the Debian packages that own the libraries PROGRAM
# links (found the way the dynamic loader finds them, so the list follows
# the code), PROGRAM stripped at /usr/local/bin/AS_NAME, CONFIG (if any) at
# /etc/cachecar/cachecar.yaml, users root and nonroot (65532); imported as
# IMAGE running as 65532 with no shell in it.
package_image() {
  local image="$1" program="$2" as_name="$3" config="$4" ports="$5" entrypoint="$6" cmd="$7"
  local stage="$out/stage-$as_name"
  rm -rf "$stage" && mkdir -p "$stage"
  objcopy --strip-debug --strip-unneeded "$program" "$stage/$as_name"
  [[ -n "$config" ]] && cp "$config" "$stage/cachecar.yaml"
  local libraries packages
  mapfile -t libraries < <(ldd "$stage/$as_name" | awk '/=> \// { print $3 } /^\s*\/lib/ { print $1 }')
  packages=$(for lib in "${libraries[@]}"; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"; done |
    cut -d: -f1 | sort -u | paste -sd, -)
  echo "build-image: $image: runtime packages $packages"
  local rootfs="$out/rootfs-$as_name.tar"
  # extract: unpack the packages, run no maintainer scripts, no shell, no apt.
  mmdebstrap --quiet --variant=extract --mode=root --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
    --skip=output/dev \
    --extract-hook='mkdir -p "$1/usr/local/bin" "$1/etc/cachecar" "$1/tmp" && chmod 1777 "$1/tmp"' \
    --extract-hook="copy-in $stage/$as_name /usr/local/bin" \
    ${config:+--extract-hook="copy-in $stage/cachecar.yaml /etc/cachecar"} \
    --extract-hook='printf "root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:cachecar:/nonexistent:/usr/sbin/nologin\n" > "$1/etc/passwd"' \
    --extract-hook='printf "root:x:0:\nnonroot:x:65532:\n" > "$1/etc/group"' \
    --extract-hook='ldconfig -r "$1"' \
    ${ca_bundle:+--extract-hook="$ca_hook"} \
    bookworm "$rootfs" "${sources[@]}"
  local changes=(--change "ENTRYPOINT $entrypoint" --change "CMD $cmd" --change 'USER 65532:65532'
                 --change 'WORKDIR /etc/cachecar' --change 'STOPSIGNAL SIGTERM'
                 --change "LABEL org.opencontainers.image.version=$version org.opencontainers.image.licenses=Apache-2.0")
  for port in $ports; do changes+=(--change "EXPOSE $port"); done
  podman rmi --force "$image" >/dev/null 2>&1 || true
  podman import --quiet "${changes[@]}" "$rootfs" "$image" >/dev/null
  local size
  size=$(podman image inspect --format '{{.Size}}' "$image")
  echo "build-image: $image ($((size / 1024 / 1024)) MB)"
}

# The CA bundle of Debian's ca-certificates (the host's copy: the extract
# variant runs no maintainer script to make one), where OpenSSL's default
# verify paths look, for rediss:// without store.redis.tls_ca_file.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -s "$ca_bundle" ]] || { echo "build-image: no $ca_bundle (install ca-certificates)" >&2; exit 1; }
ca_hook="mkdir -p \"\$1/etc/ssl/certs\" \"\$1/usr/lib/ssl\" && cp $ca_bundle \"\$1/etc/ssl/certs/\" && ln -sf /etc/ssl/certs/ca-certificates.crt \"\$1/usr/lib/ssl/cert.pem\" && ln -sf /etc/ssl/certs \"\$1/usr/lib/ssl/certs\""

image="localhost/cachecar:$version"
package_image "$image" "$binary" cachecar docker/cachecar.yaml "8080 9902" \
  '["/usr/local/bin/cachecar"]' '["--config", "/etc/cachecar/cachecar.yaml"]'
rm -f "$out/cachecar-$version.oci.tar"
podman save --quiet --format oci-archive -o "$out/cachecar-$version.oci.tar" "$image"
echo "build-image: archive $out/cachecar-$version.oci.tar"

if [[ -n "$fleet" ]]; then
  # The rest of docker/compose.yaml's fleet, from the same Debian packages:
  # the demo origin (dev build) and Redis.
  package_image "localhost/cachecar-demo-origin:$version" build/dev/demo_origin demo_origin "" "5000" \
    '["/usr/local/bin/demo_origin"]' '["--listen", "127.0.0.1:5000"]'
  package_image "localhost/cachecar-redis:$version" /usr/bin/redis-check-rdb redis-server "" "6379" \
    '["/usr/local/bin/redis-server"]' '["--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"]'
fi
