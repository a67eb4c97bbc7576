"""Train logitsviz's built-in language model: a small bilingual GPT-2, shipped inside the package.

    python scripts/train_builtin_lm.py                     # the shipped model: prints its held-out figures
    python scripts/train_builtin_lm.py --steps 20 --out /tmp/lm --quick   # a smoke run

The text (nothing is downloaded from a model or data-set hub):

- **English**: what ships with every Python: the Python Language Reference topics
  (``pydoc_data.topics``) and the standard library's docstrings (modules, classes
  and functions; the test suites left out). Python Software Foundation License.
- **Chinese**: the Simplified Chinese manual pages of Debian's ``manpages-zh``
  (``/usr/share/man/zh_CN`` after ``apt-get install manpages-zh``, or the ``.deb``
  from ``apt-get download manpages-zh`` given with ``--zh-deb``). GFDL 1.2 or later
  (a few pages GPL 2), as its ``copyright`` file says.

Every 20th document of each language (by a hash of its text) is held out: the
model never trains on it. The held-out text is written to
``tests/data/builtin_lm_held_out.json`` so that a test can measure the shipped
weights again, without the sources and without training.

Bits per byte are comparable across tokenizers: the model's surprise in bits,
summed over the tokens it predicts, divided by the UTF-8 bytes of those tokens.

Seeded (tokenizer training is deterministic; torch and numpy are seeded), but
float arithmetic on another CPU can round differently, so a re-run gives
figures equal to about three decimals, not bit for bit.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import io
import json
import math
import re
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the package beside it
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "logitsviz" / "models" / "builtin"
HELD_OUT = ROOT / "tests" / "data" / "builtin_lm_held_out.json"
HELD_OUT_EVERY = 20  # one document in 20 is never trained on
HELD_OUT_BYTES = 120_000  # per language, kept for the evaluation (and the test that repeats it)
EOT = "<|endoftext|>"

# The shipped model. ~4.8 M parameters: 9.6 MB as float16.
CONFIG = dict(vocab_size=8192, n_positions=512, n_embd=256, n_layer=4, n_head=8, n_inner=768)
QUICK = dict(vocab_size=600, n_positions=64, n_embd=32, n_layer=1, n_head=2, n_inner=64)


# ------------------------------------------------------------------- the text ----


def english_documents() -> list[str]:
    """The Python Language Reference topics and the standard library's docstrings (at least 80 characters)."""
    import pydoc_data.topics

    docs = [pydoc_data.topics.topics[key] for key in sorted(pydoc_data.topics.topics)]
    lib = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "idlelib", "lib2to3", "site-packages", "tkinter", "turtledemo", "dist-packages"}
    for path in sorted(lib.rglob("*.py")):
        parts = path.relative_to(lib).parts
        if parts[0] in skip or "tests" in parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= 80:
                    docs.append(doc)
    return docs


_FONT_MACROS = {"B", "I", "R", "BR", "BI", "IR", "RB", "RI", "IB", "SM", "SB"}
_BREAK_MACROS = {"PP", "LP", "P", "TP", "IP", "HP", "sp", "br", "SH", "SS"}
_ESCAPES = [
    (re.compile(r"\\f(\(..|\[[^\]]*\]|.)"), ""), (re.compile(r"\\s[+-]?\d"), ""), (re.compile(r"\\[,/&c%]"), ""),
    (re.compile(r"\\\(em|\\\[em\]"), "—"), (re.compile(r"\\\(en"), "–"), (re.compile(r"\\\((lq|rq)"), '"'),
    (re.compile(r"\\\(bu"), "•"), (re.compile(r"\\\*\(..|\\\*\[[^\]]*\]|\\\*."), ""), (re.compile(r"\\-"), "-"),
    (re.compile(r"\\e"), "\\"), (re.compile(r"\\ "), " "), (re.compile(r"\\\(.."), ""),
]
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _join(a: str, b: str) -> str:
    """Two lines of one paragraph: Chinese runs on without a space, everything else gets one."""
    if not a:
        return b
    return a + b if _CJK.match(a[-1]) and _CJK.match(b[0]) else a + " " + b


def man_to_text(source: str) -> str:
    """A manual page's roff source as plain paragraphs (headings on their own line)."""
    paragraphs: list[str] = []
    current = ""
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"")) or line.strip() in (".", "'"):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            macro, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
            if macro in _FONT_MACROS:
                words = [w.strip('"') for w in re.findall(r'"[^"]*"|\S+', rest)]
                line = ("" if len(macro) == 2 else " ").join(words)
            elif macro in _BREAK_MACROS:
                paragraphs.append(current)
                current = rest.strip('"') if macro in ("SH", "SS") else ""
                if macro in ("SH", "SS"):
                    paragraphs.append(current)
                    current = ""
                continue
            else:
                continue
        line = line.strip()
        if line:
            current = _join(current, line)
    paragraphs.append(current)
    text = "\n\n".join(p for p in paragraphs if p.strip())
    for pattern, replacement in _ESCAPES:
        text = pattern.sub(lambda _m, r=replacement: r, text)
    text = text.split("\n\n跋\n\n")[0]  # the project's colophon, the same on every page
    return text.strip()


