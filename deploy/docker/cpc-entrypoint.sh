#!/bin/sh
# cpc-entrypoint: the image's entry point. The first argument picks the program:
#   node [flags]        cpc-node start [flags]      libp2p /ip4/0.0.0.0/tcp/4003, metrics 0.0.0.0:9464
#   bootstrap [flags]   cpc-bootstrap [flags]       libp2p /ip4/0.0.0.0/tcp/4001, metrics 0.0.0.0:9465
#   relay [flags]       cpc-relay [flags]           libp2p /ip4/0.0.0.0/tcp/4002, metrics 0.0.0.0:9466
#   cpc [args]          the cpc CLI (gRPC client), e.g. `cpc status`, `cpc --addr 127.0.0.1:50052 peers`
#   install-identity SRC   copy a key file (a Secret) to $CPC_DATA_DIR/identity.key, mode 0600
#   anything else       run as a command (sh, node ...)
# Inside a container the apps' loopback defaults would be unreachable, so CPC_LISTEN and CPC_METRICS_BIND
# default to all interfaces here (set them to override; flags override both). gRPC stays on loopback
# unless CPC_GRPC_BIND (and then CPC_GRPC_TOKEN) is set: use `docker compose exec <svc> cpc-entrypoint cpc`.
set -eu
APP_ROOT="${CPC_APP_ROOT:-/app}"
role="${1:-}"
[ $# -gt 0 ] && shift

case "$role" in
  node) main="$APP_ROOT/apps/node/dist/main.js"; p2p=4003; metrics=9464; set -- start "$@" ;;
  bootstrap) main="$APP_ROOT/apps/bootstrap/dist/main.js"; p2p=4001; metrics=9465 ;;
  relay) main="$APP_ROOT/apps/relay/dist/main.js"; p2p=4002; metrics=9466 ;;
  cpc) exec node "$APP_ROOT/apps/node/dist/cli/main.js" "$@" ;;
  install-identity)
    src="${1:?usage: cpc-entrypoint install-identity KEYFILE}"
    dir="${CPC_DATA_DIR:?CPC_DATA_DIR is not set}"
    mkdir -p "$dir"
    # Write then rename, like the apps do: a crash leaves the old key or the new one.
    cp "$src" "$dir/identity.key.tmp"
    chmod 0600 "$dir/identity.key.tmp"
    mv -f "$dir/identity.key.tmp" "$dir/identity.key"
    echo "cpc-entrypoint: installed $src as $dir/identity.key"
    exit 0 ;;
  "" | -h | --help | help)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
  *) exec "$role" "$@" ;;
esac

export CPC_LISTEN="${CPC_LISTEN:-/ip4/0.0.0.0/tcp/$p2p}"
export CPC_METRICS_BIND="${CPC_METRICS_BIND:-0.0.0.0:$metrics}"
exec node "$main" "$@"
