#!/usr/bin/python3
"""Train the bamba-demo model: a small Bamba (Mamba2 + attention) on Jane Austen's novels.

    /usr/bin/python3 tools/train_demo/train.py              # data, tokenizer, training, export
    /usr/bin/python3 tools/train_demo/train.py --sample     # generate from the exported model

Everything comes from Debian packages (python3-torch, python3-matplotlib, R and
r-cran-janeaustenr); see README.md beside this file.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import model as bamba  # noqa: E402
import safetensors_io  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GENERATION = {"do_sample": True, "temperature": 0.8, "top_k": 40, "top_p": 0.95,
              "repetition_penalty": 1.1, "max_new_tokens": 64}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--ctx", type=int, default=512, help="training context (tokens incl. BOS)")
    p.add_argument("--batch", type=int, default=4, help="sequences per step")
    p.add_argument("--steps", type=int, default=450)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--eval-ctx", type=int, default=256, help="window of heldout_eval.json")
    p.add_argument("--heldout-bytes", type=int, default=8192,
                   help="bytes of every novel's held-out tail copied into heldout.txt")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--work-dir", default=os.path.join(REPO, "build", "train_demo"),
                   help="corpus export and training checkpoint")
    p.add_argument("--out", default=os.path.join(REPO, "models", "bamba-demo"))
    p.add_argument("--resume", action="store_true", help="continue from the work-dir checkpoint")
    p.add_argument("--sample", action="store_true",
                   help="only generate from the exported model (and measure dictionary words)")
    p.add_argument("--n-samples", type=int, default=24)
    p.add_argument("--prompt", default=None, help="--sample: one prompt instead of the BOS-only set")
    p.add_argument("--check-golden", metavar="DIR",
                   help="only compare the forward with a golden test folder (float64)")
    return p.parse_args()


# ---------------------------------------------------------------------------------------------
# Small utilities

class Progress:
    """One-line progress bar with ETA on stderr."""

    def __init__(self, total, start_step=0):
        self.total, self.start_step, self.t0 = total, start_step, time.time()

    def update(self, step, text):
        done = step - self.start_step
        elapsed = time.time() - self.t0
        eta = elapsed / max(done, 1) * (self.total - step)
        width = 30
        fill = int(width * step / self.total)
        bar = "#" * fill + "-" * (width - fill)
        sys.stderr.write(f"\r[{bar}] {step}/{self.total} {text} "
                         f"{fmt_time(elapsed)} elapsed, ETA {fmt_time(eta)}   ")
        sys.stderr.flush()

    def newline(self):
        sys.stderr.write("\n")


def fmt_time(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def openblas_dir(work_dir):
    """Directory holding an OpenBLAS libblas.so.3.  Debian's torch links the generic
    libblas.so.3, which is the slow reference BLAS unless OpenBLAS is selected; the
    package is unpacked into the work directory (not installed) so the machine's BLAS
    choice stays as it is."""
    system = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
    if os.path.exists(os.path.join(system, "libblas.so.3")):
        return system
    local = os.path.join(work_dir, "openblas")
    lib = os.path.join(local, "usr/lib/x86_64-linux-gnu/openblas-pthread")
    if not os.path.exists(os.path.join(lib, "libblas.so.3")):
        os.makedirs(local, exist_ok=True)
        subprocess.run(["apt-get", "download", "libopenblas0-pthread"], cwd=local, check=True)
        deb = next(f for f in os.listdir(local) if f.endswith(".deb"))
        subprocess.run(["dpkg-deb", "-x", deb, local], cwd=local, check=True)
    return lib


def reexec_with_fast_runtime(work_dir):
    """Restart once with OpenBLAS and passive OpenMP waiting.  On cores shared with other
    jobs, spinning OpenMP workers burn most of the CPU time; passive waiting and a real
    BLAS make a training step several times faster."""
    if os.environ.get("TRAIN_DEMO_RUNTIME") == "1":
        return
    env = dict(os.environ, TRAIN_DEMO_RUNTIME="1", OMP_WAIT_POLICY="PASSIVE")
    try:
        lib = openblas_dir(work_dir)
        env["LD_LIBRARY_PATH"] = ":".join(filter(None, [lib, env.get("LD_LIBRARY_PATH")]))
    except (OSError, subprocess.CalledProcessError, StopIteration) as e:
        log(f"OpenBLAS unavailable ({e}); continuing with the default BLAS")
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                        "python3-matplotlib"], check=True)


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Data

def heldout_slice(heldout, n_bytes):
    """The first ~n_bytes of every novel's held-out tail, cut at a paragraph boundary."""
    parts = []
    for _, text in heldout:
        paras, size = [], 0
        for para in text.split("\n\n"):
            if size + len(para) > n_bytes and paras:
                break
            paras.append(para)
            size += len(para) + 2
        parts.append("\n\n".join(paras))
    return "\n\n".join(parts) + "\n"


