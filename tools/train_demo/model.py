"""Bamba (Mamba2 + attention hybrid) in PyTorch, following the engine's numerics spec.

Tensor names match the Hugging Face checkpoint layout, so `state_dict()` is the export.
"""
import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class BambaConfig:
    vocab_size: int = 4096
    hidden_size: int = 192
    intermediate_size: int = 512
    num_hidden_layers: int = 8
    attn_layer_indices: list = field(default_factory=lambda: [2, 6])
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    mamba_n_heads: int = 6
    mamba_d_head: int = 64
    mamba_n_groups: int = 1
    mamba_d_state: int = 32
    mamba_d_conv: int = 4
    mamba_expand: int = 2
    mamba_chunk_size: int = 64
    mamba_conv_bias: bool = True
    mamba_proj_bias: bool = False
    tie_word_embeddings: bool = True

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    @property
    def rotary_dim(self):
        return int(self.head_dim * 0.5)  # partial_rotary_factor 0.5

    @property
    def d_inner(self):
        return self.mamba_expand * self.hidden_size

    @classmethod
    def from_hf(cls, cfg):
        names = cls.__dataclass_fields__.keys()
        kwargs = {k: cfg[k] for k in names if k in cfg}
        kwargs.setdefault("attn_layer_indices", cfg.get("attn_layer_indices") or [])
        if kwargs.get("mamba_d_head") == "auto":
            kwargs["mamba_d_head"] = cfg["mamba_expand"] * cfg["hidden_size"] // cfg["mamba_n_heads"]
        return cls(**kwargs)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class MLP(nn.Module):
    """down( silu(gate x) * up x )"""

    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def rope(x, positions, rotary_dim, theta):
    """Rotate channels [0, rd) of every head with rotate-half pairs (c, c + rd/2);
    channels [rd, hd) pass through.  x: [b, heads, T, hd]."""
    half = rotary_dim // 2
    inv_freq = theta ** (-torch.arange(0, half, dtype=torch.float64) * 2 / rotary_dim)
    angle = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    u, w, rest = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
    return torch.cat([u * cos - w * sin, w * cos + u * sin, rest], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd, nh, nkv = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
        self.q_proj = nn.Linear(cfg.hidden_size, nh * hd, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, nkv * hd, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, nkv * hd, bias=False)
        self.o_proj = nn.Linear(nh * hd, cfg.hidden_size, bias=False)

    def forward(self, x):
        cfg = self.cfg
        b, T, _ = x.shape
        hd, nh, nkv = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
        q = self.q_proj(x).view(b, T, nh, hd).transpose(1, 2)
        k = self.k_proj(x).view(b, T, nkv, hd).transpose(1, 2)
        v = self.v_proj(x).view(b, T, nkv, hd).transpose(1, 2)
        pos = torch.arange(T)
        q = rope(q, pos, cfg.rotary_dim, cfg.rope_theta)
        k = rope(k, pos, cfg.rotary_dim, cfg.rope_theta)
        # GQA block mapping: query head h reads kv head h // (nh / nkv)
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        o = scores.softmax(-1) @ v
        return self.o_proj(o.transpose(1, 2).reshape(b, T, nh * hd))


def ssd_chunked(x, dt, A, B, C, chunk):
    """Mamba2 state-space scan in chunked (SSD) form, zero initial state.

    x [b, T, h, P], dt [b, T, h], A [h], B and C [b, T, G, N]; head h reads group
    h // (h_total / G).  Within a chunk, with inclusive cumulative log-decay
    c_t = sum_{r<=t} dt_r A:
        y_t   = sum_{s<=t} exp(c_t - c_s) (C_t . B_s) dt_s x_s  +  exp(c_t) C_t . S_in
        S_out = exp(c_last) S_in + sum_s exp(c_last - c_s) dt_s x_s (x) B_s
    Returns y [b, T, h, P] (without the D skip).
    """
    b, T, h, P = x.shape
    G, N = B.shape[2], B.shape[3]
    hg = h // G
    pad = (-T) % chunk
    if pad:  # zero dt and x in the padding: no decay, no contribution
        x, dt, B, C = (F.pad(t, (0, 0) * (t.dim() - 2) + (0, pad)) for t in (x, dt, B, C))
    nc = x.shape[1] // chunk
    # layout [b, chunk, group, head-in-group, position, ...]
    x = x.view(b, nc, chunk, G, hg, P).permute(0, 1, 3, 4, 2, 5)
    dt = dt.view(b, nc, chunk, G, hg).permute(0, 1, 3, 4, 2)
    B = B.view(b, nc, chunk, G, N).permute(0, 1, 3, 2, 4).unsqueeze(3)   # [b,c,G,1,Q,N]
    C = C.view(b, nc, chunk, G, N).permute(0, 1, 3, 2, 4).unsqueeze(3)
    A = A.view(G, hg, 1)

    c = torch.cumsum(dt * A, dim=-1)                                     # [b,c,G,hg,Q]
    # decay[t, s] = exp(c_t - c_s) for s <= t; masked to -inf *before* the exp
    causal = torch.ones(chunk, chunk, dtype=torch.bool).tril()
    decay = (c.unsqueeze(-1) - c.unsqueeze(-2)).masked_fill(~causal, float("-inf")).exp()
    scores = (C @ B.transpose(-1, -2)) * decay * dt.unsqueeze(-2)        # [b,c,G,hg,Q(t),Q(s)]
    y = scores @ x                                                       # intra-chunk

    # state contributed by each chunk, then carried across chunks
    to_end = torch.exp(c[..., -1:] - c) * dt                             # [b,c,G,hg,Q]
    chunk_state = (x * to_end.unsqueeze(-1)).transpose(-1, -2) @ B       # [b,c,G,hg,P,N]
    chunk_decay = torch.exp(c[..., -1])                                  # [b,c,G,hg]
    state = x.new_zeros(b, G, hg, P, N)
    inter = []
    for k in range(nc):
        inter.append((C[:, k] @ state.transpose(-1, -2)) * torch.exp(c[:, k]).unsqueeze(-1))
        state = chunk_decay[:, k, ..., None, None] * state + chunk_state[:, k]
    y = y + torch.stack(inter, dim=1)
    return y.permute(0, 1, 4, 2, 3, 5).reshape(b, nc * chunk, h, P)[:, :T]


def ssd_recurrent(x, dt, A, B, C):
    """Token-by-token form of the same scan (the definition; used to check ssd_chunked)."""
    b, T, h, P = x.shape
    B = B.repeat_interleave(h // B.shape[2], dim=2)  # group -> head
    C = C.repeat_interleave(h // C.shape[2], dim=2)
    state = x.new_zeros(b, h, P, B.shape[-1])
    ys = []
    for t in range(T):
        decay = torch.exp(dt[:, t] * A)[:, :, None, None]
        state = decay * state + (dt[:, t, :, None, None] * x[:, t, :, :, None]
                                 * B[:, t, :, None, :])
        ys.append(torch.einsum("bhpn,bhn->bhp", state, C[:, t]))
    return torch.stack(ys, dim=1)


class CausalDepthwiseConv(nn.Module):
    """c[t, ch] = bias[ch] + sum_k W[ch, 0, k] * x[t - (K-1) + k, ch], x[<0] = 0.
    Weight layout [channels, 1, K] as nn.Conv1d; written as K shifted products because
    that is much faster than a grouped convolution on CPU."""

    def __init__(self, channels, kernel, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, 1, kernel))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x):  # x [b, T, channels]
        K, T = self.weight.shape[-1], x.shape[1]
        padded = F.pad(x, (0, 0, K - 1, 0))
        out = sum(self.weight[:, 0, k] * padded[:, k:k + T] for k in range(K))
        return out + self.bias if self.bias is not None else out


class Mamba2Mixer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        E, G, N, mh = cfg.d_inner, cfg.mamba_n_groups, cfg.mamba_d_state, cfg.mamba_n_heads
        assert mh * cfg.mamba_d_head == E and mh % G == 0
        self.conv_dim = E + 2 * G * N
        self.in_proj = nn.Linear(cfg.hidden_size, 2 * E + 2 * G * N + mh, bias=cfg.mamba_proj_bias)
        self.conv1d = CausalDepthwiseConv(self.conv_dim, cfg.mamba_d_conv, cfg.mamba_conv_bias)
        self.dt_bias = nn.Parameter(torch.zeros(mh))
        self.A_log = nn.Parameter(torch.zeros(mh))
        self.D = nn.Parameter(torch.ones(mh))
        self.norm = RMSNorm(E, cfg.rms_norm_eps)  # weight only; applied per group below
        self.out_proj = nn.Linear(E, cfg.hidden_size, bias=cfg.mamba_proj_bias)

    def forward(self, x):
        cfg = self.cfg
        b, T, _ = x.shape
        E, G, N, mh, P = (cfg.d_inner, cfg.mamba_n_groups, cfg.mamba_d_state,
                          cfg.mamba_n_heads, cfg.mamba_d_head)
        z, xBC, dt_raw = self.in_proj(x).split([E, self.conv_dim, mh], dim=-1)
        xBC = F.silu(self.conv1d(xBC))
        xs, B, C = xBC.split([E, G * N, G * N], dim=-1)
        xs = xs.view(b, T, mh, P)
        B = B.view(b, T, G, N)
        C = C.view(b, T, G, N)
        dt = F.softplus(dt_raw + self.dt_bias)
        A = -torch.exp(self.A_log)
        y = ssd_chunked(xs, dt, A, B, C, cfg.mamba_chunk_size)
        y = y + self.D[:, None] * xs                                   # D skip on post-conv x
        # gated RMSNorm per group of E/G channels, gate applied before the norm
        u = (y.reshape(b, T, E) * F.silu(z)).view(b, T, G, E // G)
        u = u * torch.rsqrt(u.pow(2).mean(-1, keepdim=True) + cfg.rms_norm_eps)
        return self.out_proj(self.norm.weight * u.reshape(b, T, E))


class DecoderLayer(nn.Module):
    def __init__(self, cfg, is_attention):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        if is_attention:
            self.self_attn = Attention(cfg)
        else:
            self.mamba = Mamba2Mixer(cfg)
        self.pre_ff_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.feed_forward = MLP(cfg)

    def forward(self, h):
        mixer = self.self_attn if hasattr(self, "self_attn") else self.mamba
        h = h + mixer(self.input_layernorm(h))
        return h + self.feed_forward(self.pre_ff_layernorm(h))


class Backbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i in cfg.attn_layer_indices)
                                    for i in range(cfg.num_hidden_layers))
        self.final_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class BambaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg)
        if not cfg.tie_word_embeddings:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def head_weight(self):
        return self.model.embed_tokens.weight if self.cfg.tie_word_embeddings else self.lm_head.weight

    def forward(self, ids):
        h = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            h = layer(h)
        return self.model.final_layernorm(h) @ self.head_weight().t()

    def n_params(self):
        return sum(p.numel() for p in self.parameters())


