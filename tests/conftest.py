import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory):
    """A tiny randomly initialised Llama (2 layers, hidden 64) with the default model's tokenizer
    and chat template, saved with ``save_pretrained``; load it with ``load_policy(str(dir))``."""
    from thinkgym.agents.policy import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))
