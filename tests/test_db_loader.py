"""The compatibility database loader: the shipped DB, every kind of bad entry, and the cache."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmcheck.db import CompatDB, load_db, validate_db
from mmcheck.db import loader as loader_mod
from mmcheck.errors import DBError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "compat_db"

# tools/mtmd/clip-impl.h PROJECTOR_TYPE_NAMES at llama.cpp 0c1e570: the 63 type strings (mlp_norm has none).
DOMAIN_TYPES = [
    "mlp",
    "ldp",
    "ldpv2",
    "resampler",
    "minicpmv4_6",
    "adapter",
    "qwen2vl_merger",
    "qwen2.5vl_merger",
    "qwen3vl_merger",
    "ling3vl",
    "mimovl",
    "youtuvl",
    "exaone4_5",
    "glm4v",
    "glm5v",
    "minimax_m3",
    "muse-glimmer",
    "step3vl",
    "gemma3",
    "gemma3nv",
    "gemma3na",
    "gemma4v",
    "gemma4uv",
    "gemma4a",
    "gemma4ua",
    "phi4",
    "idefics3",
    "pixtral",
    "lightonocr",
    "internvl",
    "nemotron_v2_vl",
    "llama4",
    "lfm2",
    "kimivl",
    "kimik25",
    "paddleocr",
    "dots_ocr",
    "dots3note_v",
    "dots3note_a",
    "cogvlm",
    "janus_pro",
    "deepseekocr",
    "deepseekocr2",
    "deepseek4v",
    "hunyuanvl",
    "yasa2",
    "granite4_vision",
    "ultravox",
    "voxtral",
    "meralion",
    "glma",
    "qwen2a",
    "qwen3a",
    "qwen2.5o",
    "musicflamingo",
    "lfm2a",
    "parakeet",
    "granite_speech",
    "mimo_audio",
    "qwen3tts_spkenc",
    "qwen3tts_gen",
    "pockettts_spkenc",
    "pockettts_gen",
]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache directory (never the user's)."""
    d = tmp_path / "cache"
    monkeypatch.setenv("MMCHECK_CACHE_DIR", str(d))
    return d


