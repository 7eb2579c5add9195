#!/bin/busybox sh
# PID 1 of the test VM: busybox sh inside the initramfs that run-vm.sh builds.
# Loads the 9p modules, mounts the host's tree (read-only 9p) at /host with tmpfs where tests
# write, mounts pure cgroup v2, and runs tests/vm/guest.sh chrooted into /host. It powers off
# whatever happened: run-vm.sh judges the run by the results share, never by qemu's exit code.
# Reads from the results share: `project` (the project dir) and `binds` (host paths under a
# tmpfs-covered dir that must stay visible: the project, the binary's dir).

PATH=/bin
export PATH
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fail() {
	echo "vm-init: $*"
	echo "vm-init: FAILED"
	sync
	poweroff -f
	sleep 30
}

mount -t proc proc /proc || fail "mount proc"
# run-vm.sh's accelerator probe: reaching this line is all it asks.
case " $(cat /proc/cmdline) " in
*" wcmem.probe=1 "*)
	echo "vm-init: probe ok"
	poweroff -f
	sleep 30
	;;
esac
while read -r m; do
	insmod "/lib/modules/$m.ko" || fail "insmod $m"
done </modules

# msize: the largest the virtio transport takes (fewer round trips); cache=loose only on the
# read-only share (nothing changes it during the run), none on the results share.
o=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$o,ro,cache=loose" hostroot /host || fail "mount 9p hostroot"
mount -t 9p -o "$o" wcmemres /res || fail "mount 9p wcmemres (results share)"
read -r project </res/project || fail "no project path in the results share"

# Writable tmpfs where tests and tools write; /orig keeps the host's view of what they cover.
mount -o bind /host /orig || fail "bind /host"
for spec in tmp:1777 var/tmp:1777 root:0711 home:0755 run:0755; do
	d=${spec%:*}
	[ -d "/host/$d" ] || continue
	mount -t tmpfs -o "mode=${spec#*:}" tmpfs "/host/$d" || fail "tmpfs on /$d"
done
while read -r p; do
	case $p in
	/tmp/* | /var/tmp/* | /root/* | /home/* | /run/*)
		mkdir -p "/host$p" && mount -o bind "/orig$p" "/host$p" || fail "bind $p"
		;;
	esac
done </res/binds

# Loopback, as every machine has: pytest plugins talk over it (pytest-rerunfailures' server
# for its xdist workers, on 127.0.0.1). Nothing else is configured: the VM has no network.
/bin/busybox ip link set lo up || fail "loopback up"
mount -t proc proc /host/proc || fail "mount /proc"
mount -t sysfs sysfs /host/sys || fail "mount /sys"
# Pure v2: the kernel runs with cgroup_no_v1=all, and this is the only cgroup mount.
mount -t cgroup2 -o nsdelegate cgroup2 /host/sys/fs/cgroup || fail "mount cgroup2"
mount -t devtmpfs devtmpfs /host/dev || fail "mount /dev"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts || fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm || fail "mount /dev/shm"
mkdir -p /host/run/wcmem-vm && mount -o move /res /host/run/wcmem-vm || fail "move results share"

echo "vm-init: kernel $(uname -r), $(nproc) CPUs; running $project/tests/vm/guest.sh"
# The host's tree becomes the root of the mount namespace (as switch_root does), and the guest
# is chrooted to that root: a process chrooted below its namespace's root may make no user
# namespace (unshare(2): EPERM), which the user pass needs. This shell keeps the initramfs as
# its root, so busybox is still at hand for the poweroff.
cd /host && mount --move . / || fail "move the host's tree to /"
chroot . /bin/bash "$project/tests/vm/guest.sh"
echo "vm-init: guest.sh exited with status $?"
sync
poweroff -f
sleep 30
