#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of store/postgres.
#
# Sourced by .ci/run (". .ci/postgres.sh; pg_start"): installs Debian's
# postgresql when its binaries are missing, initdb's a cluster into a temp
# folder as an unprivileged user (initdb refuses root: CI runs as root, so
# the cluster runs as "postgres" through runuser), listening only on a Unix
# socket in that folder, creates the database newsdesk_test, exports
# NEWSDESK_TEST_DATABASE_URL, and registers pg_stop (stop, remove the
# folder) on EXIT.
#
# Run directly for local use:
#   eval "$(.ci/postgres.sh start)"   # prints the export and the stop command
#   go test ./store/postgres/
#   .ci/postgres.sh stop "$NEWSDESK_TEST_PGDIR"

# pg_bindir prints the folder holding initdb and pg_ctl, installing
# Debian's postgresql package when there is none.
pg_bindir() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return
	fi
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$d" ]; then
		echo "installing postgresql (Debian) for the store/postgres tests" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y postgresql >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y postgresql >/dev/null 2>&1; } ||
			{ echo "could not install postgresql" >&2; return 1; }
		d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	[ -x "$d/initdb" ] || { echo "no initdb in $d" >&2; return 1; }
	echo "$d"
}

# pg_as runs a command as the cluster's owner: "postgres" when we are root
# (created when missing), else ourselves.
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start starts the cluster and exports NEWSDESK_TEST_DATABASE_URL and
# NEWSDESK_TEST_PGDIR (the temp folder: data in data/, socket in it).
pg_start() {
	local bin dir user
	bin=$(pg_bindir) || return 1
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/newsdesk-pg.XXXXXX") || return 1
	chmod 0755 "$dir"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
	user=$(pg_as id -un)
	pg_as "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		pg_as "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	# No TCP (listen_addresses ''), the socket in the temp folder; fsync
	# off: a throwaway cluster need not survive a power cut.
	pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
	pg_as "$bin/createdb" -h "$dir" -U "$user" newsdesk_test || return 1
	export NEWSDESK_TEST_PGDIR="$dir"
	export NEWSDESK_TEST_PGBIN="$bin"
	export NEWSDESK_TEST_DATABASE_URL="postgres:///newsdesk_test?host=$dir&user=$user&sslmode=disable"
}

# pg_stop stops the cluster of folder $1 (default NEWSDESK_TEST_PGDIR) and
# removes the folder.
pg_stop() {
	local dir=${1:-${NEWSDESK_TEST_PGDIR:-}} bin
	[ -n "$dir" ] && [ -d "$dir/data" ] || return 0
	bin=${NEWSDESK_TEST_PGBIN:-$(pg_bindir)}
	pg_as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-}" in
	start)
		pg_start
		echo "export NEWSDESK_TEST_DATABASE_URL='$NEWSDESK_TEST_DATABASE_URL'"
		echo "export NEWSDESK_TEST_PGDIR='$NEWSDESK_TEST_PGDIR'"
		echo "# stop with: $0 stop '$NEWSDESK_TEST_PGDIR'"
		;;
	stop) pg_stop "${2:-}" ;;
	*)
		echo "usage: $0 start | stop [DIR]" >&2
		exit 2
		;;
	esac
fi
