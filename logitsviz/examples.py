"""Presets: small worked examples and one large vector, built on demand.

Each preset returns ``(labels, logits)``. Labels that are words are translated
through :func:`logitsviz.i18n.t`, so the seed example reads naturally in both
languages. The logits of the next-token example are illustrative: written by
hand to look like a language model's, not produced by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from logitsviz.i18n import t
from logitsviz.inputs import default_labels

__all__ = [
    "DECODING_PRESETS",
    "LARGE_PRESETS",
    "URL_PRESETS",
    "PRESETS",
    "SEED_LOGITS",
    "STABILITY_PRESETS",
    "DigitsModel",
    "LANGUAGE_MODEL",
    "TrainedLM",
    "api_response_example",
    "language_model",
    "language_model_folder",
    "language_model_path",
    "load_language_model",
    "decoding_preset",
    "digit_example",
    "digits_model",
    "preset",
    "vocabulary",
]

SEED_LOGITS = (2.0, 1.0, 0.1)

# " " at the start of a token is shown as "␣", as tokenizers' vocabularies do
_NEXT_TOKEN = [
    ("␣mat", 6.1), ("␣floor", 5.4), ("␣couch", 5.0), ("␣sofa", 4.8), ("␣bed", 4.6),
    ("␣chair", 4.3), ("␣windowsill", 4.1), ("␣rug", 3.9), ("␣table", 3.6), ("␣edge", 3.2),
    ("␣porch", 3.0), ("␣roof", 2.8), ("␣ground", 2.7), ("␣grass", 2.5), ("␣keyboard", 2.4),
    ("␣step", 2.1), ("␣fence", 2.0), ("␣bench", 1.8), ("␣pillow", 1.7), ("␣blanket", 1.5),
    ("␣corner", 1.3), ("␣stairs", 1.1), ("␣box", 1.0), ("␣wall", 0.6), ("␣car", 0.4),
    ("␣laptop", 0.2), ("␣other", -0.3), (",", -0.8), (".", -1.2), ("␣and", -1.6),
]


def _seed() -> tuple[list[str], np.ndarray]:
    labels = [t("preset.seed.news"), t("preset.seed.entertainment"), t("preset.seed.technology")]
    return labels, np.array(SEED_LOGITS)


def _next_token() -> tuple[list[str], np.ndarray]:
    return [tok for tok, _ in _NEXT_TOKEN], np.array([v for _, v in _NEXT_TOKEN])


def _huge() -> tuple[list[str], np.ndarray]:
    return ["A", "B", "C"], np.array([1000.0, 999.0, 998.0])


def _masked() -> tuple[list[str], np.ndarray]:
    labels = [t("preset.masked.allowed", i=i) for i in (1, 2, 3)] + [t("preset.masked.blocked")]
    return labels, np.array([1.5, 0.5, -0.5, -np.inf])


def _uniform() -> tuple[list[str], np.ndarray]:
    return default_labels(5, t("label.default")), np.zeros(5)


@lru_cache(maxsize=1)
def _random_vector(n: int = 200_000, seed: int = 0) -> np.ndarray:
    # a heavy-tailed vocabulary: most logits near 0, a few far above, like an LLM's
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, n)
    z[rng.choice(n, 50, replace=False)] += rng.uniform(4.0, 9.0, 50)
    z.setflags(write=False)
    return z


def _random_200k() -> tuple[list[str], np.ndarray]:
    z = _random_vector()
    return default_labels(z.size, t("label.default")), z.copy()


def _digits() -> tuple[list[str], np.ndarray]:
    return digit_example(0)


PRESETS: dict[str, Callable[[], tuple[list[str], np.ndarray]]] = {
    "seed": _seed,
    "digits": _digits,
    "next_token": _next_token,
    "huge": _huge,
    "masked": _masked,
    "uniform": _uniform,
    "random200k": _random_200k,
}
LARGE_PRESETS = frozenset({"random200k"})
# presets a link names (with their own parameters) instead of carrying their values
URL_PRESETS = frozenset({"random200k", "digits"})


def preset(name: str) -> tuple[list[str], np.ndarray]:
    """The labels and logits of preset ``name`` (one of :data:`PRESETS`).

    >>> preset("huge")[1]
    array([1000.,  999.,  998.])
    """
    return PRESETS[name]()


# ------------------------------------------------------- decoding presets ----
# Illustrative next-token distributions: tokens a model might rank highly after
# each prompt, in a plausible order, with logits that fall off with rank. They
# are written by hand, not produced by a model. "␣" marks a leading space.

_DECODING = {
    "story": (
        "Once upon a time, there",
        1.1,
        "␣was ␣lived ␣were ␣lay ␣stood ␣existed ␣came ␣dwelt ␣once ␣had ␣is ␣grew ␣sat ␣appeared "
        "␣ruled ␣roamed ␣flew ␣walked ␣remained ␣hid ␣slept ␣worked ␣sailed ␣reigned ␣played ␣seemed "
        "␣went ␣in ’s ’d , ␣and ␣a ␣lies ␣rose ␣danced ␣waited ␣wandered ␣sang ␣shone",
    ),
    "capital": (
        "The capital of France is",
        3.2,
        "␣Paris ␣a ␣the ␣located ␣not ␣also ␣one ␣known ␣Lyon ␣home ␣called ␣situated ␣in ␣famous "
        "␣, ␣an ␣often ␣officially ␣Marseille ␣still ␣now ␣considered ␣both ␣currently ␣undoubtedly "
        "␣no ␣: ␣indeed ␣beautiful ␣where ␣Nice ␣— ␣either ␣technically ␣actually ␣Versailles ␣France "
        "␣Berlin . \\n",
    ),
    "weather_zh": (
        "今天天气很",
        1.8,
        "好 不错 热 冷 晴朗 舒服 糟糕 闷 凉快 差 暖和 潮湿 干燥 阴沉 适合 奇怪 清爽 宜人 炎热 寒冷 "
        "多变 温暖 晴 怪 棒 美 一般 糟 难受 燥热 好， 不 是 ， 。 ！ 让 适宜 凉 阴",
    ),
    "code": (
        "for i in",
        2.6,
        "␣range ␣enumerate ␣zip ␣list ␣self ␣tqdm ␣reversed ␣sorted ␣items ␣np ␣data ␣x ␣( ␣[ ␣iter "
        "␣torch ␣os ␣lines ␣nums ␣arr ␣idx ␣indices ␣batch ␣keys ␣args ␣set ␣map ␣filter ␣str ␣dict",
    ),
}
DECODING_PRESETS = tuple(_DECODING)


def decoding_preset(name: str) -> tuple[str, list[str], np.ndarray]:
    """``(prompt, tokens, logits)`` of an illustrative next-token distribution.

    The logit of the token at rank r is ``8 - steepness * log(1 + r)`` plus a
    little fixed noise: steep for a factual prompt, flat for a story.

    >>> prompt, tokens, logits = decoding_preset("capital")
    >>> prompt, tokens[0], len(tokens), bool(logits[0] == logits.max())
    ('The capital of France is', '␣Paris', 40, True)
    """
    prompt, steepness, text = _DECODING[name]
    tokens = text.split()
    rank = np.arange(len(tokens))
    noise = np.random.default_rng(len(prompt)).normal(0, 0.15, len(tokens))
    noise[0] = 0.0
    logits = np.round(8.0 - steepness * np.log1p(rank) + noise, 2)
    logits[0] = max(logits[0], logits[1:].max() + 0.1)  # keep the first token first
    return prompt, tokens, logits


# ------------------------------------------------------- stability presets ----

STABILITY_PRESETS: dict[str, tuple[float, ...]] = {
    "huge": (1000.0, 999.0, 998.0),  # exp overflows in every type
    "negative": (-1000.0, -999.0),  # exp underflows to 0: 0 / 0
    "float32": (88.0, 89.0, 90.0),  # past float32's 88.72, inside float64's 709.78
    "float16": (11.0, 12.0),  # past float16's 11.09 only
}


def vocabulary(size: int, spread: float, seed: int = 0) -> np.ndarray:
    """A random vocabulary of logits with standard deviation ``spread``, the first token clearly ahead.

    >>> z = vocabulary(1000, 10.0)
    >>> z.shape, bool(np.argmax(z) == 0)
    ((1000,), True)
    """
    z = np.random.default_rng(seed).normal(0.0, spread, size)
    z[0] = z.max() + spread
    return z


# ------------------------------------------------------ the real model: digits ----


@dataclass(frozen=True)
class DigitsModel:
    """A small neural network trained on scikit-learn's bundled 8x8 digits, and its held-out logits."""

    images: np.ndarray  # (N, 8, 8), values 0-16
    logits: np.ndarray  # (N, 10): the last layer's output, before softmax
    labels: np.ndarray  # (N,)
    train_accuracy: float
    test_accuracy: float
    train_seconds: float
    weights: tuple = ()  # (W1, b1, W2, b2): the network, to run it on other images

    def forward(self, images: np.ndarray) -> np.ndarray:
        """Logits ``(N, 10)`` of 8x8 images with values 0-16, as the held-out logits were made."""
        w1, b1, w2, b2 = self.weights
        x = np.asarray(images, dtype=np.float64).reshape(len(images), 64) / 16.0
        return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


