#!/usr/bin/env python3
"""Writes the Hugging Face fixtures Kiln's import/export tests read (training/src/test/resources/hf/).

Run once with transformers (bench/pytorch/venv.sh makes a Python that has it):
    "$(bench/pytorch/venv.sh)" bench/pytorch/make_hf_fixture.py training/src/test/resources/hf

It trains a tiny byte-level BPE with GPT-2's pre-tokenizer on fixed sentences, then saves with save_pretrained:
  tiny-gpt2/             a random GPT2LMHeadModel (tied head, as GPT-2), its tokenizer files
  tiny-gpt2-untied/      the same shape with tie_word_embeddings=False (lm_head.weight is saved)
  tiny-gpt2-classifier/  a random GPT2ForSequenceClassification (2 labels, last-token pooling via pad_token_id)
and in each folder expected.json: the text, its ids, and the logits transformers computes on them
([T, V] for the LM, [num_labels] for the classifier). Seeds are fixed; the files are a few hundred KB in all.
"""
import json
import os
import sys

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel,
                          PreTrainedTokenizerFast)

EOT = "<|endoftext|>"
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Kiln trains GPT-style models on Spark and exports them to Hugging Face.",
    "Language models predict the next token from the tokens before it.",
    "A tied head uses the token embedding matrix to score every word in the vocabulary.",
    "It was the best of times, it was the worst of times.",
]
TEXT = "The lazy fox trains models."


def tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # GPT-2's: its regex, then bytes
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOT, eos_token=EOT, unk_token=EOT)


def config(vocab, eot, **more):
    return GPT2Config(vocab_size=vocab, n_positions=24, n_embd=32, n_layer=2, n_head=4, n_inner=None,
                      activation_function="gelu_new", layer_norm_epsilon=1e-5, resid_pdrop=0.0, embd_pdrop=0.0,
                      attn_pdrop=0.0, bos_token_id=eot, eos_token_id=eot, **more)


def randomize(model):
    """Every parameter (LayerNorm gains and biases too) from N(0, 0.3): a wrong layout or formula moves the logits."""
    for p in model.parameters():
        p.normal_(0.0, 0.3)
    return model.eval()


def save(model, tok, folder, ids, logits):
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"text": TEXT, "ids": ids, "logits": [[round(x, 7) for x in row] for row in logits]}, f)


def main(out):
    torch.manual_seed(19)
    tok = tokenizer()
    eot = tok.convert_tokens_to_ids(EOT)
    ids = tok(TEXT)["input_ids"]
    assert len(ids) <= 24, len(ids)
    x = torch.tensor([ids])
    with torch.no_grad():
        lm = randomize(GPT2LMHeadModel(config(len(tok), eot)))
        save(lm, tok, os.path.join(out, "tiny-gpt2"), ids, lm(x).logits[0].tolist())
        untied = randomize(GPT2LMHeadModel(config(len(tok), eot, tie_word_embeddings=False)))
        save(untied, tok, os.path.join(out, "tiny-gpt2-untied"), ids, untied(x).logits[0].tolist())
        cls = randomize(GPT2ForSequenceClassification(config(len(tok), eot, num_labels=2, pad_token_id=eot,
                                                   id2label={0: "ham", 1: "spam"},
                                                   label2id={"ham": 0, "spam": 1})))
        save(cls, tok, os.path.join(out, "tiny-gpt2-classifier"), ids, cls(x).logits.tolist())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "training/src/test/resources/hf")
