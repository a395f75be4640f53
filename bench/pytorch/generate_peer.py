#!/usr/bin/env python3
"""The Hugging Face peer of Kiln's GenerateBenchmark: transformers' GPT2LMHeadModel.generate() (KV cache on, its
default) with Kiln's model shape, on the same prompts encoded by Kiln's own tokenizer.json, with the same sampling
(top-k, temperature, exactly N new tokens), in batches, on the CPU. The weights are a seeded random initialisation:
generation's cost does not depend on their values, and min_new_tokens = max_new_tokens makes every sequence produce
exactly N tokens. Prints one JSON line: new tokens per second, best of the measured repeats after one warm-up pass,
and new tokens per CPU-second of this process (all its threads), best of the same repeats.

    python3 bench/pytorch/generate_peer.py --tokenizer T.json --prompts P.txt --threads 1 \
        [--count 32] [--new-tokens 48] [--batch 8] [--repeats 3] [--context 128] [--d 128] [--layers 2] [--heads 4]
"""
import argparse
import json
import time

import torch
import transformers
from tokenizers import Tokenizer
from transformers import GPT2Config, GPT2LMHeadModel


def batches(ids, size, pad):
    """Left-padded id tensors and attention masks, `size` prompts at a time (generate() appends on the right)."""
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        width = max(len(x) for x in chunk)
        tokens = torch.tensor([[pad] * (width - len(x)) + x for x in chunk])
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in chunk])
        yield tokens, mask


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--prompts", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--count", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=48)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--top-k", type=int, default=40)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--end-of-text", default="<|endoftext|>")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    tok = Tokenizer.from_file(a.tokenizer)
    eot = tok.token_to_id(a.end_of_text)
    lines = [l for l in open(a.prompts, encoding="utf-8").read().splitlines() if l.strip()]
    ids = [tok.encode(lines[i % len(lines)], add_special_tokens=False).ids or [eot] for i in range(a.count)]
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=a.context, n_embd=a.d, n_layer=a.layers,
                     n_head=a.heads, activation_function="gelu_new", bos_token_id=eot, eos_token_id=eot,
                     pad_token_id=eot)
    model = GPT2LMHeadModel(cfg).eval()

    def run():
        produced = 0
        start, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            for tokens, mask in batches(ids, a.batch, eot):
                out = model.generate(tokens, attention_mask=mask, do_sample=True, top_k=a.top_k,
                                     temperature=a.temperature, max_new_tokens=a.new_tokens,
                                     min_new_tokens=a.new_tokens, pad_token_id=eot)
                produced += (out.shape[1] - tokens.shape[1]) * tokens.shape[0]
        return produced, time.perf_counter() - start, time.process_time() - cpu

    run()  # warm-up
    runs = [run() for _ in range(a.repeats)]
    best = max((n / s, n, s) for n, s, _ in runs)
    best_cpu = max(n / c for n, _, c in runs)
    print(json.dumps({"tokens_per_s": best[0], "tokens": best[1], "seconds": best[2], "tokens_per_cpu_s": best_cpu,
                      "threads": a.threads,
                      "batch": a.batch, "torch": torch.__version__, "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
