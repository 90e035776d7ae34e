"""MultiheadAttention (PyTorch keeps it in activation.py; here it has a file of its own), with
PyTorch's parameter names, shapes, registration order and initialisation."""
import autograd as ag

from .. import functional as F
from .. import init
from ..module import Module
from ._utils import new_parameter
from .linear import Linear


class NonDynamicallyQuantizableLinear(Linear):
    """The Linear that PyTorch's MultiheadAttention uses as out_proj (the name shows in its repr)."""


class MultiheadAttention(Module):
    """Attention from L queries to S keys/values, split over num_heads heads (see
    F.multi_head_attention_forward for shapes and masks).

    Parameters: in_proj_weight (3 * embed_dim, embed_dim) when key and value have embed_dim
    features, else q_proj_weight (embed_dim, embed_dim), k_proj_weight (embed_dim, kdim),
    v_proj_weight (embed_dim, vdim); in_proj_bias (3 * embed_dim,); bias_k, bias_v (1, 1,
    embed_dim) with add_bias_kv; out_proj (a Linear). Projections start xavier-uniform, biases at
    zero, bias_k and bias_v xavier-normal; out_proj.weight keeps Linear's initialisation.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ag.ArgumentError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim="
                                f"{embed_dim} and num_heads={num_heads}")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = new_parameter((embed_dim, embed_dim), dtype, device)
            self.k_proj_weight = new_parameter((embed_dim, self.kdim), dtype, device)
            self.v_proj_weight = new_parameter((embed_dim, self.vdim), dtype, device)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = new_parameter((3 * embed_dim, embed_dim), dtype, device)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = new_parameter((3 * embed_dim,), dtype, device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = new_parameter((1, 1, embed_dim), dtype, device)
            self.bias_v = new_parameter((1, 1, embed_dim), dtype, device)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _check_shapes(self, query, key, value):
        layout = "(N, L, features)" if self.batch_first else "(L, N, features)"
        for name, x, size in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if x.ndim not in (2, 3) or x.shape[-1] != size or x.ndim != query.ndim:
                raise ag.ShapeError(f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}): "
                                 f"expected {name} with {size} features, batched {layout} or unbatched (L, "
                                 f"features) like the others; got query {tuple(query.shape)}, key "
                                 f"{tuple(key.shape)}, value {tuple(value.shape)}")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """query (L, N, E) ((N, L, E) with batch_first; (L, E) unbatched), key (S, N, kdim),
        value (S, N, vdim). Returns (output like query, attention weights or None)."""
        self._check_shapes(query, key, value)
        is_batched = query.ndim == 3
        if self.batch_first and is_batched:
            # Transpose once per distinct tensor, so that self-attention stays recognisable.
            if key is value:
                if query is key:
                    query = key = value = query.transpose(0, 1)
                else:
                    query, key = query.transpose(0, 1), key.transpose(0, 1)
                    value = key
            else:
                query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and is_batched:
            out = out.transpose(0, 1)
        return out, weights
