"""What llama.cpp's projector loader and graphs (``tools/mtmd/clip.cpp``) expect of a projector's tensors.

Pure Python tables and header-only checks (no numpy, no gguf); the rules in ``mmcheck.rules`` read them.
``encoder_tensors``: the encoder tensors clip.cpp requires, their ggml type class and shapes.
"""