def token_stream(tok, texts):
    """All texts encoded back to back, each closed by EOS."""
    ids = []
    for text in texts:
        ids.extend(tok.encode(text))
        ids.append(tok.eos_id)
    return torch.tensor(ids, dtype=torch.long)


def batch_of_windows(stream, batch, ctx, bos_id, gen):
    """Random windows in the layout of the perplexity contract: input [BOS] + w[:-1],
    targets w, so every position is trained exactly as it is evaluated."""
    starts = torch.randint(0, len(stream) - ctx, (batch,), generator=gen)
    targets = torch.stack([stream[s:s + ctx] for s in starts.tolist()])
    inputs = torch.cat([torch.full((batch, 1), bos_id, dtype=torch.long), targets[:, :-1]], 1)
    return inputs, targets


# ---------------------------------------------------------------------------------------------
# Evaluation (the perplexity contract of `bamba perplexity`)

@torch.no_grad()
def perplexity(net, ids, ctx, bos_id, batch=8):
    """Non-overlapping windows of `ctx` tokens (a trailing partial window is dropped
    unless it is the only one); each window is fed as [BOS] + window and all of its
    tokens are scored.  Returns (scored tokens, mean NLL, ppl)."""
    n_full = len(ids) // ctx
    windows = [ids[i * ctx:(i + 1) * ctx] for i in range(n_full)] or [ids]
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        group = torch.stack(windows[i:i + batch])
        inputs = torch.cat([torch.full((len(group), 1), bos_id, dtype=torch.long),
                            group[:, :-1]], 1)
        logits = net(inputs).double()
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), group.reshape(-1),
                                 reduction="sum").item()
        count += group.numel()
    mean = total / count
    return count, mean, math.exp(mean)


# ---------------------------------------------------------------------------------------------
# Training

def make_optimizer(net, args):
    """AdamW; weight decay only on matrices (not on norms, biases or the SSM scalars)."""
    decay = [p for n, p in net.named_parameters() if p.dim() >= 2]
    other = [p for n, p in net.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": other, "weight_decay": 0.0}],
                             lr=args.lr, betas=(0.9, 0.95), eps=1e-8)


