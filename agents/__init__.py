"""thinkgym.agents: policy loading, rollouts, the GRPO math and trainer, evaluation, and the CLI."""
