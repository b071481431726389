# Sourced by the image scripts: podman settings that work on a root host
# without CAP_SYS_RESOURCE and with hybrid cgroups v1/v2 (where crun
# refuses to start), with image storage under the work tree instead of
# /var/lib/containers. Exports CONTAINERS_CONF and CONTAINERS_STORAGE_CONF.
podman_state="${CACHECAR_PODMAN_STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/podman}"
mkdir -p "$podman_state/storage" "$podman_state/run"
cat > "$podman_state/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$podman_state/events.log"
CONF
cat > "$podman_state/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$podman_state/storage"
runroot = "$podman_state/run"
CONF
export CONTAINERS_CONF="$podman_state/containers.conf"
export CONTAINERS_STORAGE_CONF="$podman_state/storage.conf"
