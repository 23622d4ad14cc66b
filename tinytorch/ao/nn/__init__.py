"""Neural-network modules for quantization: ``quantized`` (int8 inference), ``qat``."""
