# Sourced by .ci/run (and by hand: `source .ci/postgres.sh`): start a private PostgreSQL
# server for the scale-out search test (tests/experiments/test_search_postgres.py) and
# export DESKLAB_TEST_POSTGRES, its storage URL. It listens on a Unix socket in a fresh
# folder (no TCP port to collide with) and is stopped when the calling shell exits.
# Where no server can be started, it says why and the test skips saying so.
desklab_postgres_start() {
    local bin as_owner dir
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1) || true
    if [ -z "$bin" ] && command -v initdb >/dev/null 2>&1; then
        bin=$(dirname "$(command -v initdb)")
    fi
    if [ -z "$bin" ]; then
        echo "ci: no PostgreSQL installed: the PostgreSQL search test will skip"
        return 0
    fi
    dir=$(mktemp -d /tmp/desklab-pg.XXXXXX)
    as_owner=()
    if [ "$(id -u)" -eq 0 ]; then  # initdb refuses root: the package's own user runs it
        if ! id postgres >/dev/null 2>&1; then
            echo "ci: running as root with no 'postgres' user: the PostgreSQL search test will skip"
            return 0
        fi
        chown postgres "$dir"
        as_owner=(runuser -u postgres --)
    fi
    if ! "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U desklab >"$dir/initdb.log" 2>&1 ||
       ! "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-k $dir -c listen_addresses='' -c fsync=off" start >/dev/null 2>&1 ||
       ! "${as_owner[@]}" "$bin/createdb" -h "$dir" -U desklab desklab_search >/dev/null 2>&1; then
        echo "ci: PostgreSQL did not start (see below): the PostgreSQL search test will skip"
        tail -5 "$dir/initdb.log" "$dir/server.log" 2>/dev/null || true
        return 0
    fi
    export DESKLAB_TEST_POSTGRES="postgresql://desklab@/desklab_search?host=$dir"
    DESKLAB_PG_STOP=("${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop)
    DESKLAB_PG_DIR=$dir
    trap 'desklab_postgres_stop' EXIT
    echo "ci: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $dir"
}

desklab_postgres_stop() {
    if [ -n "${DESKLAB_PG_STOP+x}" ]; then
        "${DESKLAB_PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$DESKLAB_PG_DIR"
        unset DESKLAB_PG_STOP DESKLAB_PG_DIR
    fi
}

desklab_postgres_start
