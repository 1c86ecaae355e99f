#!/bin/bash
set -euo pipefail
install -d -o www-data -g www-data -m 755 /var/log/site
cat > /usr/local/bin/site-server.py <<'PY'
"""Serves /srv/site on port 80: binds as root, then runs as www-data."""
import functools
import http.server
import os
import pwd

user = pwd.getpwnam("www-data")
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="/srv/site")
server = http.server.ThreadingHTTPServer(("0.0.0.0", 80), handler)
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
log = open("/var/log/site/access.log", "a", buffering=1)


def log_message(self, format, *args):
    log.write("%s %s\n" % (self.address_string(), format % args))


handler.func.log_message = log_message
server.serve_forever()
PY
nohup python3 /usr/local/bin/site-server.py > /dev/null 2>&1 &
for _ in $(seq 50); do curl -fsS http://127.0.0.1/index.html && exit 0; sleep 0.1; done
echo "the server did not answer" >&2
exit 1
