#!/bin/bash
# Runs in the guest as vm-run.service (installed by build-guest.sh): mounts the host folders listed
# in /mnt/host/mounts ("<9p tag> <path>" per line) read-only at their host paths, runs
# /mnt/host/run.sh with its output in /mnt/host/out.txt and its exit status in /mnt/host/rc, then
# the unit's ExecStopPost powers the guest off.
date +%s > /mnt/host/started
while read -r tag path; do
  [ -n "$tag" ] || continue
  mkdir -p "$path" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro "$tag" "$path"
done < /mnt/host/mounts
/bin/bash /mnt/host/run.sh > /mnt/host/out.txt 2>&1
echo $? > /mnt/host/rc
sync
