#!/usr/bin/env python3
"""The peer for HfBenchmark: transformers loading a Hugging Face folder (from_pretrained) and saving it
(save_pretrained, safetensors) in the same sitting; prints {"load_s": ..., "save_s": ..., "parameters": ...} as JSON.

    python hf_io_peer.py FOLDER SCRATCH_FOLDER
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main(folder, scratch):
    torch.set_num_threads(1)
    t = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder)
    load = time.perf_counter() - t
    t = time.perf_counter()
    model.save_pretrained(scratch, safe_serialization=True)
    save = time.perf_counter() - t
    print(json.dumps({"load_s": load, "save_s": save, "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
