#!/usr/bin/python3
"""Time one full training step of the kit's GPT in PyTorch on the CPU.

bench/train.ts runs this next to its TensorFlow.js measurement, so the numbers come from the same
machine at the same moment. The model is the kit's (src/model/gpt.ts): token embedding plus
learned positions, pre-RMSNorm blocks with causal multi-head attention (one fused q|k|v matrix,
no biases) and a ReLU MLP, a final RMSNorm and an untied output head. Two steps:

  lm (default)  cross-entropy on every position of a [batch, seq] batch, Adam.
  rl            --rl-layout FILE (written by bench/workloads.ts from bench/rl-step-shape.json):
                the micro-batches of one real MURPHY update in the kit's shared-prompt layout
                (src/murphy/packing.ts): per micro-batch, each sibling group's prompt runs once
                (keys and values of every layer), each completion row attends to its prompt's
                keys and values and to its own positions; the clipped surrogate (GRPO,
                token-normalised over the whole batch) at the sampling temperature on completion
                tokens plus the entropy diagnostics, gradients accumulated; then the global-norm
                clip and one AdamW step, as src/model/train.ts applyAccumulated does.

Needs Debian's PyTorch with an optimised BLAS (apt-get install python3-torch libopenblas0-pthread).

    /usr/bin/python3 bench/torch_gpt_step.py --vocab 64 --d-model 64 --layers 2 --heads 4 \
        --seq 64 --batch 32 --steps 10 --threads 1

Without --serve the last line of stdout is one JSON object: {"ms_per_step", "tokens_per_s",
"cpu_ms_per_step", "threads", "blas", ...} (medians over the timed steps). With --serve the
process prints one JSON line {"ready": ..., "blas": ...} after two warm-up steps, then runs one
step per "step" line on stdin and answers with {"ms", "cpu_ms", "loss"}; "quit" ends it. This lets
bench/train.ts alternate kit and torch steps.
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import sys
import time

import torch


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=64)
    parser.add_argument("--block", type=int, default=0, help="positions in wpe; 0 = --seq (or the longest rl row)")
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--mlp-ratio", type=int, default=4)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rl-layout", default="", help="a layout file of bench/workloads.ts: time one MURPHY update instead")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip-norm", type=float, default=1.0, help="rl step only; 0 = off")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after 2 warm-up steps)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 keeps torch's default")
    parser.add_argument("--serve", action="store_true", help="run one step per 'step' line on stdin")
    return parser.parse_args()


def blas_report():
    """Which BLAS this process actually loaded, as torch and the dynamic linker see it."""
    config = torch.__config__.show()
    blas_info = next((part.split("=", 1)[1] for part in config.replace(",", " ").split() if part.startswith("BLAS_INFO=")), "unknown")
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if ("blas" in line or "lapack" in line) and line.split()[-1].startswith("/")})
    report = {"torch_blas_info": blas_info, "libraries": libs, "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}}
    openblas = [lib for lib in libs if "libopenblas" in os.path.basename(lib)]
    if openblas:
        lib = ctypes.CDLL(openblas[0])
        for name in ("openblas_get_corename", "openblas_get_config"):
            getattr(lib, name).restype = ctypes.c_char_p
        report.update(kind="openblas", core=lib.openblas_get_corename().decode(), config=lib.openblas_get_config().decode(), openblas_threads=lib.openblas_get_num_threads())
    elif any("/blas/libblas.so" in lib for lib in libs):
        # Debian's reference BLAS (netlib): the unoptimised fallback of python3-torch alone.
        report.update(kind="reference")
    else:
        report.update(kind="other")
    return report


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

    def project(self, x, p):
        """Queries, keys and values [B, H, T, hd] of the normed residual stream x [B, T, D]."""
        batch, length, d = x.shape
        qkv = rms_norm(x, p["ln1"]) @ p["wqkv"]
        return qkv.view(batch, length, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)

    def finish(self, x, p, heads):
        """Merge heads [B, H, T, hd], project into the residual stream, then the MLP."""
        batch, length, d = x.shape
        x = x + heads.transpose(1, 2).reshape(batch, length, d) @ p["wo"]
        return x + torch.relu(rms_norm(x, p["ln2"]) @ p["wfc"]) @ p["wproj"]

    def forward(self, ids):
        length = ids.shape[1]
        hd = self.wte.shape[1] // self.heads
        x = self.wte[ids] + self.wpe[:length]
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        for p in self.blocks:
            q, k, v = self.project(x, p)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
            scores = scores.masked_fill(~causal, float("-inf"))
            x = self.finish(x, p, torch.softmax(scores, dim=-1) @ v)
        return rms_norm(x, self.lnf) @ self.head

    def prefix_keys_values(self, ids):
        """Keys and values [G, H, P, hd] of every layer for prompt prefixes ids [G, P] (right-padded)."""
        length = ids.shape[1]
        hd = self.wte.shape[1] // self.heads
        x = self.wte[ids] + self.wpe[:length]
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        out = []
        for i, p in enumerate(self.blocks):
            q, k, v = self.project(x, p)
            out.append((k, v))
            if i < len(self.blocks) - 1:  # nothing reads the last layer's outputs of the prefix
                scores = ((q @ k.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(~causal, float("-inf"))
                x = self.finish(x, p, torch.softmax(scores, dim=-1) @ v)
        return out

    def after_prefix(self, ids, positions, prefix, row_group, prefix_real):
        """Logits [B, S, V] of rows ids [B, S] continuing prefix row_group[b]; prefix_real [B, P] marks real slots."""
        batch, length = ids.shape
        hd = self.wte.shape[1] // self.heads
        x = self.wte[ids] + self.wpe[positions]
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        visible = torch.cat([prefix_real[:, None, None, :].expand(batch, 1, length, -1), causal.expand(batch, 1, length, length)], dim=-1)
        for p, (kp, vp) in zip(self.blocks, prefix):
            q, k, v = self.project(x, p)
            keys = torch.cat([kp[row_group], k], dim=2)
            values = torch.cat([vp[row_group], v], dim=2)
            scores = ((q @ keys.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(~visible, float("-inf"))
            x = self.finish(x, p, torch.softmax(scores, dim=-1) @ values)
        return rms_norm(x, self.lnf) @ self.head


def lm_step_fn(args, model):
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq))
    targets = torch.randint(0, args.vocab, (args.batch, args.seq))

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, args.batch * args.seq


def rl_batches(args, layout):
    """The kit's shared-prompt micro-batches (src/murphy/packing.ts), with random tokens (pad id 0)."""
    batches = []
    for b in layout["batches"]:
        P, S = b["P"], b["S"]
        prefix = torch.zeros(len(b["prefixLengths"]), P, dtype=torch.long)
        prefix_real = torch.zeros(len(b["prefixLengths"]), P, dtype=torch.bool)
        for g, n in enumerate(b["prefixLengths"]):
            prefix[g, :n] = torch.randint(1, args.vocab, (n,))
            prefix_real[g, :n] = True
        rows = len(b["rows"])
        ids = torch.zeros(rows, S, dtype=torch.long)
        targets = torch.zeros(rows, S, dtype=torch.long)
        positions = torch.zeros(rows, S, dtype=torch.long)
        mask = torch.zeros(rows, S)
        row_group = torch.tensor([g for g, _ in b["rows"]], dtype=torch.long)
        for r, (g, n) in enumerate(b["rows"]):
            completion = torch.randint(1, args.vocab, (n,))
            ids[r, 0] = int(torch.randint(1, args.vocab, (1,)))  # the prompt's last token
            ids[r, 1:n] = completion[:-1]
            targets[r, :n] = completion
            start = b["prefixLengths"][g]
            positions[r] = (start + torch.arange(S)).clamp(max=start + max(0, n - 1))
            mask[r, :n] = 1
        old = torch.full((rows, S), -math.log(args.vocab)) + 0.01 * torch.randn(rows, S)
        batches.append({"prefix": prefix, "prefix_real": prefix_real[row_group], "ids": ids, "positions": positions, "targets": targets,
                        "row_group": row_group, "mask": mask, "old": old, "advantages": torch.randn(rows)})
    return batches


