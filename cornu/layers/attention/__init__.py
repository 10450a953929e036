"""Attention layers: ``Attention``, ``AdditiveAttention``, ``MultiHeadAttention``, ``GroupQueryAttention``
and the ``EinsumDense`` projection they are built from."""
from cornu.layers.attention.additive_attention import AdditiveAttention
from cornu.layers.attention.attention import Attention
from cornu.layers.attention.einsum_dense import EinsumDense
from cornu.layers.attention.grouped_query_attention import GroupQueryAttention
from cornu.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "EinsumDense", "GroupQueryAttention", "MultiHeadAttention"]
