#!/bin/sh
# Installs the Debian packages that building and testing wcmem-sandbox needs. As root it runs
# apt-get; as a user it runs it through sudo when sudo is there, and otherwise prints the exact
# command to run as root and fails. Does nothing when every package is present.
set -eu

PKGS="gcc make pkg-config libcgroup-dev libinih-dev libsystemd-dev libcmocka-dev python3 python3-pytest"
# expat: `merge` reads JUnit XML files, its own and pytest's, with a parser built for
# untrusted input (no DOCTYPE, so no entity expansion, and a bounded depth on top).
PKGS="$PKGS libexpat1-dev"
# PyYAML: the Kubernetes recipe (etc/kubernetes-shards.yaml) is checked as Kubernetes reads it.
PKGS="$PKGS python3-yaml"
# pytest-xdist: the per-worker units test; pytest-forked: what `make bench` compares against;
# pytest-timeout: a test that hangs fails with its name instead of stopping the suite.
PKGS="$PKGS python3-pytest-xdist python3-pytest-forked python3-pytest-timeout"
# The plugins people install beside pytest: a resumed run's report must be plain pytest's
# with them loaded (tests/integration/test_faithful.py), and they must not change our tests.
PKGS="$PKGS python3-pytest-rerunfailures python3-pytest-asyncio python3-pytest-cov"
PKGS="$PKGS python3-pytest-subtests"
# The real xarray and netCDF4: the plugin's dataset count is tested against them.
PKGS="$PKGS python3-xarray python3-netcdf4"
# Headless Chromium: the HTML report is checked as a person sees it (a screenshot's pixels).
PKGS="$PKGS chromium"
# libFuzzer (clang's runtime) for `make fuzz`.
PKGS="$PKGS clang libclang-rt-14-dev"
# The pure cgroup v2 tests boot a kernel under qemu (tests/vm); its user pass runs a
# systemd user manager (systemd --user) for the runner to ask for a delegated scope.
PKGS="$PKGS qemu-system-x86 linux-image-amd64 busybox-static systemd"

# `etc/deps.sh slurm`: instead, what `make check-slurm` needs: a single-node Slurm cluster
# (Debian's slurmctld, slurmd, the client commands) and munge, its authentication. Apart
# from the rest: daemons' packages that no other test needs.
if [ "${1:-}" = slurm ]; then
	PKGS="slurmctld slurmd slurm-client munge"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing:$missing" >&2
		echo "deps: as root, run: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
		exit 1
	fi
	as_root="sudo"
	echo "deps: installing as root through sudo:$missing"
else
	echo "deps: installing:$missing"
fi
# shellcheck disable=SC2086  # word splitting of the package list (and of an empty $as_root) is wanted
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
