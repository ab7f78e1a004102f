"""Variant name patterns recognise the names converters write for each VLM's own files.

convert_hf_to_gguf derives general.name, basename, size_label and finetune from the Hugging Face
model id (gguf-py ``Metadata.get_model_id_components``); these ids are the published repositories
of each variant. A pattern that misses its model's real name turns a canonical pair into
``unknown``; one that catches another variant's name turns a mix-up into a match.
"""

from __future__ import annotations

import pytest
from gguf.metadata import Metadata

from mmcheck.db import load_db
from mmcheck.identify import names_match

HF_IDS = {
    "liuhaotian/llava-v1.5-7b": "llava-1.5-7b",
    "llava-hf/llava-1.5-7b-hf": "llava-1.5-7b",
    "liuhaotian/llava-v1.5-13b": "llava-1.5-13b",
    "liuhaotian/llava-v1.6-vicuna-7b": "llava-1.6-vicuna-7b",
    "liuhaotian/llava-v1.6-vicuna-13b": "llava-1.6-vicuna-13b",
    "liuhaotian/llava-v1.6-mistral-7b": "llava-1.6-mistral-7b",
    "llava-hf/llava-v1.6-mistral-7b-hf": "llava-1.6-mistral-7b",
    "liuhaotian/llava-v1.6-34b": "llava-1.6-34b",
    "llava-hf/llama3-llava-next-8b-hf": "llava-1.6-llama-3-8b",
    "SkunkworksAI/BakLLaVA-1": "llava-1.5-mistral-7b",
    "Lin-Chen/ShareGPT4V-7B": "sharegpt4v-7b",
    "Lin-Chen/ShareGPT4V-13B": "sharegpt4v-13b",
    "xtuner/llava-llama-3-8b-v1_1": "xtuner-llava-llama-3-8b",
    "xtuner/llava-phi-3-mini": "llava-phi-3-mini",
    "mtgv/MobileVLM-1.7B": "mobilevlm-1.7b",
    "mtgv/MobileVLM_V2-1.7B": "mobilevlm-v2-1.7b",
    "mtgv/MobileVLM_V2-7B": "mobilevlm-v2-7b",
    "BAAI/Bunny-v1_0-4B": "bunny-phi-3-mini",
    "BAAI/Bunny-v1_1-4B": "bunny-phi-3-mini",
    "BAAI/Bunny-Llama-3-8B-V": "bunny-llama-3-8b",
    "BAAI/Bunny-v1_1-Llama-3-8B-V": "bunny-llama-3-8b",
    "01-ai/Yi-VL-6B": "yi-vl-6b",
    "01-ai/Yi-VL-34B": "yi-vl-34b",
    "openbmb/MiniCPM-Llama3-V-2_5": "minicpm-llama3-v2.5",
    "openbmb/MiniCPM-V-2_6": "minicpm-v-2.6",
    "openbmb/MiniCPM-o-2_6": "minicpm-o-2.6",
    "openbmb/MiniCPM-V-4": "minicpm-v-4.0",
    "openbmb/MiniCPM-V-4_5": "minicpm-v-4.5",
    "Qwen/Qwen2-VL-2B-Instruct": "qwen2-vl-2b",
    "Qwen/Qwen2-VL-7B-Instruct": "qwen2-vl-7b",
    "Qwen/Qwen2.5-VL-3B-Instruct": "qwen2.5-vl-3b",
    "Qwen/Qwen2.5-VL-7B-Instruct": "qwen2.5-vl-7b",
    "Qwen/Qwen2.5-VL-32B-Instruct": "qwen2.5-vl-32b",
    "Qwen/Qwen2.5-VL-72B-Instruct": "qwen2.5-vl-72b",
    "Qwen/Qwen2.5-Omni-3B": "qwen2.5-omni-3b",
    "Qwen/Qwen2.5-Omni-7B": "qwen2.5-omni-7b",
    "Qwen/Qwen3-VL-2B-Instruct": "qwen3-vl-2b",
    "Qwen/Qwen3-VL-4B-Instruct": "qwen3-vl-4b",
    "Qwen/Qwen3-VL-8B-Instruct": "qwen3-vl-8b",
    "Qwen/Qwen3-VL-30B-A3B-Instruct": "qwen3-vl-30b-a3b",
    "Qwen/Qwen3-VL-30B-A3B-Thinking": "qwen3-vl-30b-a3b",
    "Qwen/Qwen3-VL-8B-Thinking": "qwen3-vl-8b",
    "google/gemma-3-4b-it": "gemma-3-4b",
    "google/gemma-3-12b-it": "gemma-3-12b",
    "google/gemma-3-27b-it": "gemma-3-27b",
    "unsloth/gemma-3-4b-it": "gemma-3-4b",
    "google/gemma-3n-E2B-it": "gemma-3n-e2b",
    "google/gemma-3n-E4B-it": "gemma-3n-e4b",
    "mistralai/Pixtral-12B-2409": "pixtral-12b",
    "mistral-community/pixtral-12b": "pixtral-12b",
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503": "mistral-small-3.1-24b",
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506": "mistral-small-3.2-24b",
    "mistralai/Magistral-Small-2509": "magistral-small-2509",
    "HuggingFaceTB/SmolVLM-256M-Instruct": "smolvlm-256m",
    "HuggingFaceTB/SmolVLM-500M-Instruct": "smolvlm-500m",
    "HuggingFaceTB/SmolVLM-Instruct": "smolvlm2-2.2b",
    "HuggingFaceTB/SmolVLM2-2.2B-Instruct": "smolvlm2-2.2b",
    "HuggingFaceTB/SmolVLM2-256M-Video-Instruct": "smolvlm-256m",
    "HuggingFaceTB/SmolVLM2-500M-Video-Instruct": "smolvlm-500m",
    "OpenGVLab/InternVL3-1B": "internvl3-1b",
    "OpenGVLab/InternVL3-2B": "internvl3-2b",
    "OpenGVLab/InternVL3-8B": "internvl3-8b",
    "OpenGVLab/InternVL2_5-8B": "internvl2.5-8b",
    "OpenGVLab/InternVL3_5-8B": "internvl3.5-8b",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": "llama-4-scout",
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct": "llama-4-maverick",
    "moonshotai/Kimi-VL-A3B-Instruct": "kimi-vl-a3b",
    "moonshotai/Kimi-VL-A3B-Thinking": "kimi-vl-a3b",
    "THUDM/GLM-4.1V-9B-Thinking": "glm-4.1v-9b",
    "zai-org/GLM-4.5V": "glm-4.5v",
    "LiquidAI/LFM2-VL-450M": "lfm2-vl-450m",
    "LiquidAI/LFM2-VL-1.6B": "lfm2-vl-1.6b",
    "microsoft/Phi-4-multimodal-instruct": "phi-4-multimodal",
    "fixie-ai/ultravox-v0_5-llama-3_2-1b": "ultravox-llama-3.2-1b",
    "fixie-ai/ultravox-v0_5-llama-3_1-8b": "ultravox-llama-3.1-8b",
    "mistralai/Voxtral-Mini-3B-2507": "voxtral-mini-3b",
    "mistralai/Voxtral-Small-24B-2507": "voxtral-small-24b",
    "Qwen/Qwen2-Audio-7B-Instruct": "qwen2-audio-7b",
}


DB = load_db()
VARIANTS = {v.id: v for f in DB.families.values() for v in f.variants}


def converter_names(hf_id: str) -> list[str]:
    """general.name, basename and the composite name convert_hf_to_gguf writes for a model id."""
    full, _org, base, finetune, version, size = Metadata.get_model_id_components(hf_id, 0)
    composite = " ".join(p for p in (base, size, finetune, version) if p)
    return [n for n in (Metadata.id_to_title(full), base, composite) if n]


@pytest.mark.parametrize(("hf_id", "variant"), sorted(HF_IDS.items()))
def test_converter_names_identify_exactly_their_variant(hf_id: str, variant: str) -> None:
    assert variant in VARIANTS, f"no variant {variant!r} in compat_db"
    names = converter_names(hf_id)
    hits = sorted(vid for vid, v in VARIANTS.items() if names_match(v.text_name_patterns, names))
    assert hits == [variant], (names, hits)
