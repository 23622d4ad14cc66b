"""Architecture optimization (PyTorch's ``torch.ao``): quantization."""
