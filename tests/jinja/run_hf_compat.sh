#!/bin/sh
# Renders the chat templates of tests/data/chat_templates with @huggingface/jinja and compares
# them with chat_template_render's output. Exits 77 (skipped) where node or npm is missing.
set -eu
render=$1
templates=$2
js_dir=$3
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node and npm are needed to compare with @huggingface/jinja"
  exit 77
fi
cd "$js_dir"
# Install the pinned packages when they are missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node compare_chat_templates.mjs "$render" "$templates"
