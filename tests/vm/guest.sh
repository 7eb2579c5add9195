#!/bin/bash
# Runs inside the test VM as root, chrooted into the host's tree (read-only 9p) that init.sh
# prepared: pure cgroup v2 at /sys/fs/cgroup, tmpfs on /tmp /var/tmp /root /home /run.
# Two passes, each: smoke.sh, then (unless MODE=smoke) the project's integration tests.
#   root  as root, in the root cgroup (+memory enabled in its cgroup.subtree_control);
#   user  as uid 1000, started inside /sys/fs/cgroup/delegated, which it owns the way
#         systemd's Delegate=yes hands it over (the directory, cgroup.procs,
#         cgroup.subtree_control and cgroup.threads chowned to the user). Its pytest step
#         has a systemd user manager beside it (systemd --user in delegated/user@1000.service,
#         delegated the same way), for the runner to ask for a scope of its own.
# Results go to the writable 9p share at $RES, which run-vm.sh reads on the host:
#   PASS/smoke.rc PASS/smoke.log PASS/pytest.rc PASS/pytest.log PASS/junit.xml
#   capture/ (with CAPTURE=1)  dmesg.txt  done (written last)
# No `set -e`: a failing step is recorded and the next one still runs.
set -uo pipefail

RES=/run/wcmem-vm
CG=/sys/fs/cgroup
DELEGATED=$CG/delegated
VM_UID=1000
VM_USER=wcmemvm
VM_HOME=/home/$VM_USER

# From run-vm.sh: MODE (smoke|full) PROJECT BIN ALL TEST_TIMEOUT CAPTURE EXTRA=(pytest args)
# shellcheck source=/dev/null
. "$RES/config"
VM_DIR=$PROJECT/tests/vm

base_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
	TERM=dumb PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WCMEM_BACKEND=v2)
[ -z "$BIN" ] || base_env+=("WCMEM_BIN=$BIN")

say() { printf 'vm[%s]: %s\n' "$pass" "$*"; }

# Sets `run` to the command prefix that runs a command as the pass's user, in its cgroup
# (the user pass: $1, else $DELEGATED), with a clean environment (more NAME=VALUE words may
# follow, then the command).
pass_prefix() {
	if [ "$pass" = root ]; then
		run=(env -i "${base_env[@]}" HOME=/root USER=root LOGNAME=root WCMEM_VM_PASS=root)
	else
		# Into the delegated cgroup while still root, then drop privileges: the command
		# starts inside the subtree it owns (and must find its own leaf there).
		# shellcheck disable=SC2016 # $$ and $1 are for the inner bash
		run=(bash -c 'echo $$ >"$1" || exit 125; shift; exec "$@"' _ "${1:-$DELEGATED}/cgroup.procs"
			setpriv "--reuid=$VM_UID" "--regid=$VM_UID" --clear-groups --
			env -i "${base_env[@]}" "HOME=$VM_HOME" "USER=$VM_USER" "LOGNAME=$VM_USER"
			"XDG_RUNTIME_DIR=/run/user/$VM_UID" WCMEM_VM_PASS=user WCMEM_VM_SYSTEMD=1)
	fi
}

# Kills every process under cgroup $1 and removes it with all its descendants.
cg_remove_tree() {
	[ -d "$1" ] || return 0
	echo 1 >"$1/cgroup.kill"
	for _ in $(seq 50); do
		grep -qx 'populated 0' "$1/cgroup.events" && break
		sleep 0.1
	done
	find "$1" -depth -type d -exec rmdir {} + || say "could not remove $1"
}

# A fresh delegated cgroup for the next step of the user pass, with the memory controller
# (enabled again in the root: the root pass's tests may have changed that).
make_delegated() {
	cg_remove_tree "$DELEGATED"
	echo "+memory +pids" >$CG/cgroup.subtree_control &&
		mkdir "$DELEGATED" &&
		chown $VM_UID:$VM_UID "$DELEGATED" "$DELEGATED"/cgroup.{procs,subtree_control,threads}
}

# A child of $DELEGATED that belongs to the user the same way.
make_delegated_child() {
	mkdir "$DELEGATED/$1" &&
		chown $VM_UID:$VM_UID "$DELEGATED/$1" "$DELEGATED/$1"/cgroup.{procs,subtree_control,threads}
}

# The user's systemd manager, as user@1000.service runs it on a desktop: Debian's
# systemd --user in a cgroup delegated to the user, beside the cgroups the tests start in, so
# that it can move a runner into a scope (it writes the common ancestor's cgroup.procs:
# $DELEGATED's, the user's). It reads which controllers it may hand down once, as it starts:
# +memory is on in $DELEGATED before, so pytest starts in a leaf (wcmemtest-pytest, where
# the conftest moves it anyway). systemd wants /run/systemd/system, the mark of a system
# booted with systemd, before it runs as a user instance. Ready once its private socket is
# there; the pass's cg_remove_tree ends it. Returns 1, and says why, when it does not come up.
start_user_manager() {
	local cg=$DELEGATED/user@$VM_UID.service sock=/run/user/$VM_UID/systemd/private
	local log=$RES/user/systemd.log t0 t1
	read -r t0 _ </proc/uptime
	mkdir -p /run/systemd/system &&
		make_delegated_child wcmemtest-pytest && make_delegated_child "user@$VM_UID.service" &&
		echo "+memory +pids" >"$DELEGATED/cgroup.subtree_control" || return 1
	# shellcheck disable=SC2016 # $$ and $1 are for the inner bash
	bash -c 'echo $$ >"$1" || exit 125; shift; exec "$@"' _ "$cg/cgroup.procs" \
		setpriv "--reuid=$VM_UID" "--regid=$VM_UID" --clear-groups -- \
		env -i "${base_env[@]}" "HOME=$VM_HOME" "USER=$VM_USER" "LOGNAME=$VM_USER" \
		"XDG_RUNTIME_DIR=/run/user/$VM_UID" /lib/systemd/systemd --user </dev/null >"$log" 2>&1 &
	disown  # the pass's cgroup.kill ends it: no "Killed" notice from this shell
	for _ in $(seq 600); do
		if [ -S "$sock" ]; then
			read -r t1 _ </proc/uptime
			say "systemd --user is up in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s ($sock)"
			return 0
		fi
		sleep 0.1
	done
	say "systemd --user did not come up in 60 s; its last lines:"
	tail -n 20 "$log"
	return 1
}

