#!/usr/bin/python3
"""Time one full Adam training step of the kit's GPT shape in PyTorch on the CPU.

bench/train.ts runs this next to its TensorFlow.js measurement, so the two numbers come from the
same machine at the same moment. The model is the kit's (src/model/gpt.ts): token embedding plus
learned positions, pre-RMSNorm blocks with causal multi-head attention (one fused q|k|v matrix,
no biases) and a ReLU MLP, a final RMSNorm and an untied output head; loss is cross-entropy on
every position. Needs Debian's PyTorch (apt-get install python3-torch).

    /usr/bin/python3 bench/torch_gpt_step.py --vocab 64 --d-model 64 --layers 2 --heads 4 \
        --seq 64 --batch 32 --mlp-ratio 4 --steps 10

The last line of stdout is one JSON object:
    {"ms_per_step", "tokens_per_s", "cpu_ms_per_step", "cpu_tokens_per_s", "threads",
     "torch_version", "steps", "config"}   (medians over the timed steps)
"""
import argparse
import json
import math
import statistics
import time

import torch


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--mlp-ratio", type=int, default=4)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after 2 warm-up steps)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    return parser.parse_args()


def rms_norm(x, gain, eps=1e-5):
    return x * torch.rsqrt(x.square().mean(dim=-1, keepdim=True) + eps) * gain


class KitGPT(torch.nn.Module):
    """The same weights, names and shapes as the kit's GPT (weights are [in, out])."""

    def __init__(self, vocab, block, d, layers, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        normal = lambda *shape, std=0.02: torch.nn.Parameter(torch.randn(*shape) * std)
        ones = lambda n: torch.nn.Parameter(torch.ones(n))
        resid = 0.02 / math.sqrt(2 * layers)
        self.wte = normal(vocab, d)
        self.wpe = normal(block, d)
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            block_params = torch.nn.ParameterDict({
                "ln1": ones(d), "wqkv": normal(d, 3 * d), "wo": normal(d, d, std=resid),
                "ln2": ones(d), "wfc": normal(d, mlp_ratio * d), "wproj": normal(mlp_ratio * d, d, std=resid),
            })
            self.blocks.append(block_params)
        self.lnf = ones(d)
        self.head = normal(d, vocab)

    def forward(self, ids):
        batch, length = ids.shape
        d = self.wte.shape[1]
        hd = d // self.heads
        x = self.wte[ids] + self.wpe[:length]
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        for p in self.blocks:
            qkv = rms_norm(x, p["ln1"]) @ p["wqkv"]
            # [B, T, 3D] -> three [B, H, T, hd]
            q, k, v = qkv.view(batch, length, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
            scores = scores.masked_fill(~causal, float("-inf"))
            heads = torch.softmax(scores, dim=-1) @ v
            x = x + heads.transpose(1, 2).reshape(batch, length, d) @ p["wo"]
            x = x + torch.relu(rms_norm(x, p["ln2"]) @ p["wfc"]) @ p["wproj"]
        return rms_norm(x, self.lnf) @ self.head


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = KitGPT(args.vocab, args.seq, args.d_model, args.layers, args.heads, args.mlp_ratio)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq))
    targets = torch.randint(0, args.vocab, (args.batch, args.seq))

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(2):
        step()
    times, cpu_times = [], []
    for i in range(args.steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = step()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
        print(f"torch step {i + 1}/{args.steps}: {times[-1] * 1000:.1f} ms (loss {loss:.3f})", flush=True)
    ms = statistics.median(times) * 1000
    cpu_ms = statistics.median(cpu_times) * 1000
    print(json.dumps({
        "ms_per_step": round(ms, 2),
        "tokens_per_s": round(args.batch * args.seq / (ms / 1000), 1),
        # CPU time of this process: less disturbed than wall time when other jobs share the cores.
        "cpu_ms_per_step": round(cpu_ms, 2),
        "cpu_tokens_per_s": round(args.batch * args.seq / (cpu_ms / 1000), 1),
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "steps": args.steps,
        "config": {"vocab": args.vocab, "d_model": args.d_model, "layers": args.layers, "heads": args.heads,
                   "mlp_ratio": args.mlp_ratio, "seq": args.seq, "batch": args.batch},
    }))


if __name__ == "__main__":
    main()
