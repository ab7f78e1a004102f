"""Generated model stores with their real layouts, for the store-aware scan's tests.

Header-only GGUF files (real key and tensor names and shapes, no weights), laid out as each store
lays them out — every layout fact from the store's published source or docs:

- **Ollama** (ollama/ollama at fb3076099): ``manifests/<host>/<namespace>/<model>/<tag>`` (types/model/
  name.go ``Filepath``), manifest JSON as ``manifest.WriteManifest`` encodes it (``schemaVersion`` 2,
  ``mediaType`` ``application/vnd.docker.distribution.manifest.v2+json``, ``config``, ``layers`` of
  ``{mediaType, digest, size[, from][, name]}``, manifest/layer.go), blobs ``blobs/sha256-<hex>``
  named by the sha256 of their bytes (manifest/layer.go ``NewLayer``, manifest/paths.go
  ``BlobsPath``), layer media types from server/images.go, the config layer
  (``application/vnd.docker.container.image.v1+json``) as ``model.ConfigV2`` (types/model/config.go).
  A single-file vision model carries ``<arch>.vision.block_count`` (server/images.go ``Capabilities``).
- **Hugging Face cache** (huggingface_hub 2.4.0): ``models--ORG--REPO`` (file_download.py
  ``repo_folder_name``), ``refs/main`` holding the commit, ``snapshots/<commit>/<file>`` relative
  symlinks ``../../blobs/<etag>`` (file_download.py ``_create_symlink``), the etag of an LFS file its
  sha256; the shared store ``<cache>/blobs/<2 hex>/<xet hash>`` behind a repo blob symlink
  (utils/_shared_blobs.py).
- **llama.cpp's cache** (ggml-org/llama.cpp common/hf-cache.cpp@0c1e570): the same layout under
  ``LLAMA_CACHE``; Docker models as ``<repo with / -> _>_<tag>.gguf`` (common/download.cpp@0c1e570).
- **LM Studio**: ``<home>/models/<publisher>/<repo>/<file>.gguf`` (https://lmstudio.ai/docs/basics/
  import-model); ``~/.lmstudio-home-pointer`` and ``settings.json`` ``downloadsFolder``
  (lmstudio-ai/lmstudio-js findLMStudioHome.ts@7c40eb8, lmstudio-ai/lms src/modelsFolder.ts@3cc0201).
- **Jan** (janhq/jan extensions/llamacpp-extension/src/index.ts@000e123): ``<data>/llamacpp/models/
  <id>/model.yml`` with ``model_path`` / ``mmproj_path`` relative to the data folder (or absolute),
  ``model.gguf`` and ``mmproj.gguf``.
- **text-generation-webui** (oobabooga/text-generation-webui docs/Multimodal Tutorial.md@34f1cd8):
  ``user_data/models`` and ``user_data/mmproj``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmcheck.db import CompatDB
from mmcheck.testing.builders import write_text_model
from mmcheck.testing.presets import text_spec_for_lineage, write_family_projector

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"
MODEL = "application/vnd.ollama.image.model"
PROJECTOR = "application/vnd.ollama.image.projector"
TEMPLATE = "application/vnd.ollama.image.template"
PARAMS = "application/vnd.ollama.image.params"
LICENSE = "application/vnd.ollama.image.license"

# The distinct GGUF files every tree is made of: kind, database id(s).
FILES: dict[str, tuple[str, ...]] = {
    "vicuna-7b": ("model", "vicuna-7b-v1.5"),
    "vicuna-13b": ("model", "vicuna-13b-v1.5"),
    "mistral-7b": ("model", "mistral-7b-v0.2"),
    "llava-7b-proj": ("proj", "llava-1.5", "llava-1.5-7b"),
    "llava-13b-proj": ("proj", "llava-1.5", "llava-1.5-13b"),
    "gemma3-12b-fused": ("fused", "gemma-3-12b"),
}


class Files:
    """Writes each distinct file once (into ``cache``) and hands out copies."""

    def __init__(self, db: CompatDB, cache: Path) -> None:
        self.db, self.cache = db, cache
        cache.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The written file for ``key`` (see ``FILES``)."""
        p = self.cache / f"{key}.gguf"
        if p.exists():
            return p
        kind, *ids = FILES[key]
        if kind == "model":
            write_text_model(p, text_spec_for_lineage(self.db.lineages[ids[0]]))
        elif kind == "fused":  # an Ollama library vision model: the vision tower's keys in the text GGUF
            from gguf import GGUFValueType

            spec = text_spec_for_lineage(self.db.lineages[ids[0]])
            u32, f32 = GGUFValueType.UINT32, GGUFValueType.FLOAT32
            spec.extra_keys = {
                **spec.extra_keys,
                "gemma3.vision.block_count": (27, u32),
                "gemma3.vision.embedding_length": (1152, u32),
                "gemma3.vision.feed_forward_length": (4304, u32),
                "gemma3.vision.attention.head_count": (16, u32),
                "gemma3.vision.attention.layer_norm_epsilon": (1e-6, f32),
                "gemma3.vision.image_size": (896, u32),
                "gemma3.vision.patch_size": (14, u32),
                "gemma3.vision.num_channels": (3, u32),
            }
            write_text_model(p, spec)
        else:
            family = self.db.families[ids[0]]
            variant = next(v for v in family.variants if v.id == ids[1])
            write_family_projector(p, family, variant, self.db, weight_type="F16")
        return p

    def bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------
