#!/bin/bash
set -euo pipefail
cd /app
tar --exclude='*.tmp' --exclude='data/cache' -czf backup.tar.gz data
sha256sum backup.tar.gz > backup.sha256
tar -tzf backup.tar.gz
sha256sum -c backup.sha256
