"""The built-in language model: shipped with the package, measured as its training script measured it, still trainable."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from logitsviz import examples, lm

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "tests" / "data" / "builtin_lm_held_out.json"


def _script():
    spec = importlib.util.spec_from_file_location("train_builtin_lm", ROOT / "scripts" / "train_builtin_lm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builtin():
    return lm.load(str(examples.language_model_folder()))


def test_the_shipped_files_are_small_float16_safetensors_and_load(builtin):
    folder = examples.language_model_folder()
    weights = folder / "model.safetensors"
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 10.6e6, size
    with open(weights, "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
    assert dtypes == {"F16"}
    card = examples.language_model()
    assert builtin.architecture == "GPT2LMHeadModel"
    assert builtin.model.parameters == card.parameters
    assert builtin.vocab_size == 8192 and builtin.context == 512
    # its card names the text it read and that text's licences
    assert card.data["zh"]["licence"].startswith("GFDL") and card.data["en"]["licence"] == "PSF-2.0"


def test_held_out_figures_are_what_the_training_script_reports():
    # the script's own evaluation, run again on the shipped weights and the held-out text it wrote: no training
    held_out = json.loads(HELD_OUT.read_text(encoding="utf-8"))
    measured = _script().evaluate_folder(examples.language_model_folder(), held_out)
    recorded = examples.language_model().held_out
    for lang in ("en", "zh"):
        for key in ("bits_per_byte", "bits_per_token", "perplexity"):
            assert measured[lang][key] == pytest.approx(recorded[lang][key], rel=1e-3), (lang, key)
        assert (measured[lang]["tokens"], measured[lang]["bytes"]) == (recorded[lang]["tokens"], recorded[lang]["bytes"])
    # a model that learnt something: far below the 8 bits a byte costs a model that knows nothing
    assert recorded["en"]["bits_per_byte"] < 3.0 and recorded["zh"]["bits_per_byte"] < 3.0


CHINESE = ["这个命令用于", "ls 命令", "选项", "该函数返回", "如果没有指定文件"]
ENGLISH = ["The for statement", "If the argument is", "The default value", "The function returns"]


def _letters(text: str) -> tuple[int, int]:
    """Chinese characters and Latin words (technical Chinese names its commands in Latin letters: "shell 的选项")."""
    return len(re.findall(r"[\u4e00-\u9fff]", text)), len(re.findall(r"[A-Za-z]+", text))


def test_it_continues_chinese_prompts_in_chinese(builtin):
    # greedy: what the model finds most likely after each prompt goes on in Chinese (characters or Chinese punctuation)
    for prompt in CHINESE:
        text = builtin.generate(prompt, 12, [("top_k", 1)], seed=0).text[len(prompt):].strip()
        assert re.match(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text), (prompt, text)
        han, latin = _letters(text)
        assert han >= latin, (prompt, text)
    # sampled (T = 0.8): most continuations stay in Chinese
    chinese = 0
    for seed in range(10):
        han, latin = _letters(builtin.generate("这个命令用于", 12, [("temperature", 0.8)], seed=seed).text[6:])
        chinese += han > latin
    assert chinese >= 6


def test_it_continues_english_prompts_in_english(builtin):
    for prompt in ENGLISH:
        han, latin = _letters(builtin.generate(prompt, 12, [("top_k", 1)], seed=0).text[len(prompt):])
        assert latin >= 2 and han == 0, prompt


def test_it_runs_in_numpy_as_transformers_runs_it(builtin):
    # the built-in model loads without PyTorch (logitsviz.gpt2); its logits are transformers' own, over a long window,
    # and a generation step by step through the key/value cache equals the whole pass
    import torch
    from transformers import AutoModelForCausalLM

    assert builtin.backend == "numpy"
    ref = AutoModelForCausalLM.from_pretrained(examples.language_model_folder(), dtype=torch.float32).eval()
    text = "The for statement is used to iterate over the elements of a sequence. 这个命令用于列出目录中的文件。" * 12
    ids = builtin.encode(text)[:200]
    assert len(ids) == 200
    ours, _ = builtin._forward(ids)
    with torch.no_grad():
        theirs = ref(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-4)
    first, past = builtin._forward(ids[:150])
    np.testing.assert_allclose(first[-1], theirs[149], rtol=1e-4, atol=2e-4)
    for i in range(150, 155):  # one token at a time after the cache
        step, past = builtin._forward([ids[i]], past)
        np.testing.assert_allclose(step[0], theirs[i], rtol=1e-4, atol=2e-4)


def test_the_built_in_tokenizer_and_labels_are_transformers_own(builtin):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = examples.language_model_folder()
    ref = AutoTokenizer.from_pretrained(folder)
    for text in ("The for statement", "这个命令用于列出目录中的文件。", "emoji 🐱 and ⟨bytes⟩", ""):
        assert builtin.encode(text) == ref(text).input_ids
    # the same folder through transformers: the same token labels, byte pieces included
    through_torch = lm.Model("ref", AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32), ref)
    assert builtin.vocab == through_torch.vocab and builtin.token_bytes == through_torch.token_bytes
    assert (builtin.tokenizer.bos_token_id, builtin.tokenizer.eos_token_id) == (ref.bos_token_id, ref.eos_token_id)
    assert builtin.vocab_size == through_torch.vocab_size and builtin.memory_bytes == through_torch.memory_bytes


ROFF = r""".\" a comment
.TH LS 1 2022年9月 "GNU coreutils 9.1" 用户命令
.SH 名称
ls \- 列出目录内容
.SH 描述
.PP
列出指定“文件”（默认为当前目录）的信息。
如果既没有指定 \fB\-cftuvSUX\fP 中任何一个，也没有指定
\fB\-\-sort\fP，则按字母排序项目。
.TP
.BR \-a ", " \-\-all
不要忽略以点号（“.”）起始的条目
.SH 跋
本页面中文版由中文 man 手册页计划提供。
"""


def test_manual_pages_become_plain_paragraphs():
    text = _script().man_to_text(ROFF)
    assert text.splitlines()[:3] == ["名称", "", "ls - 列出目录内容"]
    # a paragraph's lines run on: no space between Chinese characters, one before Latin text
    assert "列出指定“文件”（默认为当前目录）的信息。如果既没有指定 -cftuvSUX 中任何一个，也没有指定 --sort，则按字母排序项目。" in text
    assert "-a, --all" in text
    assert "跋" not in text and "手册页计划" not in text and "comment" not in text


def test_the_training_script_still_runs(tmp_path):
    man = tmp_path / "zh_CN" / "man1"
    man.mkdir(parents=True)
    for i in range(30):  # enough pages for the hash split to hold some out
        (man / f"page{i}.1.gz").write_bytes(gzip.compress((ROFF + f"\n.PP\n第 {i} 页：这是一个用于测试的命令说明。\n" * 3).encode()))
    out, held = tmp_path / "model", tmp_path / "held.json"
    assert _script().main(["--quick", "--steps", "3", "--out", str(out), "--held-out", str(held), "--zh-man", str(tmp_path / "zh_CN")]) == 0
    info = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert info["steps"] == 3 and set(info["held_out"]) == {"en", "zh"}
    assert all(0 < v["bits_per_byte"] < 12 for v in info["held_out"].values())
    model = lm.load(str(out))  # what it wrote loads through the app's own loading code
    assert model.next_token_logits("The")[1].shape == (model.vocab_size,)
