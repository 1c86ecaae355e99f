#!/usr/bin/env bash
# Makes sure a Docker engine answers. As root on Debian with none answering: installs docker.io
# (and debootstrap, for the offline sandbox base) and starts dockerd detached. Otherwise prints
# one line saying what to do and exits 3.
set -uo pipefail
python=${PYTHON:-python3}
engine_answers() { "$python" -c 'import docker; docker.from_env(timeout=5).ping()' >/dev/null 2>&1; }

if engine_answers; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "eval-agent: no Docker engine answers; start it (sudo systemctl start docker, or sudo dockerd &) and make sure your user is in the docker group" >&2
  exit 3
fi
missing=""
command -v dockerd >/dev/null || missing="docker.io"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
if [ -n "$missing" ]; then
  echo "installing$missing ..." >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || {
    echo "eval-agent: could not install$missing with apt-get" >&2; exit 3; }
fi
# the default engine's own process (its pid file): a second engine on another socket does not count
if ! { [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; then
  echo "starting dockerd ..." >&2
  setsid nohup dockerd >/var/log/eval-agent-dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 60); do
  engine_answers && exit 0
  sleep 1
done
echo "eval-agent: dockerd did not answer within 60 s; see /var/log/eval-agent-dockerd.log" >&2
exit 3