@pytest.fixture
def dbcopy(tmp_path: Path) -> Path:
    """A copy of the shipped DB to edit."""
    dst = tmp_path / "db"
    shutil.copytree(SHIPPED, dst)
    return dst


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` with ``new``; return the 1-based line where ``new`` starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text[:at].count("\n") + 1


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``."""
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def only_error(root: Path) -> DBError:
    errors = validate_db(root)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --- the shipped database ------------------------------------------------------------------


def test_shipped_db_validates_with_zero_errors() -> None:
    assert [str(e) for e in validate_db(SHIPPED)] == []


def test_every_llama_cpp_type_is_present_and_fork_strings_are_not() -> None:
    assert len(DOMAIN_TYPES) == 63 == len(set(DOMAIN_TYPES))
    db = load_db(SHIPPED)
    assert set(db.projector_types) == set(DOMAIN_TYPES) | {"mlp_norm"}
    assert "implicit" in db.projector_types["mlp_norm"].notes.lower()
    for fork_only in ("locateanything", "phi3_v", "hunyuanocr"):
        assert db.projector_type(fork_only) is None
    assert db.revision == "0c1e570"


def test_width_rules_match_clip_n_mmproj_embd() -> None:
    db = load_db(SHIPPED)
    w = {t.id: t.width for t in db.projector_types.values()}
    assert (w["mlp"].tensor, w["mlp"].dim, w["mlp"].optional) == ("mm.2.weight", 1, True)
    assert (w["resampler"].tensor, w["resampler"].dim) == ("resampler.proj.weight", 0)
    assert (w["gemma3"].dim, w["gemma4v"].dim) == (0, 1)
    assert w["qwen3vl_merger"].kind == "tensor_times_deepstack"
    assert w["granite4_vision"].kind == "feature_layers_times_projection_dim"
    assert w["gemma3na"].kind == "none"
    assert w["gemma4a"].fallback_key == "clip.audio.projection_dim"
    assert w["parakeet"].optional and w["gemma4a"].optional
    assert (w["qwen3tts_spkenc"].tensor, w["qwen3tts_spkenc"].dim) == ("mm.a.fc.weight", 2)


def test_token_rules_and_facts_from_clip() -> None:
    db = load_db(SHIPPED)
    t = db.projector_types
    assert t["mlp"].tokens.tokens_for({"image_size": 336, "patch_size": 14}) == 576
    assert t["ldp"].tokens.tokens_for({"image_size": 336, "patch_size": 14}) == 144
    gemma3_m = t["gemma3"].merge
    assert gemma3_m is not None and gemma3_m.default == 4
    assert t["gemma3"].tokens.tokens_for({"image_size": 896, "patch_size": 14, "merge": 4}) == 256
    assert t["pixtral"].tokens.tokens_for({"image_size": 512, "patch_size": 16, "merge": 1}) == 1055
    assert t["deepseekocr"].tokens.tokens_for({"image_size": 1024, "patch_size": 16}) == 273
    assert (t["gemma4v"].tokens.min, t["gemma4v"].tokens.max) == (70, 1120)
    assert t["resampler"].tokens.tokens_for({"query_num": 64}) == 64
    assert t["qwen2vl_merger"].rope == "mrope" and t["qwen3vl_merger"].rope == "imrope"
    assert t["qwen2.5o"].remap == {"vision": "qwen2.5vl_merger", "audio": "qwen2a"}
    from mmcheck.runtimes import first_versions

    # the first versions come from the one runtime table (compat_db/runtimes.yaml)
    assert "llama.cpp b9493" in first_versions(db, "gemma4uv")
    assert "KoboldCpp 1.101" in first_versions(db, "qwen3vl_merger")
    assert t["gemma3"].non_causal is True and t["gemma4v"].non_causal == "conditional"
    assert "clip.vision.n_wa_pattern" in t["qwen2.5vl_merger"].required_keys
    assert "clip.audio.num_mel_bins" in t["qwen2a"].required_keys
    assert "v.token_embd.img_break" in t["pixtral"].baked_embeddings
    assert "mm.2.weight" in t["mlp"].required_tensors


def test_default_path_is_the_repo_db() -> None:
    assert loader_mod.default_db_path() == SHIPPED.resolve()
    assert load_db().projector_types == load_db(SHIPPED).projector_types


def test_missing_lineages_and_families_give_empty_dicts(tmp_path: Path) -> None:
    root = tmp_path / "minimal"
    root.mkdir()
    shutil.copy(SHIPPED / "projector_types.yaml", root)
    shutil.copy(SHIPPED / "runtimes.yaml", root)
    db = load_db(root)
    assert db.lineages == {} and db.families == {}
    assert db.families_for_type("mlp") == []


def test_families_for_type(famdb: Path) -> None:
    db = load_db(famdb)
    assert db.families["zz-test"] in db.families_for_type("gemma3")
    assert db.families["zz-test"].finetunes_work == "yes"  # bare YAML `yes` is a boolean
    assert db.families["zz-test"].variants[0].lineage == "zz-base"


# --- bad entries ---------------------------------------------------------------------------

PT = "projector_types.yaml"
MINIMAL = """\
  - id: {id}
    modality: vision
    width: {{kind: none}}
    tokens: {{expr: null}}
    source: tests/test_db_loader.py
    confidence: inferred
"""
RT = "runtimes.yaml"

# (file, old, new, expected message fragment, needle whose line the error must point at)
CASES: dict[str, tuple[str, str, str, str, str]] = {
    "missing field": (
        PT,
        "  - id: ldp\n    modality: vision\n",
        "  - id: ldp\n",
        "missing required field 'modality'",
        "  - id: ldp\n",
    ),
    "wrong type": (
        PT,
        "tensor: mm.2.weight, dim: 1, optional: true",
        "tensor: mm.2.weight, dim: one, optional: true",
        "must be an integer",
        "dim: one",
    ),
    "wrong type (list)": (
        PT,
        "    text_architectures: [llama]\n",
        "    text_architectures: llama\n",
        "must be a list",
        "text_architectures: llama",
    ),
    "bad enum": (
        PT,
        "  - id: ldp\n    modality: vision",
        "  - id: ldp\n    modality: visual",
        "must be one of vision, audio, gen_audio; got 'visual'",
        "modality: visual",
    ),
    "bad enum (marker kind)": (
        PT,
        '{text: "<|vision_start|>", kind: T}',
        '{text: "<|vision_start|>", kind: X}',
        "must be one of T, L, E",
        "kind: X",
    ),
    "unknown key": (
        PT,
        "  - id: ldp\n",
        "  - id: ldp\n    modallity: vision\n",
        "unknown key 'modallity' (did you mean 'modality'?)",
        "modallity",
    ),
    "unknown top-level key": (PT, "types:\n", "typos: 1\ntypes:\n", "unknown key 'typos'", "typos: 1"),
    "duplicate id": (
        PT,
        "  - id: mlp_norm\n",
        MINIMAL.format(id="mlp") + "  - id: mlp_norm\n",
        "duplicate type id 'mlp'",
        "  - id: mlp\n    modality: vision\n    width: {kind: none}",
    ),
    "duplicate yaml key": (PT, "  - id: ldp\n", "  - id: ldp\n    id: ldp\n", "duplicate key 'id'", "    id: ldp"),
    "bad id": (
        PT,
        "  - id: mlp_norm\n",
        MINIMAL.format(id="Bad_ID") + "  - id: mlp_norm\n",
        "not a valid id",
        "id: Bad_ID",
    ),
    "bad expression": (
        PT,
        'expr: "(image_size // patch_size) ** 2"',
        'expr: "image_size.real"',
        "attribute access is not allowed",
        "image_size.real",
    ),
    "unknown expression variable": (
        PT,
        'expr: "(image_size // patch_size) ** 2"',
        'expr: "(image_size // patch_sz) ** 2"',
        "unknown variable 'patch_sz'",
        "patch_sz",
    ),
    "huge exponent": (
        PT,
        'expr: "(image_size // patch_size) ** 2"',
        'expr: "(image_size // patch_size) ** 99"',
        "exponent 99 exceeds 64",
        "** 99",
    ),
    "min above max": (
        PT,
        "      min: 8\n      max: 4096\n",
        "      min: 9000\n      max: 4096\n",
        "greater than max",
        "min: 9000",
    ),
    "width kind needs tensor": (
        PT,
        "{kind: tensor, tensor: mm.2.weight, dim: 1, optional: true}",
        "{kind: tensor, dim: 1, optional: true}",
        "needs a 'tensor'",
        "{kind: tensor, dim: 1,",
    ),
    "E marker not baked": (
        PT,
        "    baked_embeddings: [v.token_embd.img_break]\n",
        "    baked_embeddings: []\n",
        "not listed in baked_embeddings",
        '{text: "v.token_embd.img_break"',
    ),
    "required key not clip": (
        PT,
        "      - clip.vision.n_wa_pattern\n",
        "      - vision.n_wa_pattern\n",
        "not an mmproj key",
        "- vision.n_wa_pattern",
    ),
    "min_runtime is gone (runtimes.yaml is the one version table)": (
        PT,
        "    remap: {vision: qwen2.5vl_merger",
        '    min_runtime: {koboldcpp: "1.101"}\n    remap: {vision: qwen2.5vl_merger',
        "unknown key 'min_runtime'",
        "min_runtime",
    ),
    "dangling remap type": (
        PT,
        "remap: {vision: qwen2.5vl_merger",
        "remap: {vision: qwen2.6vl_merger",
        "unknown type 'qwen2.6vl_merger'",
        "qwen2.6vl_merger",
    ),
    "schema version": (PT, "schema_version: 1", "schema_version: 2", "must be <= 1", "schema_version: 2"),
    "malformed yaml": (RT, "    name: KoboldCpp\n", "    name: Kobold: Cpp\n", "malformed YAML", "Kobold: Cpp"),
    "unquoted float version": (RT, 'version: "1.101"', "version: 1.101", "must be a string", "version: 1.101"),
    "dangling type in runtime": (
        RT,
        "adds: [gemma4uv, gemma4ua]",
        "adds: [gemma4uv, gemma5ua]",
        "unknown type 'gemma5ua'",
        "gemma5ua",
    ),
    "bad date": (RT, "date: 2026-06-03", "date: June 2026", "must be a date", "date: June 2026"),
    "runtime version without version or date": (
        RT,
        '      - version: "b9496"\n',
        "      - version: ~\n",
        "needs a version or a date",
        "version: ~",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_entry_is_reported_at_its_line(case: str, dbcopy: Path) -> None:
    name, old, new, fragment, needle = CASES[case]
    edit(dbcopy / name, old, new)
    err = only_error(dbcopy)
    assert err.file == name
    assert err.line == line_of(dbcopy / name, needle), str(err)
    assert fragment in err.message, str(err)
    assert str(err).startswith(f"{name}:{err.line}: ")


FAMILY = """\
schema_version: 1
family:
  id: zz-test
  name: ZZ test family
  projector_types: [gemma3]
  encoder: {name: SigLIP, embedding_length: 1152, block_count: 27, image_size: 896, patch_size: 14, head_count: 16}
  variants:
    - id: zz-test-4b
      size_label: 4B
      lineage: zz-base
      output_width: 2560
      tokens_per_image: 256
      context_length: 131072
      text_name_patterns: ['(?i)zz[- ]?4b']
  finetunes_work: yes
  finetunes_note: ""
  source: tests/test_db_loader.py
  confidence: inferred
"""

LINEAGES_EXTRA = """
  - id: zz-base
    name: ZZ base
    architecture: gemma3
    n_embd: 2560
    rope_freq_base: 1000000.0
    name_patterns: ['(?i)zz']
    source: tests/test_db_loader.py
    confidence: inferred
"""


def append_lineage(lin: Path) -> None:
    """Append LINEAGES_EXTRA to lineages.yaml, indented like the file's own list items."""
    if not lin.exists():
        lin.write_text("schema_version: 1\nlineages:" + LINEAGES_EXTRA, encoding="utf-8")
        return
    text = lin.read_text(encoding="utf-8")
    found = re.search(r"^( *)- id:", text, re.M)
    indent = found.group(1) if found else "  "
    extra = "\n".join(line[2:] if line.startswith("  ") else line for line in LINEAGES_EXTRA.splitlines())
    extra = "\n".join(indent + line if line else line for line in extra.splitlines())
    lin.write_text(text.rstrip("\n") + "\n" + extra + "\n", encoding="utf-8")


@pytest.fixture
def famdb(dbcopy: Path) -> Path:
    """The DB copy plus a test family and its lineage (independent of the shipped families)."""
    (dbcopy / "families" / "zz-test.yaml").write_text(FAMILY, encoding="utf-8")
    append_lineage(dbcopy / "lineages.yaml")
    assert validate_db(dbcopy) == []
    return dbcopy


FAMILY_CASES: dict[str, tuple[str, str, str, str]] = {
    "dangling lineage": ("lineage: zz-base", "lineage: zz-nope", "unknown lineage 'zz-nope'", "zz-nope"),
    "dangling projector type": (
        "projector_types: [gemma3]",
        "projector_types: [gemma3, gemma9]",
        "unknown type 'gemma9'",
        "gemma9",
    ),
    "bad regex": ("['(?i)zz[- ]?4b']", "['(?i)zz[- ?4b']", "invalid regular expression", "zz[- ?4b"),
    "bad finetunes enum": (
        "finetunes_work: yes",
        "finetunes_work: maybe",
        "must be one of yes, no, unknown",
        "finetunes_work: maybe",
    ),
    "negative width": ("output_width: 2560", "output_width: -1", "must be >= 1", "output_width: -1"),
    "file name differs from id": (
        "  id: zz-test\n",
        "  id: zz-other\n",
        "must be named families/zz-other.yaml",
        "id: zz-other",
    ),
    "unknown encoder key": ("head_count: 16}", "heads: 16}", "unknown key 'heads'", "encoder:"),
    "unknown variants key": ("  variants:\n", "  variantz:\n", "unknown key 'variantz'", "variantz"),
    "missing variants": ("  variants:\n", "  variantz:\n", "missing required field 'variants'", "  id: zz-test"),
}


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_bad_family_entry_is_reported_at_its_line(case: str, famdb: Path) -> None:
    old, new, fragment, needle = FAMILY_CASES[case]
    path = famdb / "families" / "zz-test.yaml"
    edit(path, old, new)
    errors = validate_db(famdb)
    matching = [e for e in errors if fragment in e.message]
    assert len(matching) == 1, [str(e) for e in errors]
    err = matching[0]
    assert (err.file, err.line) == ("families/zz-test.yaml", line_of(path, needle)), str(err)


def test_bad_lineage_entries(famdb: Path) -> None:
    lin = famdb / "lineages.yaml"
    edit(lin, "name: ZZ base\n", "name: 7\n")
    edit(lin, "name_patterns: ['(?i)zz']\n", "name_patterns: ['(?i)zz(']\n")
    errors = validate_db(famdb)
    assert len(errors) == 2, [str(e) for e in errors]
    assert {e.file for e in errors} == {"lineages.yaml"}
    assert any(e.line == line_of(lin, "name: 7") and "name must be a string" in e.message for e in errors)
    assert any(e.line == line_of(lin, "zz(") and "invalid regular expression" in e.message for e in errors)


def test_duplicate_lineage_and_variant_ids(famdb: Path) -> None:
    (famdb / "families" / "zz-test2.yaml").write_text(
        FAMILY.replace("id: zz-test\n", "id: zz-test2\n"), encoding="utf-8"
    )
    lin = famdb / "lineages.yaml"
    append_lineage(lin)
    errors = validate_db(famdb)
    messages = [str(e) for e in errors]
    assert any(
        e.file == "families/zz-test2.yaml" and "duplicate variant id 'zz-test-4b'" in e.message and e.line == 8
        for e in errors
    ), messages
    second = lin.read_text(encoding="utf-8").rindex("- id: zz-base")
    assert any(
        e.file == "lineages.yaml"
        and "duplicate lineage id 'zz-base'" in e.message
        and e.line == lin.read_text(encoding="utf-8")[:second].count("\n") + 1
        for e in errors
    ), messages


def test_all_errors_are_collected_and_load_raises_the_first(dbcopy: Path) -> None:
    pt = dbcopy / PT
    first = edit(pt, "  - id: ldp\n    modality: vision", "  - id: ldp\n    modality: visual") + 1
    edit(pt, 'expr: "(image_size // patch_size) ** 2 // 4 + 2"', 'expr: "1.5"')
    edit(dbcopy / RT, "adds: [gemma4uv, gemma4ua]", "adds: [gemma4uv, gemma5ua]")
    errors = validate_db(dbcopy)
    assert len(errors) == 3, [str(e) for e in errors]
    assert [e.file for e in errors] == [PT, PT, RT]
    with pytest.raises(DBError) as info:
        load_db(dbcopy)
    assert (info.value.file, info.value.line) == (PT, first)
    assert info.value.message.startswith("3 errors")


def test_empty_and_missing_files(tmp_path: Path, dbcopy: Path) -> None:
    (dbcopy / RT).write_text("# nothing\n", encoding="utf-8")
    err = only_error(dbcopy)
    assert (err.file, err.line, err.message) == (RT, 1, "file is empty")
    with pytest.raises(DBError, match="not found"):
        load_db(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    assert "no projector_types.yaml" in validate_db(tmp_path / "empty")[0].message


def test_unsupported_yaml_features(dbcopy: Path) -> None:
    pt = dbcopy / PT
    edit(pt, "  - id: ldp\n", "  - id: ldp\n    <<: {notes: x}\n")
    err = only_error(dbcopy)
    assert "merge keys" in err.message and err.line == line_of(pt, "<<:")


# --- the cache -----------------------------------------------------------------------------


def _no_parse(*args: object) -> None:
    raise AssertionError("the DB was parsed although the cache should have been hit")


def test_second_load_is_a_cache_hit_and_equal(dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_db(dbcopy)
    assert len(list(cache_dir.glob("db-*.json"))) == 1
    monkeypatch.setattr(loader_mod, "_parse", _no_parse)
    second = load_db(dbcopy)
    assert isinstance(second, CompatDB)
    assert second == first
    assert second is not first


def test_editing_a_yaml_file_invalidates_the_cache(dbcopy: Path, cache_dir: Path) -> None:
    load_db(dbcopy)
    edit(dbcopy / PT, 'notes: "MobileVLM."', 'notes: "MobileVLM (edited)."')
    db = load_db(dbcopy)
    assert db.projector_types["ldp"].notes == "MobileVLM (edited)."
    assert len(list(cache_dir.glob("db-*.json"))) == 2
    # a new family file (not an edit of an existing one) also changes the key
    (dbcopy / "families" / "zz-test.yaml").write_text(FAMILY, encoding="utf-8")
    with pytest.raises(DBError, match="unknown lineage 'zz-base'"):
        load_db(dbcopy)


def test_a_change_to_the_db_code_invalidates_the_cache(
    dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache key covers the schema and model code, not only the YAML: no hand-bumped version."""
    from mmcheck.db import cache

    load_db(dbcopy)
    monkeypatch.setattr(cache, "_FINGERPRINT", ["another mmcheck.db source"])
    monkeypatch.setattr(loader_mod, "_parse", _no_parse)
    with pytest.raises(AssertionError):  # a miss: the YAML is parsed again
        load_db(dbcopy)
    assert cache.code_fingerprint() == "another mmcheck.db source"


# --- finding the cache entry from the files' identities ------------------------------------------


def _no_read(*args: object) -> None:
    raise AssertionError("the YAML files were read although their identities are on record")


def test_files_on_record_are_not_read_again(dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_mod, "RACY_NS", 0)  # the copy was made just now: count it as old
    first = load_db(dbcopy)
    assert len(list(cache_dir.glob("db-files-*.txt"))) == 1
    monkeypatch.setattr(loader_mod, "_read_all", _no_read)
    monkeypatch.setattr(loader_mod, "_parse", _no_parse)
    assert load_db(dbcopy) == first


def test_an_edit_that_keeps_size_and_modification_time_is_seen(
    dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader_mod, "RACY_NS", 0)
    load_db(dbcopy)
    before = (dbcopy / PT).stat()
    time.sleep(0.02)  # past the file system's timestamp tick
    edit(dbcopy / PT, 'notes: "MobileVLM."', 'notes: "MobileVLX."')  # the same size
    os.utime(dbcopy / PT, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p or rsync -t leave it
    after = (dbcopy / PT).stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert load_db(dbcopy).projector_types["ldp"].notes == "MobileVLX."  # the change time gave it away


def test_files_changed_just_now_are_read_and_hashed(
    dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_db(dbcopy)  # the copy is seconds old: within RACY_NS
    assert loader_mod.identity_key(dbcopy, loader_mod.db_files(dbcopy)) is None
    assert not list(cache_dir.glob("db-files-*.txt"))
    reads: list[object] = []
    real = loader_mod._read_all
    monkeypatch.setattr(loader_mod, "_read_all", lambda *a: reads.append(a) or real(*a))  # type: ignore[func-returns-value]
    load_db(dbcopy)
    assert reads  # found by content, as before


@pytest.mark.parametrize("damage", ["garbage", "entry deleted"])
def test_a_broken_index_is_a_miss(damage: str, dbcopy: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_mod, "RACY_NS", 0)
    first = load_db(dbcopy)
    (index,) = cache_dir.glob("db-files-*.txt")
    if damage == "garbage":
        index.write_text("not a digest\n", encoding="ascii")
    else:
        for entry in cache_dir.glob("db-*.json"):
            entry.unlink()
    assert load_db(dbcopy) == first
    assert len(index.read_text(encoding="ascii").strip()) == 64  # recorded again


def test_invalid_db_is_never_cached(dbcopy: Path, cache_dir: Path) -> None:
    edit(dbcopy / PT, "  - id: ldp\n    modality: vision", "  - id: ldp\n    modality: visual")
    for _ in range(2):
        with pytest.raises(DBError):
            load_db(dbcopy)
    assert not list(cache_dir.glob("db-*.json"))


def test_corrupt_cache_file_is_a_miss(dbcopy: Path, cache_dir: Path) -> None:
    first = load_db(dbcopy)
    (cache_file,) = cache_dir.glob("db-*.json")
    cache_file.write_text("{not json", encoding="utf-8")
    assert load_db(dbcopy) == first


@pytest.mark.parametrize("kind", ["file", "uncreatable"])
def test_unwritable_cache_dir_is_skipped_silently(
    kind: str, dbcopy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "file":
        target = tmp_path / "a-file"
        target.write_text("x", encoding="utf-8")
    else:
        # nobody, root included, can create a directory in /proc
        target = Path("/proc/mmcheck-cache-test")
    monkeypatch.setenv("MMCHECK_CACHE_DIR", str(target))
    assert load_db(dbcopy).projector_type("mlp") is not None


def test_xdg_cache_home_is_used(dbcopy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMCHECK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_db(dbcopy)
    assert list((tmp_path / "xdg" / "mmcheck").glob("db-*.json"))


def _run(code: str, env_cache: Path) -> str:
    env = {**os.environ, "MMCHECK_CACHE_DIR": str(env_cache), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


CHECK_MODULES = (
    "import sys\nfrom mmcheck.db import load_db\ndb = load_db({root!r})\n"
    "print(len(db.projector_types), 'yaml' in sys.modules, 'mmcheck.db.schema' in sys.modules)"
)


def test_cache_hit_does_not_import_yaml(dbcopy: Path, cache_dir: Path) -> None:
    code = CHECK_MODULES.format(root=str(dbcopy))
    assert _run(code, cache_dir) == "64 True True"  # miss: parsed with PyYAML
    assert _run(code, cache_dir) == "64 False False"  # hit: neither yaml nor the schema