def lr_at(step, args):
    """Linear warmup, then cosine decay to min_lr_ratio * lr."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    ratio = args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return args.lr * ratio


def train(net, stream, heldout_ids, tok, args):
    ckpt_path = os.path.join(args.work_dir, "checkpoint.pt")
    opt = make_optimizer(net, args)
    gen = torch.Generator().manual_seed(args.seed + 1)
    rows, step, prior_time = [], 0, 0.0
    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        gen.set_state(ckpt["gen"])
        rows, step, prior_time = ckpt["rows"], ckpt["step"], ckpt["time"]
        log(f"resumed at step {step}")

    progress = Progress(args.steps, step)
    t0 = time.time() - prior_time
    ema = None
    while step < args.steps:
        lr = lr_at(step, args)
        for group in opt.param_groups:
            group["lr"] = lr
        inputs, targets = batch_of_windows(stream, args.batch, args.ctx, tok.bos_id, gen)
        logits = net(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip)
        opt.step()
        step += 1

        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        row = {"step": step, "lr": lr, "train_loss": loss.item(), "heldout_loss": "",
               "elapsed_s": round(time.time() - t0, 1)}
        if step % args.eval_every == 0 or step == args.steps:
            net.eval()
            _, row["heldout_loss"], _ = perplexity(net, heldout_ids, args.ctx, tok.bos_id)
            net.train()
            progress.newline()
            log(f"step {step}: train loss (ema) {ema:.4f}, held-out loss {row['heldout_loss']:.4f}")
            rows.append(row)
            torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                        "rows": rows, "step": step, "time": time.time() - t0}, ckpt_path)
        else:
            rows.append(row)
        progress.update(step, f"loss {ema:.3f} lr {lr:.2e}")
    progress.newline()
    return rows, time.time() - t0


def write_curve(rows, out_dir):
    path = os.path.join(out_dir, "train_curve.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["step", "lr", "train_loss", "heldout_loss", "elapsed_s"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "train_loss": f"{r['train_loss']:.5f}",
                        "heldout_loss": (f"{r['heldout_loss']:.5f}" if r["heldout_loss"] != ""
                                         else ""), "lr": f"{r['lr']:.6g}"})
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [r["step"] for r in rows]
    raw = [r["train_loss"] for r in rows]
    smooth, ema = [], None
    for x in raw:
        ema = x if ema is None else 0.95 * ema + 0.05 * x
        smooth.append(ema)
    held = [(r["step"], r["heldout_loss"]) for r in rows if r["heldout_loss"] != ""]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(steps, raw, color="tab:blue", alpha=0.25, linewidth=0.8, label="train (per step)")
    ax.plot(steps, smooth, color="tab:blue", linewidth=1.5, label="train (EMA 0.95)")
    ax.plot([s for s, _ in held], [v for _, v in held], "o-", color="tab:red",
            label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title("bamba-demo training on Jane Austen")
    ax.set_ylim(bottom=max(0.0, min(raw + [v for _, v in held]) - 0.3),
                top=min(max(raw), 9.0))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "train_curve.png"))


# ---------------------------------------------------------------------------------------------
# Export / reload

def export(net, tok, args, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cfg = net.cfg
    tensors = {name: t.detach().to(torch.bfloat16) for name, t in net.state_dict().items()}
    safetensors_io.save(tensors, os.path.join(out_dir, "model.safetensors"),
                        metadata={"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"),
               bamba.hf_config(cfg, tok.bos_id, tok.eos_id, tok.eos_id, args.ctx))
    write_json(os.path.join(out_dir, "generation_config.json"),
               {**GENERATION, "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
                "pad_token_id": tok.eos_id, "transformers_version": "4.50.0"})
    bpe.save(tok, os.path.join(out_dir, "tokenizer.json"))
    write_json(os.path.join(out_dir, "tokenizer_config.json"), tok.config_json(args.ctx))


def load_exported(out_dir):
    """The exported bf16 checkpoint, upcast to float32."""
    with open(os.path.join(out_dir, "config.json")) as f:
        cfg = bamba.BambaConfig.from_hf(json.load(f))
    net = bamba.BambaForCausalLM(cfg)
    tensors = safetensors_io.load(os.path.join(out_dir, "model.safetensors"))
    net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True)
    net.eval()
    return net, bpe.load(os.path.join(out_dir, "tokenizer.json"))


def verify_export(net, out_dir, heldout_ids, ctx, bos_id):
    """Reloaded file == in-memory weights rounded to bf16: identical tensors and loss."""
    reloaded, _ = load_exported(out_dir)
    rounded = bamba.BambaForCausalLM(net.cfg)
    rounded.load_state_dict({k: v.to(torch.bfloat16).float() for k, v in net.state_dict().items()})
    rounded.eval()
    for (name, a), (_, b) in zip(rounded.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(a, b), f"tensor {name} differs after the round trip"
    _, loss_mem, _ = perplexity(rounded, heldout_ids, ctx, bos_id)
    _, loss_file, _ = perplexity(reloaded, heldout_ids, ctx, bos_id)
    assert loss_mem == loss_file, (loss_mem, loss_file)
    return loss_file


# ---------------------------------------------------------------------------------------------
# Sampling

@torch.no_grad()
def generate(net, ids, gen, settings, eos_id):
    """HF-style sampling: repetition penalty, temperature, top-k, top-p (in that order)."""
    ids = list(ids)
    start = len(ids)
    for _ in range(settings["max_new_tokens"]):
        logits = net(torch.tensor([ids]))[0, -1].double()
        seen = torch.tensor(sorted(set(ids)))
        picked = logits[seen]
        penalty = settings["repetition_penalty"]
        logits[seen] = torch.where(picked > 0, picked / penalty, picked * penalty)
        logits = logits / settings["temperature"]
        kth = torch.topk(logits, settings["top_k"]).values[-1]
        logits[logits < kth] = float("-inf")
        sorted_logits, order = torch.sort(logits, descending=True)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) >= settings["top_p"]  # keep the token crossing top_p
        logits[order[drop]] = float("-inf")
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen).item()
        if nxt == eos_id:
            break
        ids.append(nxt)
    return ids[start:]


def dictionary_fraction(texts, path="/usr/share/dict/words"):
    """Fraction of generated words (runs of letters) found in the system word list."""
    with open(path, encoding="utf-8", errors="ignore") as f:
        words = {w.strip().lower() for w in f}
    found = total = 0
    for text in texts:
        for w in "".join(c if c.isalpha() else " " for c in text).split():
            total += 1
            found += w.lower() in words
    return found / max(total, 1), total


def sample(args):
    torch.manual_seed(args.seed)
    net, tok = load_exported(args.out)
    with open(os.path.join(args.out, "generation_config.json")) as f:
        settings = {**GENERATION, **json.load(f)}
    gen = torch.Generator().manual_seed(args.seed)
    prompts = [args.prompt] if args.prompt is not None else [""] * args.n_samples
    texts = []
    for prompt in prompts:
        out = generate(net, tok.encode(prompt, add_bos=True), gen, settings, tok.eos_id)
        texts.append(tok.decode(out))
        print(f"--- {prompt!r}\n{prompt}{texts[-1]}\n")
    frac, n = dictionary_fraction(texts)
    print(f"dictionary words: {frac:.1%} of {n} generated words")
    return frac


# ---------------------------------------------------------------------------------------------
# Golden check of the forward pass

def check_golden(folder):
    """Float64 forward on a golden test folder's checkpoint vs its stored logits."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = bamba.BambaConfig.from_hf(json.load(f))
    net = bamba.BambaForCausalLM(cfg).double()
    weights = safetensors_io.load(os.path.join(folder, "model.safetensors"))
    net.load_state_dict({k: v.double() for k, v in weights.items()}, strict=True)
    golden = safetensors_io.load(os.path.join(folder, "golden.safetensors"))
    worst = 0.0
    for key in sorted(k for k in golden if k.startswith("ids_")):
        n = key[4:]
        with torch.no_grad():
            logits = net(golden[key].long()[None])[0]
        rows = golden[f"logits_positions_{n}"].long()
        err = (logits[rows] - golden[f"logits_{n}"].double()).abs().max().item()
        print(f"{folder}: n={n} max |logits - golden| = {err:.3g}")
        worst = max(worst, err)
    return worst