# A passwd/group entry for uid 1000 (the host's /etc is read-only here), its HOME and
# XDG_RUNTIME_DIR on tmpfs.
setup_user() {
	local etc=/run/wcmem-vm-etc f
	mkdir -p $etc
	for f in passwd group; do
		grep -v "^[^:]*:[^:]*:$VM_UID:" /etc/$f >$etc/$f
	done
	echo "$VM_USER:x:$VM_UID:$VM_UID:wcmem VM test user:$VM_HOME:/bin/bash" >>$etc/passwd
	echo "$VM_USER:x:$VM_UID:" >>$etc/group
	mount -o bind $etc/passwd /etc/passwd && mount -o bind $etc/group /etc/group
	install -d -o $VM_UID -g $VM_UID -m 0700 "$VM_HOME" /run/user/$VM_UID
}

step_smoke() {
	local cap="" rc
	if [ "$CAPTURE" = 1 ]; then
		cap=/tmp/wcmem-vm-capture-$pass
		install -d -m 0755 -o "$uid" -g "$uid" "$cap"
	fi
	[ "$pass" = root ] || make_delegated
	pass_prefix
	timeout -k 5 "$TEST_TIMEOUT" "${run[@]}" ${cap:+WCMEM_VM_CAPTURE=$cap} /bin/bash "$VM_DIR/smoke.sh" 2>&1 |
		tee "$RES/$pass/smoke.log"
	rc=${PIPESTATUS[0]}
	echo "$rc" >"$RES/$pass/smoke.rc"
	[ -z "$cap" ] || cp -r "$cap" "$RES/capture-$pass"
	say "smoke.sh exit $rc"
}

# The tests a pass runs: the node ids of tests/vm/tests.txt (what a cgroup backend changes), or
# with ALL=1 every test that makes a cgroup. Either way two at a time (both vCPUs; TCG is slow),
# each in cgroups of its own; pytest-timeout fails a test that hangs, by name, and the pass
# goes on.
select_tests() {
	local line
	select=()
	if [ "$ALL" = 1 ]; then
		select=(-m "not no_cgroup" tests/integration)
	else
		while read -r line; do
			line=${line%%#*}
			line=${line%"${line##*[![:space:]]}"}
			[ -z "$line" ] || select+=("tests/integration/$line")
		done <"$VM_DIR/tests.txt"
	fi
	/usr/bin/python3 -c "import xdist" 2>/dev/null && select+=(-p xdist -n 2)
	select+=("--timeout=$TEST_TIMEOUT")
}

step_pytest() {
	local junit=/tmp/wcmem-vm-junit-$pass.xml rc select t0 t1
	select_tests
	if [ "$pass" = user ]; then
		# Should it fail, the scope tests fail too (WCMEM_VM_SYSTEMD=1), never skip.
		make_delegated && start_user_manager
	fi
	pass_prefix "$DELEGATED/wcmemtest-pytest"
	say "pytest: $([ "$ALL" = 1 ] && echo "every test that makes a cgroup" ||
		echo "the $(grep -c '^test_' "$VM_DIR/tests.txt") tests of tests/vm/tests.txt")${EXTRA[*]:+ ${EXTRA[*]}}"
	read -r t0 _ </proc/uptime
	(cd "$PROJECT" && "${run[@]}" /usr/bin/python3 -m pytest -v -p no:cacheprovider \
		--junitxml="$junit" "${select[@]}" "${EXTRA[@]}") 2>&1 |
		tee "$RES/$pass/pytest.log"
	rc=${PIPESTATUS[0]}
	read -r t1 _ </proc/uptime
	echo $((${t1%.*} - ${t0%.*})) >"$RES/$pass/pytest.seconds"
	[ ! -f "$junit" ] || cp "$junit" "$RES/$pass/junit.xml"
	echo "$rc" >"$RES/$pass/pytest.rc"
	say "pytest exit $rc"
}

# Cgroups left behind by the pass (the runner must remove all of its own).
check_leftovers() {
	local left
	left=$(find $CG -mindepth 1 -type d ! -path "$DELEGATED" | sed "s|^$CG||")
	[ -z "$left" ] || say "cgroups left behind: ${left//$'\n'/ }"
}

pass=setup
# memory and pids, as systemd hands both down (pids: the sandbox's pids.max)
echo "+memory +pids" >$CG/cgroup.subtree_control || say "cannot enable memory in the root cgroup"
setup_user || say "cannot set up user $VM_UID"

for pass in root user; do
	uid=0
	[ "$pass" = root ] || uid=$VM_UID
	mkdir -p "$RES/$pass"
	say "pass as $(id -un $uid) (uid $uid)"
	step_smoke
	[ "$MODE" = smoke ] || step_pytest
	[ "$pass" = root ] || cg_remove_tree "$DELEGATED"
	check_leftovers
done

pass=end
dmesg >"$RES/dmesg.txt"
echo ok >"$RES/done"
sync
