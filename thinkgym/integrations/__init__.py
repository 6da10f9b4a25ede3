"""Adapters that bring thinkgym's verifiers to other trainers.

* :mod:`thinkgym.integrations.trl`: reward functions for TRL's ``GRPOTrainer`` (and any trainer
  that calls ``reward(prompts, completions, **dataset_columns)``), and the multi-turn envs as
  ``environment_factory`` tool environments (:mod:`thinkgym.integrations.trl_env`).
* verl and OpenRLHF need only :func:`thinkgym.score`; see ``examples/verl_reward.py`` and
  ``examples/openrlhf_reward.py``.

Datasets for all of them come from :func:`thinkgym.datasets.build`.
"""
