"""The R1 system prompt and the chat messages a policy sees for an env's problem.

The prompt asks for the format that :func:`thinkgym.rewards.format.format_reward` checks; both sit
below the trainer, so datasets and integrations do not import the agent package.
"""

from __future__ import annotations

R1_SYSTEM_PROMPT = (
    "A conversation between User and Assistant. The User asks a question, and the Assistant solves it. "
    "The Assistant first thinks about the reasoning process and then gives the User the answer. "
    "The reasoning process and the answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>."
)


def build_messages(problem: str, system_prompt: str | None = R1_SYSTEM_PROMPT) -> list[dict[str, str]]:
    """Chat messages for one problem: the R1 system prompt (unless None), then the problem as the user turn."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": problem})
    return messages
