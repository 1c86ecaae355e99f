#!/bin/bash
set -euo pipefail
cd /app/repo
git status --short
git switch -c release-1.0
git commit -am "Release 1.0"
git tag -a v1.0 -m "Version 1.0"
git log --oneline --all --decorate
