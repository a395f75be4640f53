#!/usr/bin/env bash
# Spark GPU discovery script for executors (spark.executor.resource.gpu.discoveryScript): prints the GPUs this host
# has as Spark's ResourceInformation JSON, e.g. {"name": "gpu", "addresses": ["0","1"]}. Spark then hands each
# executor the address(es) it was assigned, and Kiln binds ND4J's CUDA backend to that device.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo '{"name": "gpu", "addresses": []}'
  exit 0
fi
addrs=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -E '^[0-9]+$' | sed -e 's/.*/"&"/' | paste -sd, -)
echo "{\"name\": \"gpu\", \"addresses\": [${addrs}]}"
