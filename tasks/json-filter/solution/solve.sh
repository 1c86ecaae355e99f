#!/bin/bash
set -euo pipefail
cd /app
jq '[.users[] | select(.active and .age >= 18) | .email | ascii_downcase] | sort' users.json > active_emails.json
jq '[.users[] | .name as $n | .teams[] | {team: ., name: $n}]
    | group_by(.team) | map({key: .[0].team, value: (map(.name) | sort)}) | from_entries' users.json > teams.json
cat active_emails.json teams.json