@lru_cache(maxsize=1)
def digits_model(seed: int = 0) -> DigitsModel:
    """Train a one-hidden-layer MLP on 60% of the 1,797 digits (fixed seed) and return the rest's logits.

    Nothing is downloaded: the images ship inside scikit-learn. The logits are
    a forward pass without the final softmax, ``relu(x W1 + b1) W2 + b2``.
    Trained without weight decay for many epochs, so it is accurate and,
    like many modern networks, over-confident: a case for temperature scaling.

    >>> m = digits_model()
    >>> m.logits.shape, m.test_accuracy > 0.9
    ((719, 10), True)
    """
    import time

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    data = load_digits()
    x = data.data / 16.0
    x_train, x_test, y_train, y_test, _, img_test = train_test_split(
        x, data.target, data.images, test_size=0.4, random_state=seed, stratify=data.target
    )
    net = MLPClassifier(hidden_layer_sizes=(32,), alpha=0.0, learning_rate_init=0.01, max_iter=300, tol=0.0,
                        n_iter_no_change=300, random_state=seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "max_iter reached": training this long is the point
        net.fit(x_train, y_train)
    hidden = np.maximum(x_test @ net.coefs_[0] + net.intercepts_[0], 0.0)
    logits = hidden @ net.coefs_[1] + net.intercepts_[1]
    return DigitsModel(
        images=img_test,
        logits=logits,
        labels=y_test.astype(np.int64),
        train_accuracy=float(net.score(x_train, y_train)),
        test_accuracy=float(np.mean(np.argmax(logits, axis=1) == y_test)),
        train_seconds=time.perf_counter() - start,
        weights=(net.coefs_[0], net.intercepts_[0], net.coefs_[1], net.intercepts_[1]),
    )


OOD_KINDS = ("noise", "inverted", "shuffled")


def digits_unlike(kind: str, n: int = 400, seed: int = 0) -> np.ndarray:
    """8x8 images the digits model never saw anything like, values 0-16: ``"noise"`` (uniform pixels),
    ``"inverted"`` (held-out digits, dark on light) or ``"shuffled"`` (held-out digits with their pixels permuted).

    >>> digits_unlike("noise", 5).shape
    (5, 8, 8)
    """
    rng = np.random.default_rng(seed)
    m = digits_model()
    pick = m.images[rng.integers(0, len(m.images), size=n)]
    if kind == "noise":
        return rng.uniform(0, 16, size=(n, 8, 8))
    if kind == "inverted":
        return 16.0 - pick
    if kind == "shuffled":
        flat = pick.reshape(n, 64)
        return np.take_along_axis(flat, np.argsort(rng.random((n, 64)), axis=1), axis=1).reshape(n, 8, 8)
    raise ValueError(kind)


def digit_example(index: int) -> tuple[list[str], np.ndarray]:
    """The 10 logits of held-out digit ``index``, labelled "0" to "9"."""
    m = digits_model()
    return [str(d) for d in range(10)], m.logits[int(index) % m.logits.shape[0]].copy()


# ------------------------------------------- the built-in language model: shipped with the package ----

LANGUAGE_MODEL = "builtin"  # the name the app and the command line use for it


@dataclass(frozen=True)
class TrainedLM:
    """The built-in language model: where its files are, what it was trained on, and how well it does on text it never saw."""

    folder: Path
    parameters: int
    steps: int
    train_seconds: float
    data: dict  # {"en": {"source", "licence", "documents", "bytes"}, "zh": {…}}
    held_out: dict  # {"en": {"bits_per_byte", "bits_per_token", "perplexity", "tokens", "bytes"}, "zh": {…}}


def language_model_folder() -> Path:
    """Where the built-in model's files are: inside the package (``logitsviz/models/builtin``), nothing to download or train."""
    return Path(__file__).resolve().parent / "models" / "builtin"


@lru_cache(maxsize=1)
def language_model() -> TrainedLM:
    """The built-in language model's card: a small bilingual GPT-2 shipped with the package.

    4 layers, 256 wide, a byte-level BPE vocabulary of 8,192 tokens (English
    and Chinese), float16 weights. Trained by ``scripts/train_builtin_lm.py``
    on Python's own documentation (``pydoc_data.topics`` and the standard
    library's docstrings) and Debian's Chinese manual pages (``manpages-zh``);
    ``held_out`` holds its bits per byte on documents of each language it
    never trained on. Loading it needs the ``lm`` extra; this card does not.

    >>> card = language_model()
    >>> sorted(card.held_out), card.parameters > 1_000_000
    (['en', 'zh'], True)
    """
    folder = language_model_folder()
    info = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    return TrainedLM(folder, int(info["parameters"]), int(info["steps"]), float(info["train_seconds"]), info["data"],
                     info["held_out"])


# ------------------------------------------------ an API response with log-probabilities ----

# (token, probability, alternatives with their probabilities): written by hand to look like a chat model's answer,
# not produced by one. Bytes of "巴" (e5 b7 b4) are split over two tokens, as byte-level vocabularies do.
_API_TOKENS = [
    ("The", 0.92, [("Paris", 0.05)]), (" capital", 0.97, [(" French", 0.01)]), (" of", 0.99, []), (" France", 0.995, []),
    (" is", 0.98, [(" has", 0.005)]), (" Paris", 0.96, [(" **", 0.03), (" the", 0.004)]), (".", 0.7, [(",", 0.2), (" (", 0.05)]),
    (" 法国", 0.55, [("\n", 0.3), (" In", 0.08)]), ("的", 0.9, [("首", 0.05)]), ("首都", 0.97, []), ("是", 0.96, [("为", 0.03)]),
    (b"\xe5\xb7", 0.9, [(b"\xe5\x9f", 0.04)]), (b"\xb4", 0.99, []), ("黎", 0.999, []), ("。", 0.93, [("！", 0.04)]), (" 🇫🇷", 0.12, [("<|end|>", 0.85)]),
]


def api_response_example() -> str:
    """An OpenAI Chat Completions response with ``logprobs`` and ``top_logprobs``: the Tokens page's example.

    Illustrative: written by hand in the documented format (bytes included),
    not produced by a model.

    >>> from logitsviz import tokens
    >>> seq = tokens.read_logprobs(api_response_example())
    >>> seq.source, "巴黎" in seq.text
    ('openai-chat', True)
    """
    import math

    def entry(token, p, alternatives):
        raw = token if isinstance(token, bytes) else token.encode()
        shown = raw.decode("utf-8", errors="backslashreplace")
        top = [(token, p), *alternatives]
        return {"token": shown, "logprob": math.log(p), "bytes": list(raw),
                "top_logprobs": [{"token": (t if isinstance(t, str) else t.decode("utf-8", errors="backslashreplace")),
                                  "logprob": math.log(q), "bytes": list(t if isinstance(t, bytes) else t.encode())} for t, q in top]}

    content = [entry(*item) for item in _API_TOKENS]
    return json.dumps({"object": "chat.completion", "model": "example", "choices": [{
        "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "The capital of France is Paris. 法国的首都是巴黎。 🇫🇷"},
        "logprobs": {"content": content}}]}, ensure_ascii=False, indent=1)


def language_model_path(name: str) -> str:
    """What :func:`logitsviz.lm.load` is given for the model called ``name``: the built-in one's folder, or ``name`` itself."""
    return str(language_model_folder()) if name == LANGUAGE_MODEL else name


def load_language_model(name: str):
    """The language model called ``name``: the built-in one (shipped with the package) or anything :func:`logitsviz.lm.load` takes.

    Needs the ``lm`` extra; loaded once per process, as ``lm.load`` keeps it.
    """
    from logitsviz import lm

    return lm.load(language_model_path(name))
