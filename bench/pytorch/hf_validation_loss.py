#!/usr/bin/env python3
"""The mean next-token loss (nats per token) that transformers computes for a Hugging Face folder (e.g. `kiln export`
of a pre-trained model) on the rows of a `kiln tokenize` split, read from Kiln's Arrow shards as Kiln's trainer reads
them: each row is T+1 ids, positions 0..T-1 predict 1..T. The same quantity as `kiln pretrain`'s validation loss
(metrics.jsonl) over the same rows, so the two can be put side by side.

    python hf_validation_loss.py HF_FOLDER TOKENIZED_FOLDER [split=validation] [max_rows=0 (all)] [batch=16]
"""
import json
import os
import sys

import numpy as np
import pyarrow.ipc as ipc
import torch
from transformers import AutoModelForCausalLM


def rows_of_split(tokenized, split, max_rows):
    with open(os.path.join(tokenized, "manifest.json")) as f:
        manifest = json.load(f)
    out = []
    for shard in manifest["shards"]:
        if shard["split"] != split:
            continue
        with ipc.open_file(os.path.join(tokenized, shard["path"])) as reader:
            tokens = reader.read_all().column("tokens").combine_chunks()  # FixedSizeList<Int32>[T+1]
            width = tokens.type.list_size
            out.append(tokens.flatten().to_numpy().reshape(-1, width))
    rows = np.concatenate(out)
    return rows[:max_rows] if max_rows > 0 else rows


def main(folder, tokenized, split="validation", max_rows="0", batch="16"):
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    rows = rows_of_split(tokenized, split, int(max_rows))
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    total, count = 0.0, 0
    b = int(batch)
    with torch.no_grad():
        for i in range(0, len(rows), b):
            chunk = torch.from_numpy(rows[i:i + b].astype(np.int64))
            logits = model(input_ids=chunk[:, :-1]).logits.double()          # [B, T, V]
            nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                                                    reduction="sum")
            total += nll.item()
            count += chunk[:, 1:].numel()
    print(json.dumps({"rows": int(len(rows)), "tokens": count, "loss": total / count}))


if __name__ == "__main__":
    main(*sys.argv[1:])
