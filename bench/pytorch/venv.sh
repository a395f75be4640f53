#!/usr/bin/env bash
# Prints the path of a Python that has the PyTorch peers' packages (torch CPU, transformers, safetensors, tokenizers),
# creating a virtual environment for them under ~/.cache/kiln/bench-venv on first use. torch comes from the CPU wheel
# in pip's find-links folder when one is there (a plain `pip install torch` picks a ~555 MB CUDA build), else from
# PyTorch's CPU index. Progress goes to stderr; stdout is only the path.
set -euo pipefail
venv="${KILN_BENCH_VENV:-$HOME/.cache/kiln/bench-venv}"
py="$venv/bin/python"
if [[ -x "$py" ]] && "$py" -c 'import torch, transformers, safetensors, tokenizers' 2>/dev/null; then
  echo "$py"
  exit 0
fi
echo "bench/pytorch/venv.sh: creating $venv (torch CPU, transformers, safetensors, tokenizers)" >&2
python3 -m venv "$venv" >&2
links="$(pip config get global.find-links 2>/dev/null || true)"
wheel="$(ls "${links:-/nonexistent}"/torch-*+cpu-*.whl 2>/dev/null | head -1 || true)"
if [[ -n "$wheel" ]]; then
  "$py" -m pip install -q --no-deps "$wheel" >&2
  "$py" -m pip install -q filelock typing-extensions sympy networkx jinja2 fsspec >&2
else
  "$py" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu >&2
fi
"$py" -m pip install -q transformers safetensors tokenizers numpy pyarrow >&2
echo "$py"
