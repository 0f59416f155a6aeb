#!/usr/bin/env bash
# The live suites on a pure cgroup v2 host with systemd as PID 1: builds the guest once per machine
# (scripts/vm/build-guest.sh, cached in .build-vm/), boots it under qemu (software emulation; this
# machine's /dev/kvm cannot run a stock kernel) with the project and the Swift runtime shared
# read-only, runs the suites named below from the existing test build (`swift build --build-tests`,
# and the static release build for the systemd service checks), and fails with the guest's output
# and console when a check fails.
# Usage: bash scripts/vm-test.sh [FILTER]   env: VM_DIR (.build-vm), VM_SHARE (VM_DIR/share), VM_TIMEOUT (1500 s),
#        VM_CPUS (2), VM_MEM (4G), VM_SLOWDOWN (6: waits in the tests are stretched by it)
set -uo pipefail
cd "$(dirname "$0")/.."
PROJECT=$(pwd)
VM_DIR=${VM_DIR:-$PROJECT/.build-vm}
# Groups of suites (regular expressions over test names) separated by ";", run one after another.
FILTER=${1:-'LiveCgroupTests|SampleCommandTests|HostFilesTests|ExporterTests|[./]ManagerTests|ContainerProcfsTests|OptInCollectorTests;V2SystemdHostTests'}
T0=$(date +%s)
bash scripts/vm/build-guest.sh "$VM_DIR" || exit 1
# The toolchain's usr/ (runtime libraries the test build links, and the backtracer).
SWIFT_USR=$(dirname "$(readlink -f "$(command -v swift || echo /opt/swift/usr/bin/swift)")")/..
SWIFT_USR=$(cd "$SWIFT_USR" && pwd) && [ -d "$SWIFT_USR/lib/swift/linux" ] \
  || { echo "vm-test: no Swift toolchain found (swift on PATH or /opt/swift)" >&2; exit 1; }
SHARE=${VM_SHARE:-$VM_DIR/share}   # one per concurrent run
rm -rf "$SHARE"; mkdir -p "$SHARE"
printf 'project %s\nswift %s\n' "$PROJECT" "$SWIFT_USR" > "$SHARE/mounts"
printf 'PROJECT=%q\nFILTER=%q\nSLOWDOWN=%q\n' "$PROJECT" "$FILTER" "${VM_SLOWDOWN:-6}" > "$SHARE/env"
install -m 755 scripts/vm/guest-tests.sh "$SHARE/run.sh"
echo "vm-test: booting the guest (${VM_CPUS:-2} CPUs, software emulation); suites: $FILTER"
T1=$(date +%s)
timeout "${VM_TIMEOUT:-1500}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
  -m "${VM_MEM:-4G}" -smp "${VM_CPUS:-2}" -nographic -no-reboot -snapshot -uuid 6e6f6465-6d65-7472-6963-730000000001 \
  -kernel "$VM_DIR/vmlinuz" -initrd "$VM_DIR/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 psi=1 quiet" \
  -drive "file=$VM_DIR/disk.img,format=raw,if=virtio" \
  -virtfs "local,path=$SHARE,mount_tag=share,security_model=none,id=share" \
  -virtfs "local,path=$PROJECT,mount_tag=project,security_model=none,readonly=on,id=project" \
  -virtfs "local,path=$SWIFT_USR,mount_tag=swift,security_model=none,readonly=on,id=swift" \
  -nic none > "$VM_DIR/console.log" 2>&1
QEMU_RC=$?
T2=$(date +%s)
RC=$(cat "$SHARE/rc" 2>/dev/null || echo "none")
echo "vm-test: guest ran $((T2 - T1)) s (qemu status $QEMU_RC, suites status $RC); whole run $((T2 - T0)) s"
if [ "$RC" != 0 ]; then
  echo "vm-test: FAILED. Guest output ($SHARE/out.txt):"
  cat "$SHARE/out.txt" 2>/dev/null || echo "(none: the guest script did not start)"
  echo "vm-test: last lines of the guest console ($VM_DIR/console.log):"
  tail -40 "$VM_DIR/console.log"
  exit 1
fi
grep -E '^guest:|Test run with|✔ Suite|✘' "$SHARE/out.txt"
