"""Run one (text model, mmproj) pair through llama.cpp; meant for the oracle venv's python.

Usage: ``python run_case.py --model M --mmproj P --image I [--n-ctx N]``

It goes the way llama-cpp-python's ``Llava15ChatHandler`` goes, through the raw
``llama_cpp.mtmd_cpp`` API so that every step is visible:

1. ``STAGE load_model``  -- ``llama_cpp.Llama(model_path=M, n_ctx=..., verbose=True)``;
2. ``STAGE init_mtmd``   -- ``mtmd_init_from_file(P, model, params)`` (runs the warm-up encode);
3. ``STAGE tokenize``    -- ``mtmd_tokenize`` of a prompt with one image marker and ``I``;
4. ``STAGE encode``      -- ``mtmd_helper_eval_chunk_single`` for every chunk (image encode +
   decode of the embeddings into the text model);
5. ``STAGE done``.

Stage markers are flushed to stdout so that a crash (SIGABRT/SIGSEGV) still shows where the
process died; llama.cpp's own messages go to stderr. The last stdout line is a JSON object:
``{"ok": bool, "stage": str, "error": str | null, ...}``. Exit code 0 when ``ok``, 3 when a
step failed with a Python-visible error (llama.cpp refused), negative/signal when it crashed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
from typing import Any


def _stage(name: str, result: dict[str, Any]) -> None:
    result["stage"] = name
    sys.stderr.flush()
    print(f"STAGE {name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the pair; print stage markers and a final JSON line; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--mmproj", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"ok": False, "stage": "start", "error": None}
    try:
        _stage("import", result)
        import llama_cpp  # type: ignore[import-not-found, unused-ignore]
        from llama_cpp import mtmd_cpp  # type: ignore[import-not-found, unused-ignore]

        result["llama_cpp_python"] = llama_cpp.__version__

        _stage("load_model", result)
        llm = llama_cpp.Llama(
            model_path=args.model,
            n_ctx=args.n_ctx,
            n_batch=args.n_ctx,
            n_ubatch=args.n_ctx,
            n_threads=args.threads,
            verbose=True,
        )
        result["n_embd_text"] = llm.n_embd()

        _stage("init_mtmd", result)
        params = mtmd_cpp.mtmd_context_params_default()
        params.use_gpu = False
        params.print_timings = False
        params.n_threads = args.threads
        ctx = mtmd_cpp.mtmd_init_from_file(args.mmproj.encode(), llm.model, params)
        if ctx is None:
            raise ValueError(f"Failed to load mtmd context from: {args.mmproj}")
        if not mtmd_cpp.mtmd_support_vision(ctx):
            raise ValueError("Vision is not supported by this model")

        _stage("tokenize", result)
        with open(args.image, "rb") as fh:
            image_bytes = fh.read()
        buf = (ctypes.c_uint8 * len(image_bytes)).from_buffer(bytearray(image_bytes))
        bitmap = mtmd_cpp.mtmd_helper_bitmap_init_from_buf(ctx, buf, len(image_bytes), False)
        if bitmap is None:
            raise ValueError("Failed to create bitmap from image bytes")
        marker = mtmd_cpp.mtmd_default_marker().decode()
        text = f"describe this image:\n{marker}\nwhat is it?".encode()
        input_text = mtmd_cpp.mtmd_input_text()
        input_text.text = text
        input_text.text_len = len(text)
        input_text.add_special = True
        input_text.parse_special = True
        chunks = mtmd_cpp.mtmd_input_chunks_init()
        bitmaps = (mtmd_cpp.mtmd_bitmap_p_ctypes * 1)(bitmap)
        rc = mtmd_cpp.mtmd_tokenize(ctx, chunks, ctypes.byref(input_text), bitmaps, 1)
        if rc != 0:
            raise ValueError(f"Failed to tokenize input: error code {rc}")
        n_chunks = mtmd_cpp.mtmd_input_chunks_size(chunks)
        result["n_chunks"] = n_chunks

        _stage("encode", result)
        n_past = 0
        image_tokens = 0
        for i in range(n_chunks):
            chunk = mtmd_cpp.mtmd_input_chunks_get(chunks, i)
            if mtmd_cpp.mtmd_input_chunk_get_type(chunk) != mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_TEXT:
                image_tokens += mtmd_cpp.mtmd_input_chunk_get_n_tokens(chunk)
            # the helper *adds* the text tokens to *new_n_past (and sets it for media chunks)
            new_n_past = llama_cpp.llama_pos(n_past)
            rc = mtmd_cpp.mtmd_helper_eval_chunk_single(
                ctx,
                llm._ctx.ctx,
                chunk,
                llama_cpp.llama_pos(n_past),
                llama_cpp.llama_seq_id(0),
                args.n_ctx,
                i == n_chunks - 1,
                ctypes.byref(new_n_past),
            )
            if rc != 0:
                raise ValueError(f"Failed to evaluate chunk {i}: error code {rc}")
            n_past = new_n_past.value
        result["n_past"] = n_past
        result["image_tokens"] = image_tokens
        mtmd_cpp.mtmd_input_chunks_free(chunks)
        mtmd_cpp.mtmd_bitmap_free(bitmap)
        mtmd_cpp.mtmd_free(ctx)

        _stage("done", result)
        result["ok"] = True
    except Exception as exc:  # every Python-visible failure is a refusal
        result["error"] = f"{type(exc).__name__}: {exc}"
    sys.stderr.flush()
    print(json.dumps(result), flush=True)
    code = 0 if result["ok"] else 3
    # skip interpreter teardown: llama.cpp objects freed in odd orders can crash at exit
    os._exit(code)


if __name__ == "__main__":
    main()