# ---------------------------------------------------------------------------------------------

def check_split_with_pcre2(texts):
    """The Python split must agree with PCRE2 on every text the tokenizer will see."""
    for text in texts:
        ref = bpe.pcre2_split(text)
        if ref is None:
            log("libpcre2-8 not found; skipping the PCRE2 cross-check of the split")
            return None
        assert ref == bpe.pretokenize(text), "Python split differs from PCRE2"
    return True


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    reexec_with_fast_runtime(args.work_dir)
    torch.set_num_threads(args.threads)
    if args.check_golden:
        worst = check_golden(args.check_golden)
        sys.exit(0 if worst < 1e-5 else 1)
    if args.sample:
        sample(args)
        return

    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    log("corpus: exporting Jane Austen from r-cran-janeaustenr")
    train_parts, heldout_parts = corpus.load_corpus(args.work_dir)
    train_texts = [t for _, t in train_parts]
    heldout_text = "\n\n".join(t for _, t in heldout_parts)
    eval_text = heldout_slice(heldout_parts, args.heldout_bytes)
    with open(os.path.join(args.out, "heldout.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(eval_text)
    log(f"  train {sum(map(len, train_texts))} chars, held-out {len(heldout_text)} chars, "
        f"heldout.txt {len(eval_text)} bytes")

    log(f"tokenizer: byte-level BPE, {args.vocab_size} ids")
    t0 = time.time()
    tok = bpe.Tokenizer(bpe.train(train_texts, args.vocab_size - 256 - 2))
    bad = tok.merges_are_self_consistent()
    log(f"  {len(tok.merges)} merges in {time.time() - t0:.1f}s; vocabulary entries whose "
        f"bytes do not BPE back to themselves: {len(bad)}")
    pcre_ok = check_split_with_pcre2(train_texts + [heldout_text, eval_text])
    if pcre_ok:
        log("  Python split == PCRE2 split of the Llama-3 pattern on all text")
    stream = token_stream(tok, train_texts)
    heldout_ids = torch.tensor(tok.encode(heldout_text))
    log(f"  train tokens {len(stream)}, held-out tokens {len(heldout_ids)}")

    cfg = bamba.BambaConfig(vocab_size=tok.vocab_size)
    net = bamba.BambaForCausalLM(cfg)
    bamba.init_weights(net, args.seed)
    n_params = net.n_params()
    log(f"model: {n_params} parameters; training {args.steps} steps of "
        f"{args.batch}x{args.ctx} tokens")
    net.train()
    rows, seconds = train(net, stream, heldout_ids, tok, args)
    net.eval()

    export(net, tok, args, args.out)
    write_curve(rows, args.out)
    heldout_loss_bf16 = verify_export(net, args.out, heldout_ids, args.ctx, tok.bos_id)
    reloaded, tok2 = load_exported(args.out)
    with open(os.path.join(args.out, "heldout.txt"), encoding="utf-8") as f:
        eval_ids = torch.tensor(tok2.encode(f.read()))
    count, mean_nll, ppl = perplexity(reloaded, eval_ids, args.eval_ctx, tok2.bos_id)
    write_json(os.path.join(args.out, "heldout_eval.json"),
               {"ctx": args.eval_ctx, "tokens": count, "ppl": ppl, "mean_nll": mean_nll})

    tail = rows[-50:]
    summary = {
        "parameters": n_params,
        "train_seconds": round(seconds, 1),
        "final_train_loss_last50_mean": sum(r["train_loss"] for r in tail) / len(tail),
        "final_heldout_loss_f32": rows[-1]["heldout_loss"],
        "final_heldout_loss_bf16_export": heldout_loss_bf16,
        "heldout_txt": {"ctx": args.eval_ctx, "tokens": count, "ppl": ppl, "mean_nll": mean_nll},
        "pcre2_split_checked": bool(pcre_ok),
        "vocab_entries_not_self_consistent": len(bad),
    }
    write_json(os.path.join(args.work_dir, "summary.json"), summary)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
