"""Every table of results in the README is the program's output: rendered here from the code, compared with the README.

    python -m tests.test_readme_numbers --write     # after a change that moves a number: rewrite the README's tables

Each table sits between ``<!-- table:NAME -->`` and ``<!-- /table:NAME -->``.
(Timings are not here: they come from benchmarks, which are not deterministic.)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from logitsviz import calibration, examples, explain
from logitsviz.i18n import t

README = Path(__file__).resolve().parents[1] / "README.md"
MARKED = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table:(?P=name) -->)", re.DOTALL)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def digits_table() -> str:
    """The built-in digits model before and after temperature scaling (held-out, 15 bins)."""
    m = examples.digits_model()
    fitted = calibration.fit_temperature(m.logits, m.labels)
    before, after = calibration.report(m.logits, m.labels), calibration.report(m.logits, m.labels, temperature=fitted)
    rows = [("accuracy", "accuracy", _pct), ("average confidence", "confidence", _pct), ("NLL", "nll", lambda x: f"{x:.4f}"),
            ("ECE", "ece", _pct)]
    b, a = before.metrics(), after.metrics()
    lines = [f"| built-in digits model (held-out, 15 bins) | T = 1 | fitted T = {fitted:.3f} |", "|---|---|---|"]
    lines += [f"| {name} | {fmt(b[key])} | {fmt(a[key])} |" for name, key, fmt in rows]
    return "\n".join(lines) + "\n"


def maps_table() -> str:
    """Every recalibration map fitted on half of the digits model's held-out rows and measured on the other half."""
    m = examples.digits_model()
    cmp = calibration.compare_maps(m.logits, m.labels, split=0.5, rng=0)
    lines = [f"| digits, fitted on {cmp.calibration_rows} rows, measured on {cmp.test_rows} | NLL | Brier | ECE | smooth ECE | setting |",
             "|---|---|---|---|---|---|"]
    for r in cmp.results:
        x = r.metrics
        lines.append(f"| {t(f'cal.map.{r.kind}', lang='en')} | {x['nll']:.4f} | {x['brier']:.4f} | {_pct(x['ece'])} | "
                     f"{_pct(x['smooth_ece'])} | {explain.map_setting(r) or '—'} |")
    return "\n".join(lines) + "\n"


def builtin_lm_table() -> str:
    """What the built-in language model read, and its held-out figures (from the training.json it ships with)."""
    info = json.loads((examples.language_model_folder() / "training.json").read_text(encoding="utf-8"))
    d, h = info["data"], info["held_out"]
    return "\n".join([
        "| | English | Chinese |",
        "|---|---|---|",
        f"| text | Python's own documentation: `pydoc_data.topics` and the standard library's docstrings "
        f"({d['en']['bytes'] / 1e6:.2f} MB) | Debian's Simplified Chinese manual pages, `manpages-zh` ({d['zh']['bytes'] / 1e6:.2f} MB) |",
        "| licence of the text | PSF License 2.0 | GNU FDL 1.2 or later (a few pages GPL 2) |",
        f"| **held-out bits per byte** | **{h['en']['bits_per_byte']:.3f}** | **{h['zh']['bits_per_byte']:.3f}** |",
        f"| held-out perplexity per token | {h['en']['perplexity']:.1f} | {h['zh']['perplexity']:.1f} |",
    ]) + "\n"


# English and Chinese the built-in model has not read (not from its training text), for the quantisation table
QUANT_TEXT = ("The new smartphone has a bright screen and a long battery life. People like to take photos with it, and "
              "the camera works well at night. The price is higher than last year, but many shops still sold out in a week. "
              "今天天气很好，我们一起去公园散步吧。下午三点以后可能会下雨，所以最好带一把伞。晚上我们在家里做饭，看一部电影。")


def quantized_table() -> str:
    """The built-in model against copies of itself rounded to fewer bits (lm.quantized), teacher-forced over QUANT_TEXT."""
    from logitsviz import lm

    model = lm.load(str(examples.language_model_folder()))
    lines = ["| weights | mean KL (nats) | 99 % KL | same top token | PPL(Q) / PPL(base) | RMS Δp |", "|---|---|---|---|---|---|"]
    for bits in (8, 6, 5, 4, 3, 2):
        s = lm.compare(model, lm.quantized(model, bits), QUANT_TEXT).summary()
        lines.append(f"| {bits}-bit | {s['kl_mean']:.5f} ± {s['kl_mean_unc']:.5f} | {s['kl_p99']:.4f} | "
                     f"{_pct(s['same_top'])} | {s['ppl_ratio']:.3f} ± {s['ppl_ratio_unc']:.3f} | {_pct(s['delta_p_rms'])} |")
    return "\n".join(lines) + f"\n\n{s['n']} positions; the base model's perplexity on this text is {s['ppl_base']:.1f}.\n"


def conformal_table() -> str:
    """The digits model's prediction sets: coverage and mean size on the test half, averaged over 50 random halvings."""
    m = examples.digits_model()
    lines = ["| score | α | coverage (mean ± sd over 50 splits) | mean set size | worst class |", "|---|---|---|---|---|"]
    for name, score, mondrian in (("LAC", "lac", False), ("APS", "aps", False), ("RAPS (k_reg 1, λ 0.1)", "raps", False),
                                  ("LAC, per class (Mondrian)", "lac", True)):
        for alpha in (0.1, 0.05):
            views = [explain.sets_view(m.logits, m.labels, 0.5, seed, alpha, score, mondrian) for seed in range(50)]
            cov = [v.coverage for v in views]
            lines.append(f"| {name} | {alpha} | {_pct(sum(cov) / len(cov))} ± {_pct(_sd(cov))} | "
                         f"{sum(v.mean_size for v in views) / len(views):.2f} | {_pct(sum(v.worst_class for v in views) / len(views))} |")
    return "\n".join(lines) + "\n"


def _sd(x: list[float]) -> float:
    mean = sum(x) / len(x)
    return (sum((v - mean) ** 2 for v in x) / (len(x) - 1)) ** 0.5


def ood_table() -> str:
    """Each OOD score on the digits model's held-out digits against each kind of unfamiliar image."""
    m = examples.digits_model()
    head = "| score | " + " | ".join(f"{t(f'ood.kind.{k}', lang='en')}: AUROC / FPR95" for k in examples.OOD_KINDS) + " |"
    lines = [head, "|---|" + "---|" * len(examples.OOD_KINDS)]
    views = {k: explain.ood_view(m.logits, m.forward(examples.digits_unlike(k))) for k in examples.OOD_KINDS}
    for i, score in enumerate(calibration.OOD_SCORES):
        cells = [f"{views[k].results[i].auroc:.3f} / {views[k].results[i].fpr95:.3f}" for k in examples.OOD_KINDS]
        lines.append(f"| {t(f'ood.score.{score}', lang='en')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


TABLES = {"digits": digits_table, "maps": maps_table, "builtin-lm": builtin_lm_table, "quantized": quantized_table,
          "conformal": conformal_table, "ood": ood_table}


def readme_tables() -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in MARKED.finditer(README.read_text(encoding="utf-8"))}


def test_every_table_is_marked_in_the_readme():
    assert set(readme_tables()) == set(TABLES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_readme_shows_what_the_code_computes(name):
    assert readme_tables()[name] == TABLES[name](), f"README table {name!r} is stale: python -m tests.test_readme_numbers --write"


def write() -> None:
    text = README.read_text(encoding="utf-8")
    text = MARKED.sub(lambda m: m.group(1) + TABLES[m.group("name")]() + m.group(4), text)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    write()
