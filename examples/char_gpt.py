"""Train a small character-level GPT on TinyTalks: PyTorch code, tinytorch underneath.

A decoder-only transformer in the style of the minimal GPT scripts: token and position
embeddings, pre-norm blocks of causal self-attention and an MLP, a final layer norm and a
language-model head that shares its weight with the token embedding. It learns to continue
the question-and-answer text of TinyTalks one character at a time, then writes a sample.

The model and the training loop are ordinary PyTorch; ``--backend torch`` runs the very same
code on PyTorch, for comparison. Run it with::

    python examples/char_gpt.py                   # tinytorch
    python examples/char_gpt.py --backend torch

References: Vaswani et al., "Attention Is All You Need" (2017); Radford et al., "Language
Models are Unsupervised Multitask Learners" (GPT-2, 2019).
"""

# B, T, C (batch, time, channels) and F are the names that PyTorch model code uses.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import importlib
import math
import time
from dataclasses import dataclass

from tinytorch.datasets import TinyTalks


@dataclass
class GPTConfig:
    block_size: int = 32  # the longest context the model sees, in characters
    vocab_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0


def define_gpt(torch):
    """The model written against ``torch`` (tinytorch or PyTorch); returns the ``GPT`` class."""
    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        """Multi-head self-attention in which position t sees positions 0..t only."""

        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0, "n_embd must be divisible by n_head"
            self.n_head, self.n_embd = config.n_head, config.n_embd
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # q, k, v in one matmul
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)
            self.attn_dropout = nn.Dropout(config.dropout)
            self.resid_dropout = nn.Dropout(config.dropout)
            T = config.block_size
            self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

        def forward(self, x):
            B, T, C = x.size()  # batch, time, channels (n_embd)
            hs = C // self.n_head  # head size
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # 3 x (B, T, C)
            q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
            k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
            v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = att @ v  # (B, nh, T, hs)
            y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
            return self.resid_dropout(self.c_proj(y))  # (B, T, C)

    class MLP(nn.Module):
        """Position-wise feed-forward network: widen 4x, GELU, project back."""

        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))  # (B, T, C)

    class Block(nn.Module):
        """One transformer block: attention then MLP, each on a normalised copy, added back."""

        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd)
            self.mlp = MLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))  # (B, T, C)
            return x + self.mlp(self.ln_2(x))  # (B, T, C)

    class GPT(nn.Module):
        """Token ids (B, T) -> next-token logits (B, T, vocab_size)."""

        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(config.vocab_size, config.n_embd),
                    wpe=nn.Embedding(config.block_size, config.n_embd),
                    drop=nn.Dropout(config.dropout),
                    h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                    ln_f=nn.LayerNorm(config.n_embd),
                )
            )
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            # Weight tying: reading a token and writing it use one (vocab_size, n_embd) table.
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)
            for name, param in self.named_parameters():
                if name.endswith("c_proj.weight"):  # residual outputs start smaller (GPT-2)
                    torch.nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        def _init_weights(self, module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                torch.nn.init.zeros_(module.bias)

        def num_parameters(self):
            return sum(param.numel() for param in self.parameters())  # the tied table once

        def forward(self, idx, targets=None):
            B, T = idx.size()
            assert T <= self.config.block_size, (
                f"sequence of length {T} is longer than block_size {self.config.block_size}"
            )
            pos = torch.arange(0, T, dtype=torch.long, device=idx.device)  # (T,)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, C)
            x = self.transformer.drop(x)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)  # (B, T, C)
            if targets is None:  # generating: only the last position's logits are needed
                return self.lm_head(x[:, [-1], :]), None  # (B, 1, vocab_size)
            logits = self.lm_head(x)  # (B, T, vocab_size)
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            """AdamW that decays the matrices (>= 2-D) but not the biases and norm gains."""
            params = [param for param in self.parameters() if param.requires_grad]
            groups = [
                {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
            ]
            return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            """Extend idx (B, T) by ``max_new_tokens`` sampled ids: (B, T + max_new_tokens)."""
            for _ in range(max_new_tokens):
                context = idx[:, -self.config.block_size :]  # (B, <= block_size)
                logits, _ = self(context)
                logits = logits[:, -1, :] / temperature  # (B, vocab_size)
                if top_k is not None:
                    kth, _ = torch.topk(logits, min(top_k, logits.size(-1)))  # (B, top_k)
                    logits[logits < kth[:, [-1]]] = -float("inf")
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT


def load_text():
    """TinyTalks' training and validation text, and the sorted characters of both."""
    train_text = TinyTalks(split="train").text
    val_text = TinyTalks(split="validation").text
    return train_text, val_text, sorted(set(train_text + val_text))


def train(torch, steps=500, batch_size=32, learning_rate=3e-3, seed=1337, verbose=True):
    """Train a GPT with ``torch`` (tinytorch or PyTorch); return the model, the losses, decode."""
    torch.manual_seed(seed)
    train_text, val_text, chars = load_text()
    stoi = {ch: i for i, ch in enumerate(chars)}

    def decode(ids):
        return "".join(chars[i] for i in ids)

    splits = {
        name: torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
        for name, text in (("train", train_text), ("val", val_text))
    }
    config = GPTConfig(vocab_size=len(chars))
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def get_batch(split):
        """Random windows of the text: inputs x and next characters y, both (B, T)."""
        data = splits[split]
        ix = torch.randint(len(data) - config.block_size, (batch_size,))
        x = torch.stack([data[i : i + config.block_size] for i in ix])  # (B, T)
        y = torch.stack([data[i + 1 : i + 1 + config.block_size] for i in ix])  # (B, T)
        return x.to(device), y.to(device)

    @torch.no_grad()
    def estimate_loss(model, batches=10):
        """The mean loss over a few batches of each split, with dropout off."""
        model.eval()
        means = {}
        for split in splits:
            losses = torch.zeros(batches)
            for k in range(batches):
                losses[k] = model(*get_batch(split))[1].item()
            means[split] = losses.mean()
        model.train()
        return means

    def get_lr(step):  # linear warm-up, then cosine decay to a tenth
        warmup = max(steps // 10, 1)
        if step < warmup:
            return learning_rate * (step + 1) / warmup
        progress = (step - warmup) / max(steps - warmup, 1)
        return learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))

    model = define_gpt(torch)(config).to(device)
    optimizer = model.configure_optimizers(0.1, learning_rate, betas=(0.9, 0.99))
    if verbose:
        print(f"{len(chars)} characters, {model.num_parameters():,} parameters")
    losses = []
    start = time.perf_counter()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(step)
        x, y = get_batch("train")
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if verbose and (step % 100 == 0 or step == steps - 1):
            means = estimate_loss(model)
            print(f"step {step:4d}  train {means['train']:.4f}  val {means['val']:.4f}")
    if verbose:
        print(f"{torch.__name__}: {steps} steps in {time.perf_counter() - start:.1f} s")
    return model, losses, decode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["tinytorch", "torch"], default="tinytorch")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--sample-length", type=int, default=200)
    args = parser.parse_args()
    torch = importlib.import_module(args.backend)
    model, _, decode = train(torch, args.steps, args.batch_size, args.lr, args.seed)
    model.eval()
    device = next(model.parameters()).device
    prompt = torch.zeros((1, 1), dtype=torch.long, device=device)  # id 0: "\n", a line start
    sample = model.generate(prompt, args.sample_length, temperature=0.8, top_k=10)
    print("---- sample ----")
    print(decode(sample[0].tolist()))


if __name__ == "__main__":
    main()
