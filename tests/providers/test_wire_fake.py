"""The fake server's own contract: the non-streaming forms, strictness, and the script mode."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import anthropic
import openai
import pytest

from tests.fakes.wire import FakeProvider
from tests.providers.conftest import KEY, REPLY

ROOT = Path(__file__).resolve().parents[2]


async def test_non_streaming_anthropic_message_parses_with_the_sdk(fake: FakeProvider) -> None:
    fake.cache_read_tokens = 7
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.url, max_retries=0)

    message = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "x" * 80}],
    )
    await client.close()

    assert message.content[0].type == "text" and message.content[0].text == REPLY
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (13, 7)
    assert message.usage.output_tokens == 11


async def test_non_streaming_chat_completion_parses_with_the_sdk(fake: FakeProvider) -> None:
    client = openai.AsyncOpenAI(api_key=KEY, base_url=fake.openai_base_url, max_retries=0)

    completion = await client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "y" * 40}]
    )
    await client.close()

    assert completion.choices[0].message.content == REPLY
    assert completion.usage is not None and completion.usage.prompt_tokens == 10


async def test_anthropic_endpoint_rejects_sampling_parameters_like_the_real_api(
    fake: FakeProvider,
) -> None:
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.url, max_retries=0)

    with pytest.raises(anthropic.BadRequestError, match="temperature"):
        await client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=50,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"temperature": 0.0},
        )
    await client.close()


def test_default_responder_answers_each_prompt_differently() -> None:
    with FakeProvider() as fake:
        replies = []
        for prompt in ("rename this variable", "explain this loop"):
            body = json.dumps(
                {"model": "m", "messages": [{"role": "user", "content": prompt}]}
            ).encode()
            request = urllib.request.Request(
                f"{fake.openai_base_url}/chat/completions",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                replies.append(json.load(response)["choices"][0]["message"]["content"])
    assert replies[0] != replies[1]
    assert "rename" in replies[0] and "loop" in replies[1]


def test_runs_as_a_script_and_prints_its_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.wire", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = next(word for word in line.split() if word.startswith("http://127.0.0.1:"))
        with urllib.request.urlopen(f"{url}/v1/models", timeout=10) as response:
            assert json.load(response)["object"] == "list"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