def chinese_documents(man_dir: Path | None = None, deb: Path | None = None) -> list[str]:
    """The Simplified Chinese manual pages of ``manpages-zh``, from the installed folder or the ``.deb``."""
    sources: list[tuple[str, bytes]] = []
    if deb is not None:
        sources = _deb_members(deb)
    else:
        man_dir = man_dir or Path("/usr/share/man/zh_CN")
        if not man_dir.is_dir():
            raise SystemExit(f"{man_dir} is missing: apt-get install manpages-zh (or give --zh-deb manpages-zh_*.deb)")
        sources = [(str(p.relative_to(man_dir)), p.read_bytes()) for p in sorted(man_dir.rglob("*.gz"))]
    docs = []
    for _name, data in sorted(sources):
        try:
            text = man_to_text(gzip.decompress(data).decode("utf-8"))
        except (UnicodeDecodeError, OSError, EOFError):
            continue
        if len(_CJK.findall(text)) >= 50:
            docs.append(text)
    return docs


def _deb_members(deb: Path) -> list[tuple[str, bytes]]:
    """The zh_CN manual pages inside a ``.deb`` (an ar archive holding data.tar.xz)."""
    raw = deb.read_bytes()
    assert raw[:8] == b"!<arch>\n", "not a .deb"
    pos, data = 8, None
    while pos < len(raw):
        name, size = raw[pos:pos + 16].decode().strip(), int(raw[pos + 48:pos + 58].decode().strip())
        if name.startswith("data.tar"):
            data = raw[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
    if data is None:
        raise SystemExit(f"{deb}: no data.tar inside")
    out = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if "/man/zh_CN/" in member.name and member.name.endswith(".gz") and member.isfile():
                out.append((member.name, tar.extractfile(member).read()))
    return out


def split(docs: list[str]) -> tuple[list[str], list[str]]:
    """(train, held out): a document is held out when the hash of its text says so, whatever order they come in."""
    train, held = [], []
    for doc in docs:
        (held if int(hashlib.sha1(doc.encode()).hexdigest(), 16) % HELD_OUT_EVERY == 0 else train).append(doc)
    if not held and len(train) > 1:  # a tiny corpus (the script's own test): hold one out all the same
        held.append(train.pop())
    return train, held


def _capped(docs: list[str], limit: int) -> list[str]:
    out, total = [], 0
    for doc in docs:
        if total >= limit:
            break
        out.append(doc)
        total += len(doc.encode())
    return out


# --------------------------------------------------------------- the model ----


def train_tokenizer(docs: list[str], vocab_size: int):
    """A byte-level BPE vocabulary (GPT-2's scheme: any text, any script) learnt from ``docs``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[EOT], show_progress=False)
    tok.train_from_iterator(docs, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOT, bos_token=EOT)


def _ids(tokenizer, docs: list[str]) -> np.ndarray:
    eot = tokenizer.eos_token_id
    return np.concatenate([np.array([eot, *tokenizer(d).input_ids], dtype=np.int64) for d in docs])


def bits_per_byte(model, tokenizer, docs: list[str], context: int, batch: int = 8) -> dict:
    """Held-out figures: bits per byte, per token and perplexity over ``docs`` (each after an end-of-text token).

    The documents' tokens are cut into windows of ``context``; every token but
    a window's first is predicted from those before it in its window.
    """
    import torch

    ids = _ids(tokenizer, docs)
    n = (ids.size // context) * context
    windows = [ids[s:s + context] for s in range(0, n, context)] + ([ids[n:]] if ids.size - n >= 2 else [])
    token_bytes = _token_bytes(tokenizer)
    nats, predicted, nbytes = 0.0, 0, 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(windows), batch):
            group = windows[start:start + batch]
            for w in group:  # windows of unequal length (the last) go one at a time
                x = torch.tensor(w[None, :])
                logp = torch.log_softmax(model(x).logits[0, :-1].double(), dim=-1)
                target = x[0, 1:]
                nats -= float(logp[torch.arange(target.numel()), target].sum())
                predicted += int(target.numel())
                nbytes += int(sum(len(token_bytes[int(t)]) for t in target))
    return {"bits_per_byte": nats / math.log(2) / nbytes, "bits_per_token": nats / math.log(2) / predicted,
            "perplexity": math.exp(nats / predicted), "tokens": predicted, "bytes": nbytes}


def _token_bytes(tokenizer) -> list[bytes]:
    from logitsviz import tokens

    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    special = set(tokenizer.all_special_ids)
    return [p.encode() if i in special else (tokens.byte_level_bytes(p) or p.encode()) for i, p in enumerate(pieces)]


def train(docs_en: list[str], docs_zh: list[str], *, steps: int, config: dict, batch: int, lr: float, seed: int = 0,
          log=print):
    """Tokenizer and model trained on both languages; returns ``(model, tokenizer, seconds)``."""
    import torch
    import transformers

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    tokenizer = train_tokenizer(docs_en + docs_zh, config["vocab_size"])
    streams = [_ids(tokenizer, docs_en), _ids(tokenizer, docs_zh)]
    for lang, data, docs in zip(("English", "Chinese"), streams, (docs_en, docs_zh)):
        log(f"{lang}: {data.size:,} training tokens ({sum(len(d.encode()) for d in docs):,} bytes)")
    context = config["n_positions"]
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        **{**config, "vocab_size": len(tokenizer)}, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))))
    model.train()
    for step in range(steps):
        # half of every batch from each language, however much text each has
        x = torch.tensor(np.stack([data[s:s + context] for i, data in enumerate(streams)
                                   for s in rng.integers(0, data.size - context, batch // 2 + (i < batch % 2))]))
        loss = model(x, labels=x).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"step {step:5d}/{steps}  loss {loss.item():.3f}  {time.perf_counter() - start:7.0f} s", flush=True)
    model.eval()
    return model, tokenizer, time.perf_counter() - start


def save(model, tokenizer, out: Path, info: dict) -> None:
    """Weights as float16 safetensors, the tokenizer, and what training measured (``training.json``)."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    model.to(torch.float16).save_pretrained(out, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def evaluate_folder(folder: Path, held_out: dict) -> dict:
    """The held-out figures of a saved model, loaded as the app loads it (float16 weights → float32)."""
    import torch
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, use_safetensors=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    context = model.config.n_positions
    return {lang: bits_per_byte(model, tokenizer, held_out[lang], context) for lang in ("en", "zh")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--held-out", type=Path, default=HELD_OUT, help="where the held-out text is written")
    parser.add_argument("--zh-man", type=Path, default=None, help="folder of zh_CN manual pages (default /usr/share/man/zh_CN)")
    parser.add_argument("--zh-deb", type=Path, default=None, help="manpages-zh_*.deb instead of the installed pages")
    parser.add_argument("--quick", action="store_true", help="a tiny model on a little text: checks that the script runs")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    en, zh = english_documents(), chinese_documents(args.zh_man, args.zh_deb)
    (en_train, en_held), (zh_train, zh_held) = split(en), split(zh)
    held_out = {"en": _capped(en_held, HELD_OUT_BYTES), "zh": _capped(zh_held, HELD_OUT_BYTES)}
    config = QUICK if args.quick else CONFIG
    if args.quick:
        en_train, zh_train = _capped(en_train, 60_000), _capped(zh_train, 60_000)
        held_out = {k: _capped(v, 8_000) for k, v in held_out.items()}
    print(f"English: {len(en_train):,} documents to train on, {len(en_held):,} held out; "
          f"Chinese: {len(zh_train):,} and {len(zh_held):,}")
    model, tokenizer, seconds = train(en_train, zh_train, steps=args.steps, config=config, batch=args.batch, lr=args.lr)
    info = {
        "architecture": "GPT2LMHeadModel", "parameters": int(sum(p.numel() for p in model.parameters())),
        "config": config, "steps": args.steps, "batch": args.batch, "lr": args.lr, "seed": 0,
        "train_seconds": round(seconds, 1), "threads": torch.get_num_threads(), "python": sys.version.split()[0],
        "torch": torch.__version__,
        "data": {
            "en": {"source": "pydoc_data.topics and the standard library's docstrings", "licence": "PSF-2.0",
                   "documents": len(en_train), "bytes": sum(len(d.encode()) for d in en_train)},
            "zh": {"source": "Debian manpages-zh (zh_CN)", "licence": "GFDL-1.2+ (a few pages GPL-2)",
                   "documents": len(zh_train), "bytes": sum(len(d.encode()) for d in zh_train)},
        },
    }
    save(model, tokenizer, args.out, info)
    args.held_out.parent.mkdir(parents=True, exist_ok=True)
    args.held_out.write_text(json.dumps({
        "about": "Held-out documents of the built-in language model (never trained on); see scripts/train_builtin_lm.py. "
                 "English: Python's documentation (PSF-2.0). Chinese: Debian's manpages-zh (GFDL-1.2+).",
        **held_out}, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    info["held_out"] = evaluate_folder(args.out, held_out)  # measured on the saved float16 weights, as shipped
    (args.out / "training.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for lang, figures in info["held_out"].items():
        print(f"held out, {lang}: {figures['bits_per_byte']:.4f} bits per byte, perplexity {figures['perplexity']:.2f} "
              f"per token, over {figures['bytes']:,} bytes")
    size = sum(p.stat().st_size for p in args.out.glob("*"))
    print(f"{args.out}: {size / 1e6:.1f} MB, trained in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