def rl_step_fn(args, model, layout):
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    batches = rl_batches(args, layout)
    normaliser = layout["batchTokens"]  # every kept completion's tokens, trained or skipped (src/murphy/update.ts)
    temperature = layout["temperature"]
    eps_low = eps_high = 0.2

    def step():
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for b in batches:
            mask = b["mask"]
            prefix = model.prefix_keys_values(b["prefix"])
            logits = model.after_prefix(b["ids"], b["positions"], prefix, b["row_group"], b["prefix_real"])
            logp_all = torch.log_softmax(logits / temperature, dim=-1)
            logp = logp_all.gather(-1, b["targets"].unsqueeze(-1)).squeeze(-1)
            with torch.no_grad():
                entropy = -(logp_all.exp() * logp_all).sum(-1)  # diagnostics, as the kit computes them
                float((entropy * mask).sum())
            log_ratio = torch.where(mask > 0, logp - b["old"], torch.zeros_like(logp))
            ratio = log_ratio.exp()
            adv = b["advantages"].unsqueeze(1)
            surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - eps_low, 1 + eps_high) * adv)
            loss = (-surrogate * mask).sum() / normaliser
            loss.backward()
            total += loss.item()
        if args.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        optimizer.step()
        return total

    tokens = sum(b["prefix"].numel() + b["ids"].numel() for b in batches)
    return step, tokens


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layout = None
    if args.rl_layout:
        with open(args.rl_layout) as f:
            layout = json.load(f)
    longest = max(b["P"] + b["S"] for b in layout["batches"]) if layout else args.seq
    block = args.block or longest
    model = KitGPT(args.vocab, block, args.d_model, args.layers, args.heads, args.mlp_ratio)
    step, tokens = rl_step_fn(args, model, layout) if layout else lm_step_fn(args, model)
    blas = blas_report()

    def timed():
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = step()
        return (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000, loss

    for _ in range(2):
        step()
    if args.serve:
        print(json.dumps({"ready": True, "tokens": tokens, "threads": torch.get_num_threads(), "torch_version": torch.__version__, "blas": blas}), flush=True)
        for line in sys.stdin:
            if line.strip() == "quit":
                break
            ms, cpu_ms, loss = timed()
            print(json.dumps({"ms": round(ms, 3), "cpu_ms": round(cpu_ms, 3), "loss": loss}), flush=True)
        return
    times, cpu_times = [], []
    for i in range(args.steps):
        ms, cpu_ms, loss = timed()
        times.append(ms)
        cpu_times.append(cpu_ms)
        print(f"torch step {i + 1}/{args.steps}: {ms:.1f} ms (loss {loss:.3f})", flush=True)
    ms = statistics.median(times)
    cpu_ms = statistics.median(cpu_times)
    print(json.dumps({
        "ms_per_step": round(ms, 2),
        "tokens_per_s": round(tokens / (ms / 1000), 1),
        # CPU time of this process: less disturbed than wall time when other jobs share the cores.
        "cpu_ms_per_step": round(cpu_ms, 2),
        "cpu_tokens_per_s": round(tokens / (cpu_ms / 1000), 1),
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "blas": blas,
        "steps": args.steps,
        "tokens_per_step": tokens,
    }))


if __name__ == "__main__":
    main()