def init_weights(model, seed):
    """Mamba2-style initialisation, deterministic for a given seed."""
    g = torch.Generator().manual_seed(seed)
    cfg = model.cfg
    std = 0.02
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                p.fill_(1.0)
            elif name.endswith(".D"):
                p.fill_(1.0)
            elif name.endswith("A_log"):
                p.copy_(torch.log(torch.empty(p.shape).uniform_(1, 16, generator=g)))
            elif name.endswith("dt_bias"):
                # dt log-uniform in [1e-3, 1e-1]; dt_bias = softplus^-1(dt) = dt + log(1 - exp(-dt))
                lo, hi = math.log(1e-3), math.log(1e-1)
                dt = torch.exp(torch.empty(p.shape).uniform_(lo, hi, generator=g)).clamp(min=1e-4)
                p.copy_(dt + torch.log(-torch.expm1(-dt)))
            elif name.endswith("conv1d.weight"):
                bound = 1.0 / math.sqrt(cfg.mamba_d_conv)
                p.uniform_(-bound, bound, generator=g)
            elif name.endswith(".bias"):
                p.zero_()
            else:
                p.normal_(0.0, std, generator=g)
        # residual-branch outputs scaled down with depth (GPT-2 / Mamba convention)
        scale = 1.0 / math.sqrt(2 * cfg.num_hidden_layers)
        for name, p in model.named_parameters():
            if name.endswith(("out_proj.weight", "o_proj.weight", "down_proj.weight")):
                p.mul_(scale)