# Ollama
# ------------------------------------------------------------------------------------------------


@dataclass
class OllamaTree:
    root: Path  # the models folder (OLLAMA_MODELS)
    digests: dict[str, str]  # file key -> "sha256:<hex>"


def _blob(root: Path, data: bytes) -> str:
    digest = "sha256:" + sha256(data)
    path = root / "blobs" / digest.replace(":", "-")
    if not path.exists():
        path.write_bytes(data)
    return digest


def _layer(root: Path, media: str, data: bytes, **extra: str) -> dict[str, Any]:
    # field order of manifest.Layer: mediaType, digest, size, from, name
    return {"mediaType": media, "digest": _blob(root, data), "size": len(data), **extra}


def write_manifest(
    root: Path, name: tuple[str, str, str, str], layers: list[dict[str, Any]], config: dict[str, Any] | None = None
) -> Path:
    """``manifests/<host>/<namespace>/<model>/<tag>`` as ``manifest.WriteManifest`` writes it."""
    cfg = config or {
        "model_format": "gguf",
        "model_family": "llama",
        "model_families": ["llama"],
        "model_type": "7B",
        "file_type": "F16",
        "architecture": "amd64",
        "os": "linux",
    }
    cfg_bytes = (json.dumps(cfg, separators=(",", ":")) + "\n").encode()
    doc = {"schemaVersion": 2, "mediaType": MANIFEST_V2, "config": _layer(root, CONFIG, cfg_bytes), "layers": layers}
    path = root / "manifests" / Path(*name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")  # json.Encoder.Encode: compact + newline
    return path


def build_ollama(root: Path, files: Files) -> OllamaTree:
    """An Ollama models folder: fitting, mixed-up, fused, text-only, HF-pulled and broken entries."""
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    lib = ("registry.ollama.ai", "library")
    tmpl = _layer(root, TEMPLATE, b"{{ .Prompt }}")
    params = _layer(root, PARAMS, b'{"stop":["</s>"]}')
    llava13 = [
        _layer(root, MODEL, files.bytes("vicuna-13b")),
        _layer(root, PROJECTOR, files.bytes("llava-13b-proj")),
        tmpl,
        params,
        _layer(root, LICENSE, b"LLAMA 2 COMMUNITY LICENSE"),
    ]
    write_manifest(root, (*lib, "llava", "13b"), llava13)
    write_manifest(root, (*lib, "llava", "latest"), llava13)  # another tag, the same blobs
    # a user's Modelfile: FROM mistral + FROM a LLaVA-7B projector (same width, other lineage)
    write_manifest(
        root,
        ("registry.ollama.ai", "alice", "mistral-vision", "latest"),
        [_layer(root, MODEL, files.bytes("mistral-7b")), _layer(root, PROJECTOR, files.bytes("llava-7b-proj"))],
    )
    # ... and the 13B model with the 7B projector: the runtime refuses it
    write_manifest(
        root,
        ("registry.ollama.ai", "alice", "llava-wrong", "13b"),
        [_layer(root, MODEL, files.bytes("vicuna-13b")), _layer(root, PROJECTOR, files.bytes("llava-7b-proj"))],
    )
    gemma_cfg = {
        "model_format": "gguf",
        "model_family": "gemma3",
        "model_families": ["gemma3"],
        "model_type": "12.2B",
        "file_type": "Q4_K_M",
        "architecture": "amd64",
        "os": "linux",
    }
    write_manifest(
        root, (*lib, "gemma3", "12b"), [_layer(root, MODEL, files.bytes("gemma3-12b-fused")), tmpl], gemma_cfg
    )
    write_manifest(root, (*lib, "mistral", "7b"), [_layer(root, MODEL, files.bytes("mistral-7b")), tmpl])
    write_manifest(
        root,
        ("hf.co", "ggml-org", "llava-1.5-7b-GGUF", "Q4_K_M"),
        [_layer(root, MODEL, files.bytes("vicuna-7b")), _layer(root, PROJECTOR, files.bytes("llava-7b-proj"))],
    )
    digests = {
        k: "sha256:" + sha256(files.bytes(k))
        for k in FILES
        if (root / "blobs" / ("sha256-" + sha256(files.bytes(k)))).exists()
    }
    return OllamaTree(root, digests)


def break_ollama(tree: OllamaTree, outside: Path) -> dict[str, Path]:
    """Add the bad contents the scan must survive; returns their manifests."""
    root = tree.root
    lib = root / "manifests" / "registry.ollama.ai" / "library"
    bad: dict[str, Path] = {}
    (lib / "broken").mkdir(parents=True, exist_ok=True)
    bad["broken"] = lib / "broken" / "latest"
    bad["broken"].write_text('{"schemaVersion":2,"layers":[{"mediaType":')  # a truncated write
    missing = "sha256:" + "0" * 64
    bad["missing"] = write_manifest(
        root,
        ("registry.ollama.ai", "library", "missing", "latest"),
        [{"mediaType": MODEL, "digest": missing, "size": 123}],
    )
    bad["traversal"] = write_manifest(
        root,
        ("registry.ollama.ai", "library", "traversal", "latest"),
        [{"mediaType": MODEL, "digest": "sha256:../../../../etc/passwd", "size": 1}],
    )
    # a blob that is a symlink to a file outside the store
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "not-a-blob.gguf"
    shutil.copyfile(tree.root / "blobs" / tree.digests["vicuna-7b"].replace(":", "-"), secret)
    fake = "sha256:" + "e" * 64
    os.symlink(secret, root / "blobs" / fake.replace(":", "-"))
    bad["symlink-out"] = write_manifest(
        root, ("registry.ollama.ai", "library", "linked", "latest"), [{"mediaType": MODEL, "digest": fake, "size": 1}]
    )
    return bad


# ------------------------------------------------------------------------------------------------
# Hugging Face cache (and llama.cpp's -hf cache, the same layout)
# ------------------------------------------------------------------------------------------------

COMMITS = {
    "ggml-org/llava-1.5-GGUF": "3f1ae0a9c4d3e1b0c2b7a4f9e8d7c6b5a4f3e2d1",
    "ggml-org/llava-1.5-GGUF@old": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    "unsloth/llava-1.5-7b-hf-GGUF": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807",
    "koboldcpp/mmproj": "1111111111111111111111111111111111111111",
    "someone/broken-GGUF": "2222222222222222222222222222222222222222",
    "google/gemma-3-12b-it": "3333333333333333333333333333333333333333",
}


def hf_repo(
    cache: Path, repo: str, commit: str, files: dict[str, bytes], *, ref: str | None = "main", shared: bool = False
) -> Path:
    """One repository snapshot: ``refs/<ref>``, ``blobs/<sha256>``, ``snapshots/<commit>/<file>`` ->
    ``../../blobs/<sha256>`` (one more ``../`` per subfolder). ``shared``: each repo blob is itself a
    symlink into the cache-wide ``blobs/<2 hex>/<hash>`` store."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    (folder / "blobs").mkdir(parents=True, exist_ok=True)
    if ref is not None:
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / ref).write_text(commit)  # no newline: huggingface_hub writes the bare hash
    snap = folder / "snapshots" / commit
    for rel, data in files.items():
        etag = sha256(data)
        blob = folder / "blobs" / etag
        if not blob.exists() and not blob.is_symlink():
            if shared:
                xet = sha256(b"xet:" + data)
                store = cache / "blobs" / xet[:2] / xet
                store.parent.mkdir(parents=True, exist_ok=True)
                store.write_bytes(data)
                os.symlink(os.path.relpath(store, blob.parent), blob)
            else:
                blob.write_bytes(data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    return snap


def build_hf_cache(cache: Path, files: Files) -> dict[str, Path]:
    """A hub cache: a two-size LLaVA repo (two revisions), a shared-blob repo, a projector-only repo, a
    safetensors repo, a dataset; returns the snapshot folders."""
    cache.mkdir(parents=True, exist_ok=True)
    snaps = {}
    llava = {
        "llava-v1.5-7b-Q4_K_M.gguf": files.bytes("vicuna-7b"),
        "llava-v1.5-13b-Q4_K_M.gguf": files.bytes("vicuna-13b"),
        "mmproj-llava-v1.5-7b-f16.gguf": files.bytes("llava-7b-proj"),
        "mmproj-llava-v1.5-13b-f16.gguf": files.bytes("llava-13b-proj"),
        "README.md": b"# llava\n",
    }
    snaps["llava"] = hf_repo(cache, "ggml-org/llava-1.5-GGUF", COMMITS["ggml-org/llava-1.5-GGUF"], llava)
    snaps["llava-old"] = hf_repo(
        cache,
        "ggml-org/llava-1.5-GGUF",
        COMMITS["ggml-org/llava-1.5-GGUF@old"],
        {"llava-v1.5-7b-Q4_K_M.gguf": files.bytes("vicuna-7b")},
        ref=None,
    )
    snaps["unsloth"] = hf_repo(
        cache,
        "unsloth/llava-1.5-7b-hf-GGUF",
        COMMITS["unsloth/llava-1.5-7b-hf-GGUF"],
        {"llava-1.5-7b-hf-Q4_K_M.gguf": files.bytes("vicuna-7b"), "mmproj-F16.gguf": files.bytes("llava-7b-proj")},
        shared=True,
    )
    snaps["kobold"] = hf_repo(
        cache,
        "koboldcpp/mmproj",
        COMMITS["koboldcpp/mmproj"],
        {"mistral-7b-mmproj-v1.5-Q4_1.gguf": files.bytes("llava-7b-proj")},
    )
    snaps["safetensors"] = hf_repo(
        cache,
        "google/gemma-3-12b-it",
        COMMITS["google/gemma-3-12b-it"],
        {"config.json": b"{}", "model-00001-of-00005.safetensors": b"\0" * 16},
    )
    (cache / "datasets--someone--data" / "snapshots").mkdir(parents=True, exist_ok=True)
    return snaps


def break_hf_cache(cache: Path, files: Files, outside: Path) -> Path:
    """A repo with a dangling symlink (its blob deleted), a symlink loop and a link out of the cache."""
    snap = hf_repo(
        cache,
        "someone/broken-GGUF",
        COMMITS["someone/broken-GGUF"],
        {
            "model-Q4_K_M.gguf": files.bytes("vicuna-7b"),
            "mmproj-f16.gguf": files.bytes("llava-7b-proj"),
            "gone-Q8_0.gguf": b"GGUF-gone",
        },
    )
    (cache / "models--someone--broken-GGUF" / "blobs" / sha256(b"GGUF-gone")).unlink()
    os.symlink("loop-b.gguf", snap / "loop-a.gguf")
    os.symlink("loop-a.gguf", snap / "loop-b.gguf")
    outside.mkdir(parents=True, exist_ok=True)
    target = outside / "elsewhere.gguf"
    shutil.copyfile(files.path("vicuna-13b"), target)
    os.symlink(os.path.relpath(target, snap), snap / "escape-Q4_K_M.gguf")
    return snap


# ------------------------------------------------------------------------------------------------
# LM Studio, Jan, text-generation-webui, llama.cpp's flat files
# ------------------------------------------------------------------------------------------------


def build_lmstudio(home: Path, files: Files) -> Path:
    """``~/.lmstudio/models/<publisher>/<repo>/``; returns the models folder."""
    models = home / ".lmstudio" / "models"
    d = models / "lmstudio-community" / "llava-v1.5-13b-GGUF"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.path("vicuna-13b"), d / "llava-v1.5-13b-Q4_K_M.gguf")
    shutil.copyfile(files.path("llava-13b-proj"), d / "mmproj-model-f16.gguf")  # lmstudio-community's name
    d = models / "second-state" / "Llava-v1.5-7B-GGUF"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.path("vicuna-7b"), d / "llava-v1.5-7b-Q5_K_M.gguf")
    shutil.copyfile(files.path("llava-13b-proj"), d / "llava-v1.5-7b-mmproj-model-f16.gguf")  # the wrong one
    d = models / "TheBloke" / "Mistral-7B-Instruct-v0.2-GGUF"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.path("mistral-7b"), d / "mistral-7b-instruct-v0.2.Q4_K_M.gguf")
    (home / ".lmstudio" / ".internal").mkdir(exist_ok=True)
    return models


def build_jan(data: Path, files: Files, outside: Path) -> Path:
    """``<data>/llamacpp/models/<id>/model.yml`` (+ ``model.gguf``, ``mmproj.gguf``); returns ``data``."""
    import yaml

    models = data / "llamacpp" / "models"

    def model(mid: str, model_key: str | None, mmproj_key: str | None, **paths: str | None) -> Path:
        d = models / mid
        d.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = {"name": mid}
        if model_key:
            shutil.copyfile(files.path(model_key), d / "model.gguf")
            doc["model_path"] = f"llamacpp/models/{mid}/model.gguf"
        if mmproj_key:
            shutil.copyfile(files.path(mmproj_key), d / "mmproj.gguf")
            doc["mmproj_path"] = f"llamacpp/models/{mid}/mmproj.gguf"
        doc.update({k: v for k, v in paths.items()})
        doc["size_bytes"] = sum(f.stat().st_size for f in d.glob("*.gguf"))
        (d / "model.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return d

    model("llava-1.5-7b", "vicuna-7b", "llava-7b-proj")
    model("ggml-org/llava-1.5-13b", "vicuna-13b", "llava-7b-proj")  # an id with a slash; the wrong projector
    outside.mkdir(parents=True, exist_ok=True)
    imported = outside / "imported-mmproj-13b.gguf"
    shutil.copyfile(files.path("llava-13b-proj"), imported)
    model("imported-13b", "vicuna-13b", None, mmproj_path=str(imported))  # an absolute import: followed
    model("escaping", "vicuna-7b", None, mmproj_path="../../../../etc/mmproj.gguf")
    model("gone", None, None, model_path="llamacpp/models/gone/model.gguf")
    d = models / "broken-yml"
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.yml").write_text("model_path: [unclosed\n")
    return data


def build_textgen(install: Path, files: Files) -> Path:
    """``user_data/models`` and ``user_data/mmproj``; returns ``user_data``."""
    ud = install / "user_data"
    (ud / "models").mkdir(parents=True, exist_ok=True)
    (ud / "mmproj").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.path("vicuna-7b"), ud / "models" / "llava-v1.5-7b-Q4_K_M.gguf")
    shutil.copyfile(files.path("vicuna-13b"), ud / "models" / "llava-v1.5-13b-Q4_K_M.gguf")
    shutil.copyfile(files.path("mistral-7b"), ud / "models" / "mistral-7b-instruct-v0.2.Q4_K_M.gguf")
    shutil.copyfile(files.path("llava-7b-proj"), ud / "mmproj" / "mmproj-llava-v1.5-7b-F16.gguf")
    shutil.copyfile(files.path("llava-13b-proj"), ud / "mmproj" / "mmproj-llava-v1.5-13b-F16.gguf")
    return ud


def build_llama_cache(cache: Path, files: Files) -> Path:
    """``LLAMA_CACHE``: an ``-hf`` repository (Hugging Face layout) and a ``-dr`` Docker model file."""
    hf_repo(
        cache,
        "ggml-org/llava-1.5-7b-GGUF",
        "4444444444444444444444444444444444444444",
        {
            "llava-v1.5-7b-Q4_K_M.gguf": files.bytes("vicuna-7b"),
            "mmproj-llava-v1.5-7b-f16.gguf": files.bytes("llava-7b-proj"),
        },
    )
    shutil.copyfile(files.path("mistral-7b"), cache / "ai_mistral_latest.gguf")  # "ai/mistral" + ":latest"
    return cache
