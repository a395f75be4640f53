#!/usr/bin/env python3
"""The PyTorch peer of Kiln's training benchmarks: the same GPT (pre-LayerNorm blocks, learned positions, tanh GELU,
untied head), the same optimizer (AdamW, betas 0.9/0.95, weight decay 0.1, global-norm clipping at 1.0) on random
tokens, in eager mode on the CPU. Prints one JSON line: tokens per second over the measured steps, and torch's own
float32 matrix-product ceiling on the same threads (square 1024 and 2048, best of 3: the shapes Kiln's benchmark
measures ND4J's ceiling on), so both MFUs are against their own library's rate and the BLAS gap shows separately.

    python3 bench/pytorch/gpt_step.py --model S --threads 1 [--steps 20] [--warmup 3]

Model S: vocab 8192, context 128, d 128, 2 layers, 4 heads, batch 16. M: context 256, d 256, 4 layers, batch 8.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {
    "S": dict(vocab=8192, context=128, d=128, layers=2, heads=4, batch=16),
    "M": dict(vocab=8192, context=256, d=256, layers=4, heads=4, batch=8),
}


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="S", choices=sorted(MODELS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = MODELS[a.model]
    model = Gpt(m["vocab"], m["context"], m["d"], m["layers"], m["heads"])
    decay = [q for n, q in model.named_parameters() if q.dim() >= 2]
    other = [q for n, q in model.named_parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    data = torch.randint(0, m["vocab"], (m["batch"], m["context"] + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    start_cpu = time.process_time()
    for _ in range(a.steps):
        loss = step()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - start_cpu  # all threads of this process
    tokens = a.steps * m["batch"] * m["context"]
    ceiling = 0.0
    for n in (1024, 2048):
        u, w = torch.rand(n, n), torch.rand(n, n)
        torch.mm(u, w)
        for _ in range(3):
            t0 = time.perf_counter()
            torch.mm(u, w)
            ceiling = max(ceiling, 2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    print(json.dumps({"model": a.model, "threads": a.threads, "steps": a.steps, "tokens_per_s": tokens / seconds,
                      "ms_per_step": 1000 * seconds / a.steps, "cpu_ms_per_step": 1000 * cpu_seconds / a.steps,
                      "tokens_per_cpu_s": tokens / cpu_seconds, "matmul_gflops": ceiling, "loss": loss, "torch": torch.__version__,
                      "ln_vocab": math.log(m["vocab"])}))


if __name__ == "__main__":
    main()
