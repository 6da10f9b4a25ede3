"""Served-model evaluation (``thinkgym eval --api-base``): the request loop against a fake
OpenAI client (retries, errors, concurrency, cache and resume, prefix modes, samples, multi-turn),
then a real ``transformers serve`` on 127.0.0.1 whose greedy results equal a local evaluation of
the same weights."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")
import httpx2  # noqa: E402  (the openai client's HTTP library)

from thinkgym.agents.api import CACHE_FILE, ApiError, ApiOptions, ApiPolicy, ResponseCache  # noqa: E402
from thinkgym.agents.cli import main  # noqa: E402
from thinkgym.agents.evaluate import GenerationOptions, run_api_eval, run_eval, tasks_for  # noqa: E402
from thinkgym.splits import problem_stream  # noqa: E402

ARITH = "thinkgym/Arithmetic-v0"
MASTERMIND = "thinkgym/Mastermind-v0"
OPTIONS = GenerationOptions(max_new_tokens=8, batch_size=16, progress=False)


def _api(**kw):
    return ApiOptions("http://fake.invalid/v1", "fake-model", **{"backoff": 0.0, "concurrency": 4, **kw})


def _status_error(cls, status, detail="nope", headers=None):
    request = httpx2.Request("POST", "http://fake.invalid/v1/chat/completions")
    response = httpx2.Response(status, request=request, headers=headers or {})
    return cls(f"Error code: {status}", response=response, body={"detail": detail})


class FakeClient:
    """``chat.completions.create`` answering ``answer(request)``; ``script`` lists exceptions to
    raise first, one per call; ``fail_after`` raises a 500 once that many calls have answered."""

    def __init__(self, answer=lambda request: "<answer>0</answer>", script=(), fail_after=None, delay=0.0):
        self.answer, self.script, self.fail_after, self.delay = answer, list(script), fail_after, delay
        self.requests, self.in_flight, self.max_in_flight, self.answered = [], 0, 0, 0
        self.chat = types.SimpleNamespace(completions=types.SimpleNamespace(create=self.create))

    async def create(self, **request):
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.script:
                raise self.script.pop(0)
            if self.fail_after is not None and self.answered >= self.fail_after:
                raise _status_error(openai.InternalServerError, 500, "server died")
            self.answered += 1
            text = self.answer(request)
            return types.SimpleNamespace(
                choices=[types.SimpleNamespace(message=types.SimpleNamespace(content=text), finish_reason="stop")],
                usage=types.SimpleNamespace(prompt_tokens=len(json.dumps(request["messages"])) // 4, completion_tokens=len(text.split())),
            )
        finally:
            self.in_flight -= 1


def _answers(env_id, n, seed=0):
    """Prompt -> reference answer of the held-out problems (so a fake can answer right)."""
    import thinkgym

    env = thinkgym.make(env_id, difficulty=1, disable_env_checker=True)
    try:
        return {ref.prompt: ref.answer for ref, _ in zip(problem_stream(env, env_id, "eval", seed, 1), range(n))}
    finally:
        env.close()


def _user_prompt(request):
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


# -- the request loop, against a fake client ---------------------------------------------------
def test_fake_oracle_scores_every_problem_and_reports_usage(tmp_path):
    answers = _answers(ARITH, 5)
    client = FakeClient(lambda r: f"<think>easy</think><answer>{answers.get(_user_prompt(r), 'OK')}</answer>")
    paths = run_api_eval(_api(), tasks_for([ARITH], 1), n=5, samples=1, seed=0, out=tmp_path, options=OPTIONS, client=client)
    results = json.loads(paths["results"].read_text())
    assert results["model"] == "fake-model"
    assert results["tasks"][ARITH]["accuracy"] == 1.0
    usage = results["tasks"][ARITH]["usage"]
    assert usage["requests"] == 5 and usage["cached"] == 0 and usage["completion_tokens"] == 5 and usage["prompt_tokens"] > 0
    assert results["usage"] == usage
    assert "API usage: 5 requests" in paths["table"].read_text()
    assert len(client.requests) == 6  # the check, then one per problem
    assert all(r["temperature"] == 0.0 and r["max_tokens"] == OPTIONS.max_new_tokens for r in client.requests[1:])
    assert {p.name for p in tmp_path.iterdir()} >= {"results.json", "results.md", "accuracy.png", "completions.jsonl", "settings.json", CACHE_FILE}
    settings = json.loads(paths["settings"].read_text())
    assert settings["api_base"] == "http://fake.invalid/v1" and "device" not in settings


def test_fake_wrong_answers_score_zero(tmp_path):
    answers = _answers(ARITH, 4)
    # an integer the reference is not (checked here, not by the verifier)
    client = FakeClient(lambda r: f"<answer>{int(answers.get(_user_prompt(r), 0)) + 1}</answer>")
    paths = run_api_eval(_api(), tasks_for([ARITH], 1), n=4, samples=1, seed=0, out=tmp_path, options=OPTIONS, client=client)
    assert json.loads(paths["results"].read_text())["tasks"][ARITH]["accuracy"] == 0.0


@pytest.mark.parametrize(
    "error",
    [
        lambda: _status_error(openai.RateLimitError, 429),
        lambda: _status_error(openai.RateLimitError, 429, headers={"retry-after": "0"}),
        lambda: _status_error(openai.InternalServerError, 503),
        lambda: openai.APITimeoutError(httpx2.Request("POST", "http://fake.invalid/v1/chat/completions")),
    ],
    ids=["429", "429-retry-after", "503", "timeout"],
)
def test_transient_errors_are_retried(tmp_path, error):
    client = FakeClient(script=[error(), error()])
    paths = run_api_eval(_api(max_retries=2), tasks_for([ARITH], 1), n=2, samples=1, seed=0, out=tmp_path, options=OPTIONS, client=client)
    assert len(client.requests) == 2 + 1 + 2  # two failures, the check, two problems
    assert json.loads(paths["results"].read_text())["tasks"][ARITH]["n"] == 2


def test_retries_run_out_with_a_resume_hint(tmp_path):
    client = FakeClient(script=[_status_error(openai.InternalServerError, 500)] * 3)
    with pytest.raises(ApiError, match="gave up after 3 attempts.*--resume"):
        run_api_eval(_api(max_retries=2), tasks_for([ARITH], 1), n=2, samples=1, seed=0, out=tmp_path / "out", options=OPTIONS, client=client)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("error", "match"),
    [
        (lambda: _status_error(openai.AuthenticationError, 401, "bad key"), r"refused the API key \(401\): bad key"),
        (lambda: _status_error(openai.PermissionDeniedError, 403), r"refused the API key \(403\)"),
        (lambda: _status_error(openai.NotFoundError, 404, "model x does not exist"), r"not found \(404\): model x does not exist; check --model"),
        (lambda: _status_error(openai.BadRequestError, 400, "unknown model"), r"rejected the request \(400\): unknown model"),
        (lambda: _status_error(openai.UnprocessableEntityError, 422, "Unexpected fields in the request: {'continue_final_message'}"),
         "pass --prefix-mode prepend"),
    ],
    ids=["401", "403", "404", "400", "422-prefix"],
)
def test_refusals_fail_at_once_and_write_nothing(tmp_path, error, match):
    client = FakeClient(script=[error()])
    with pytest.raises(ApiError, match=match):
        run_api_eval(_api(), tasks_for([ARITH], 1), n=2, samples=1, seed=0, out=tmp_path / "out", options=OPTIONS, client=client)
    assert len(client.requests) == 1  # the check: never retried
    assert not (tmp_path / "out").exists()


def test_concurrency_is_bounded(tmp_path):
    client = FakeClient(delay=0.02)
    run_api_eval(_api(concurrency=3), tasks_for([ARITH], 1), n=10, samples=1, seed=0, out=tmp_path, options=OPTIONS, client=client)
    assert client.max_in_flight == 3


def test_interrupted_evaluation_resumes_without_asking_again(tmp_path):
    tasks = tasks_for([ARITH, MASTERMIND], 1)
    reference = FakeClient(lambda r: f"<answer>{len(r['messages'])}</answer>")
    full = run_api_eval(_api(), tasks, n=3, samples=2, seed=0, out=tmp_path / "full", options=OPTIONS, client=reference)
    total = len(reference.requests) - 1  # without the check

    out = tmp_path / "resumed"
    dying = FakeClient(lambda r: f"<answer>{len(r['messages'])}</answer>", fail_after=5)
    with pytest.raises(ApiError, match="--resume"):
        run_api_eval(_api(max_retries=0), tasks, n=3, samples=2, seed=0, out=out, options=OPTIONS, client=dying)
    assert not (out / "results.json").exists()
    kept = len(ResponseCache(out / CACHE_FILE).entries)
    assert kept >= 4  # the check's answer is not cached; what arrived before the failure is
    with pytest.raises(ApiError, match="pass --resume"):
        run_api_eval(_api(), tasks, n=3, samples=2, seed=0, out=out, options=OPTIONS, client=FakeClient())
    with open(out / CACHE_FILE, "a", encoding="utf-8") as f:
        f.write('{"key": "cut sho')  # an interruption mid-line
    again = FakeClient(lambda r: f"<answer>{len(r['messages'])}</answer>")
    resumed = run_api_eval(_api(), tasks, n=3, samples=2, seed=0, out=out, options=OPTIONS, client=again, resume=True)
    assert len(again.requests) == total - kept  # no check: the cache proves the server works
    assert (out / "completions.jsonl").read_text() == full["completions"].read_text()
    results = json.loads(resumed["results"].read_text())
    assert results["usage"]["cached"] == kept and results["usage"]["requests"] == total
    first = json.loads(full["results"].read_text())
    for r in (first, results):
        r.pop("usage")
        for task in r["tasks"].values():
            task.pop("usage")
    assert results == first


def test_samples_are_seeded_per_attempt_and_greedy_is_temperature_zero(tmp_path):
    client = FakeClient()
    options = GenerationOptions(max_new_tokens=8, batch_size=16, temperature=0.7, top_p=0.9, progress=False)
    run_api_eval(_api(), tasks_for([ARITH], 1), n=2, samples=3, seed=0, out=tmp_path, options=options, client=client)
    greedy = [r for r in client.requests[1:] if r["temperature"] == 0.0]
    sampled = [r for r in client.requests[1:] if r["temperature"] != 0.0]
    assert len(greedy) == 2 and len(sampled) == 6
    assert all(r["temperature"] == 0.7 and r["top_p"] == 0.9 for r in sampled) and all("seed" not in r for r in greedy)
    assert len({(_user_prompt(r), r["seed"]) for r in sampled}) == 6  # the 3 samples of a problem differ


@pytest.mark.parametrize("mode", ["continue", "prepend"])
def test_response_prefix_modes(tmp_path, mode):
    client = FakeClient(lambda r: "x</think><answer>1</answer>")
    options = GenerationOptions(max_new_tokens=8, response_prefix="<think>\n", progress=False)
    paths = run_api_eval(_api(prefix_mode=mode), tasks_for([ARITH], 1), n=1, samples=1, seed=0, out=tmp_path, options=options, client=client)
    request = client.requests[-1]
    if mode == "continue":
        assert request["messages"][-1] == {"role": "assistant", "content": "<think>\n"}
        assert request["extra_body"] == {"continue_final_message": True, "add_generation_prompt": False}
    else:
        assert request["messages"][-1]["role"] == "user" and "extra_body" not in request
    record = json.loads(paths["completions"].read_text().splitlines()[0])
    assert record["completion"] == "<think>\nx</think><answer>1</answer>"


def test_multi_turn_is_played_turn_by_turn(tmp_path):
    client = FakeClient(lambda r: "<answer>1111</answer>")
    paths = run_api_eval(_api(), tasks_for([MASTERMIND], 1), n=1, samples=1, seed=0, out=tmp_path, options=OPTIONS, client=client)
    record = json.loads(paths["completions"].read_text())
    turns = client.requests[1:]
    assert record["turns"] == len(turns) > 1
    # turn t sends the prompt, the t-1 earlier answers and the env's replies to them
    for t, request in enumerate(turns):
        assert [m["role"] for m in request["messages"][1:]] == ["user"] + ["assistant", "user"] * t
    assert [m["content"] for m in turns[-1]["messages"][3::2]] == [m["content"] for m in record["transcript"][2:-1:2]]


def test_options_are_checked():
    with pytest.raises(ApiError, match="needs --model NAME"):
        ApiOptions("http://127.0.0.1:1/v1", "default")
    with pytest.raises(ApiError, match="http:// or https://"):
        ApiOptions("127.0.0.1:8000", "m")
    with pytest.raises(ApiError, match="--concurrency must be >= 1"):
        ApiOptions("http://127.0.0.1:1/v1", "m", concurrency=0)
    os.environ.pop("THINKGYM_TEST_NO_SUCH_KEY", None)
    with pytest.raises(ApiError, match="THINKGYM_TEST_NO_SUCH_KEY: that environment variable is not set"):
        ApiOptions("http://127.0.0.1:1/v1", "m", api_key_env="THINKGYM_TEST_NO_SUCH_KEY").api_key()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_unreachable_server_is_one_line_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["eval", "--api-base", f"http://127.0.0.1:{_free_port()}/v1", "--model", "m", "--envs", ARITH, "--n", "1", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach http://127.0.0.1:" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_flag_errors(tmp_path, capsys):
    assert main(["eval", "--envs", ARITH, "--resume", "--out", str(tmp_path)]) == 2
    assert "needs --api-base" in capsys.readouterr().err
    assert main(["eval", "--api-base", "http://127.0.0.1:1/v1", "--model", "m", "--envs", ARITH, "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    assert main(["eval", "--api-base", "http://127.0.0.1:1/v1", "--envs", ARITH, "--out", str(tmp_path / "o")]) == 2
    assert "needs --model NAME" in capsys.readouterr().err


# -- a real server: transformers serve on 127.0.0.1 ------------------------------------------
def _varied_tiny_model(path: Path) -> Path:
    """A tiny random Llama with untied embeddings, whose greedy text varies with the prompt
    (the tied one of conftest repeats the last prompt token)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from thinkgym.agents.policy import load_default_tokenizer

    tokenizer = load_default_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=False,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def served_model(tmp_path_factory):
    """``transformers serve`` of a tiny model on a free 127.0.0.1 port: yields (api root, model
    name, model dir); always stopped."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    model_dir = _varied_tiny_model(tmp_path_factory.mktemp("served-tiny"))
    port = _free_port()
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    command = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve", str(model_dir),
               "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--dtype", "float32"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"transformers serve exited ({server.returncode}):\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not answer /health within 90 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1", str(model_dir), model_dir
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _comparable(path: Path):
    results = json.loads((path / "results.json").read_text())
    results.pop("usage", None)
    results.pop("model")
    for task in results["tasks"].values():
        task.pop("usage", None)
    return results, [json.loads(line) for line in (path / "completions.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_served_model_equals_local_evaluation(served_model, tmp_path):
    """Greedy decoding is deterministic: the same weights give the same completions, transcripts
    and results through ``transformers serve`` as loaded locally (one conversation a batch, so no
    padding), single-turn and multi-turn."""
    api_base, name, model_dir = served_model
    tasks = tasks_for([ARITH, MASTERMIND], 1)
    options = GenerationOptions(max_new_tokens=6, batch_size=1, device="cpu", dtype="fp32", progress=False)
    run_eval(str(model_dir), tasks, n=1, samples=1, seed=0, out=tmp_path / "local", options=options)
    rc = main(["eval", "--api-base", api_base, "--model", name, "--envs", ARITH, MASTERMIND, "--n", "1", "--max-new-tokens", "6",
               "--concurrency", "2", "--out", str(tmp_path / "api"), "--no-progress"])
    assert rc == 0
    local, api = _comparable(tmp_path / "local"), _comparable(tmp_path / "api")
    assert api[1] == local[1]
    assert api[0] == local[0]
    assert any(r["turns"] > 1 for r in api[1]) and all(r["completion"].strip() for r in api[1])
    usage = json.loads((tmp_path / "api" / "results.json").read_text())["usage"]
    assert usage["requests"] == sum(r["turns"] for r in api[1]) and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


@pytest.mark.slow
def test_served_model_unknown_name_is_exit_2(served_model, tmp_path, capsys):
    api_base, _, _ = served_model
    out = tmp_path / "out"
    assert main(["eval", "--api-base", api_base, "--model", "no-such-model", "--envs", ARITH, "--n", "1", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "rejected the request (400)" in err and "no-such-model" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
