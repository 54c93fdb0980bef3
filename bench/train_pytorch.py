"""Training speed of the Track2Seq network in PyTorch, the reference of the train_vs_pytorch benchmarks.

The network and the batch shape match lib/model: embedding 128, two LSTM layers of 128 units, a dense
projection to the vocabulary, Adam with learning rate 0.001, time-major windows with the LSTM state carried
from step to step. The loss is the full softmax, or the sampled softmax with negatives shared by the batch.
Negatives are drawn from the unigram counts raised to 0.75. Every logit has its log expected count
subtracted, and negatives equal to a row's target are masked.

Prints one JSON object: tokens per second over the measured steps, peak resident memory and the thread
count. Run it with Debian's interpreter, /usr/bin/python3, which has python3-torch.

Usage: /usr/bin/python3 bench/train_pytorch.py --vocab 20000 --softmax full [--batch 32] [--window 50]
       [--warmup 2] [--steps 10] [--negatives 1000] [--seed 1]
"""

import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=int, required=True, help="vocabulary size")
    parser.add_argument("--softmax", choices=["full", "sampled"], required=True)
    parser.add_argument("--negatives", type=int, default=1000, help="negatives per step, sampled only")
    parser.add_argument("--batch", type=int, default=32, help="parallel streams per step")
    parser.add_argument("--window", type=int, default=50, help="tokens per stream and step")
    parser.add_argument("--warmup", type=int, default=2, help="steps run before timing")
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


class Track2Seq(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, 128)
        self.lstm = torch.nn.LSTM(128, 128, num_layers=2)
        self.output = torch.nn.Linear(128, vocab)

    def forward(self, inputs, state):
        hidden, state = self.lstm(self.embedding(inputs), state)
        return hidden.reshape(-1, 128), state


def zipf_stream(vocab, length, rng):
    """Token ids with probability proportional to 1 / (rank + 1), as skewed as track counts."""
    weights = 1.0 / np.arange(1, vocab + 1)
    return torch.from_numpy(rng.choice(vocab, size=length, p=weights / weights.sum()).astype(np.int64))


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    total_steps = args.warmup + args.steps
    tokens = zipf_stream(args.vocab, args.batch * args.window * total_steps + 1, rng)
    # Stream s reads the s-th contiguous piece, and step i reads window i of every stream, time-major [T, B].
    inputs = tokens[:-1].reshape(args.batch, total_steps, args.window)
    targets = tokens[1:].reshape(args.batch, total_steps, args.window)

    model = Track2Seq(args.vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    counts = torch.bincount(tokens, minlength=args.vocab).double() ** 0.75
    sampling = counts / counts.sum()

    state = None
    started = None
    for step in range(total_steps):
        if step == args.warmup:
            started = time.perf_counter()
        x = inputs[:, step, :].t().contiguous()
        y = targets[:, step, :].t().reshape(-1)
        hidden, state = model(x, state)
        state = tuple(s.detach() for s in state)

        if args.softmax == "full":
            loss = F.cross_entropy(model.output(hidden), y)
        else:
            negatives = torch.multinomial(sampling, args.negatives, replacement=True)
            log_expected = torch.log(args.negatives * sampling).float()
            weight, bias = model.output.weight, model.output.bias
            true_logits = (hidden * weight[y]).sum(1) + bias[y] - log_expected[y]
            negative_logits = hidden @ weight[negatives].t() + bias[negatives] - log_expected[negatives]
            negative_logits = negative_logits.masked_fill(y[:, None] == negatives[None, :], -1e9)
            logits = torch.cat([true_logits[:, None], negative_logits], 1)
            loss = F.cross_entropy(logits, torch.zeros_like(y))

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()

    seconds = time.perf_counter() - started
    print(json.dumps({
        "tokens_per_s": args.steps * args.batch * args.window / seconds,
        "seconds": seconds,
        "final_loss": loss.item(),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
