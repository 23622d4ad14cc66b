"""Generation helpers: key/value caches for autoregressive decoding (module 17)."""

from tinytorch.generation.kv_cache import Cache, DynamicCache, StaticCache, kv_cache_bytes

__all__ = ["Cache", "DynamicCache", "StaticCache", "kv_cache_bytes"]
