#!/usr/bin/env bash
# Stops the containerd that containerd-start.sh started, after killing and deleting the tasks and
# containers of namespace k8s.io (task shims survive containerd otherwise).
STATE=${STATE:-/tmp/node-metrics-containerd}
[ -f "$STATE/containerd.pid" ] || exit 0
for c in $(ctr -n k8s.io containers ls -q 2>/dev/null); do
  ctr -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
  for i in $(seq 1 50); do ctr -n k8s.io tasks delete "$c" >/dev/null 2>&1 && break; ctr -n k8s.io tasks ls -q | grep -qx "$c" || break; sleep 0.1; done
  ctr -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
done
P=$(cat "$STATE/containerd.pid"); kill "$P" 2>/dev/null || true
for i in $(seq 1 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
kill -9 "$P" 2>/dev/null || true
rm -f "$STATE/containerd.pid"
