#!/usr/bin/env python3
"""Loads a Hugging Face folder (e.g. Kiln's `kiln export`) with transformers' Auto classes and no code, encodes a text
with its tokenizer and writes {"ids": [...], "logits": [[...] per position] (a classifier: [...] per label)} as JSON.

    python hf_logits.py FOLDER TEXT OUT.json
"""
import json
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer


def main(folder, text, out):
    tok = AutoTokenizer.from_pretrained(folder)
    classifier = any(a.endswith("ForSequenceClassification") for a in AutoConfig.from_pretrained(folder).architectures)
    auto = AutoModelForSequenceClassification if classifier else AutoModelForCausalLM
    model = auto.from_pretrained(folder).eval()
    encoded = tok(text, return_tensors="pt")  # everything the tokenizer returns goes in, as a user's code does
    ids = encoded["input_ids"][0].tolist()
    with torch.no_grad():
        logits = model(**encoded).logits[0]  # [T, V], or [num_labels] for a classifier
    with open(out, "w") as f:
        json.dump({"ids": ids, "logits": logits.tolist(), "class": type(model).__name__}, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