def hf_config(cfg, bos_id, eos_id, pad_id, max_positions):
    """config.json with every BambaConfig key, as written by transformers."""
    return {
        "architectures": ["BambaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "attn_layer_indices": list(cfg.attn_layer_indices),
        "attn_rotary_emb": cfg.rotary_dim,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "hidden_act": "silu",
        "hidden_size": cfg.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": cfg.intermediate_size,
        "mamba_chunk_size": cfg.mamba_chunk_size,
        "mamba_conv_bias": cfg.mamba_conv_bias,
        "mamba_d_conv": cfg.mamba_d_conv,
        "mamba_d_head": cfg.mamba_d_head,
        "mamba_d_state": cfg.mamba_d_state,
        "mamba_expand": cfg.mamba_expand,
        "mamba_n_groups": cfg.mamba_n_groups,
        "mamba_n_heads": cfg.mamba_n_heads,
        "mamba_proj_bias": cfg.mamba_proj_bias,
        "max_position_embeddings": max_positions,
        "mlp_bias": False,
        "model_type": "bamba",
        "num_attention_heads": cfg.num_attention_heads,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_key_value_heads": cfg.num_key_value_heads,
        "num_logits_to_keep": 1,
        "pad_token_id": pad_id,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": cfg.rope_theta,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.50.0",
        "use_cache": True,
        "vocab_size": cfg.vocab_size,
        "z_loss_coefficient": 0.0,
    }
