#!/bin/sh
# The compose stack's accounts, made once at its first start (and left alone afterwards): an admin,
# a monitor for Prometheus, and a gateway account per site gateway named in PRINTWARDEN_GATEWAYS
# ("gw-milano:milano-hq,gw-torino:torino"). Their tokens are written to SECRETS_DIR, one file each
# (NAME.token, mode 600), never to the log: Prometheus reads monitor.token; the admin gives the
# gateway tokens to the sites.
set -eu
APP_DIR=${APP_DIR:-/app}
DATA_DIR=${PRINTWARDEN_DATA_DIR:-/data}
SECRETS_DIR=${SECRETS_DIR:-/secrets}
mkdir -p "$SECRETS_DIR"
accounts() { node --import tsx "$APP_DIR/src/access/cli.ts" add "$@" --if-missing --data-dir "$DATA_DIR"; }
accounts admin --role admin --token-file "$SECRETS_DIR/admin.token"
accounts monitor --role monitor --token-file "$SECRETS_DIR/monitor.token"
# A monitor token file readable by Prometheus's own user.
chmod 644 "$SECRETS_DIR/monitor.token" 2>/dev/null || true
old_ifs=$IFS
IFS=','
for pair in ${PRINTWARDEN_GATEWAYS:-}; do
  [ -n "$pair" ] || continue
  name=${pair%%:*}
  site=${pair#*:}
  accounts "$name" --role gateway --site "$site" --token-file "$SECRETS_DIR/$name.token"
done
IFS=$old_ifs
