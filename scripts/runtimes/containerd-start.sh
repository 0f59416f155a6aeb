#!/usr/bin/env bash
# Starts a real containerd for the tests (Debian's containerd + runc, Debian's configuration with
# its CRI plugin's sandbox image set to docker.io/local/pause:1 and oom_score_adj clamped, socket /run/containerd/containerd.sock)
# and imports two one-binary busybox images into namespace k8s.io (no registry is reachable):
# docker.io/local/busybox:1 and the pod sandbox image docker.io/local/pause:1 (sleeps). Installs containerd,
# runc and busybox-static when missing. Records the daemon's PID in $STATE/containerd.pid; stop it
# with containerd-stop.sh. Usage: STATE=/tmp/x scripts/runtimes/containerd-start.sh
set -euo pipefail
STATE=${STATE:-/tmp/node-metrics-containerd}; mkdir -p "$STATE"
HERE=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
if ! command -v containerd >/dev/null || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
  for i in $(seq 1 30); do apt-get -o DPkg::Lock::Timeout=300 update -qq && break; sleep 5; done
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends containerd runc busybox-static >/dev/null
fi
cat >"$STATE/config.toml" <<'EOF'
version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "docker.io/local/pause:1"
    # Sandboxes ask for oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which this host's
    # root may lack: clamp to containerd's own, as rootless setups do.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
EOF
if ! ctr version >/dev/null 2>&1; then
  # Close inherited descriptors above 2 so a caller waiting on a pipe is not held open by the daemon.
  ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    exec setsid /usr/bin/containerd --config "$STATE/config.toml" >"$STATE/containerd.log" 2>&1 </dev/null ) &
  echo $! >"$STATE/containerd.pid"
  for i in $(seq 1 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! ctr -n k8s.io images ls -q | grep -qx docker.io/local/busybox:1; then
  "$HERE/mk-oci-busybox.sh" "$STATE/busybox-oci.tar" docker.io/local/busybox:1
  ctr -n k8s.io images import "$STATE/busybox-oci.tar" >/dev/null
fi
if ! ctr -n k8s.io images ls -q | grep -qx docker.io/local/pause:1; then
  "$HERE/mk-oci-busybox.sh" "$STATE/pause-oci.tar" docker.io/local/pause:1 '["/bin/sleep","2147483647"]'
  ctr -n k8s.io images import "$STATE/pause-oci.tar" >/dev/null
fi
echo "containerd ready (pid $(cat "$STATE/containerd.pid" 2>/dev/null || echo external))"
