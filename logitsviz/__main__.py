"""Command line: ``python -m logitsviz`` (installed as ``logitsviz``).

    logitsviz softmax 2.0 1.0 0.1 --labels News Entertainment Technology [--temperature T] [--json]
    logitsviz softmax logits.npy          # or a .csv/.txt/.json file, or - for standard input
    logitsviz calibrate LOGITS [LABELS] [--bins 15] [--json] [--progress]   # LOGITS may be a big .npy or a folder of shards
    logitsviz lm "The new smartphone has" [--model ID_OR_FOLDER] [--top 10] [--json]
    logitsviz lm --score "A text to score." [--model ID_OR_FOLDER] [--json]
    logitsviz tokens RESPONSE.json [--json]    # an API's token log-probabilities: perplexity, least likely tokens
    logitsviz tokens --server URL "prompt"     # the same, asked of a running server (llama.cpp, vLLM, Ollama, OpenAI)
    logitsviz app [streamlit options]

Errors print one line to standard error and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from logitsviz import calibration, explain, inputs, numerics
from logitsviz.errors import InputError
from logitsviz.fmt import plain

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, like every other error here
        self.exit(2, f"{self.prog}: error: {message}\n")


def _read_source(values: list[str]) -> tuple[list[str], np.ndarray]:
    """Numbers on the command line, a file name, or - for standard input."""
    if len(values) == 1 and values[0] == "-":
        return inputs.parse_logits(sys.stdin.read())
    if len(values) == 1 and Path(values[0]).is_file():
        path = Path(values[0])
        return inputs.read_vector_file(path.read_bytes(), path.name)
    if not values:
        raise InputError("input.empty")
    return inputs.parse_logits(" ".join(values))


def cmd_softmax(args: argparse.Namespace) -> int:
    labels, logits = _read_source(args.values)
    if args.labels:
        if len(args.labels) != logits.size:
            raise InputError("cli.labels_count", n=len(args.labels), m=logits.size)
        labels = list(args.labels)
    table = explain.softmax_table(logits, temperature=args.temperature)
    z, p, logp = table["z"], table["probability"], table["log_probability"]
    best = int(np.argmax(z))
    if args.json:
        rows = [
            {"label": lab, "logit": _jsonable(x), "probability": float(q), "log_probability": _jsonable(lq)}
            for lab, x, q, lq in zip(labels, logits.tolist(), p.tolist(), logp.tolist())
        ]
        print(json.dumps({"temperature": args.temperature, "argmax": labels[best], "classes": rows}, ensure_ascii=False, indent=2))
        return 0
    width = max(len("label"), *(len(lab) for lab in labels[:1000]))
    print(f"  {'label':<{width}}  {'logit':>12}  {'probability':>12}  {'log-prob':>12}")
    for i, (lab, x, q, lq) in enumerate(zip(labels, logits.tolist(), p.tolist(), logp.tolist())):
        mark = "*" if i == best else " "
        print(f"{mark} {lab:<{width}}  {plain(x):>12}  {q:>12.6f}  {plain(lq):>12}")
    print(f"* argmax: {labels[best]}  (T = {args.temperature:g}, entropy {float(numerics.entropy(z, base=2)):.4f} bits)")
    return 0


def _jsonable(x: float) -> float | None:
    """A float for JSON, which has no inf or NaN: those become null."""
    return float(x) if math.isfinite(x) else None


def _open_eval_set(logits_arg: str, labels_arg: str | None):
    """``(logits, labels)`` for the calibration functions: a folder of shards, a memory-mapped ``.npy`` (read in
    chunks, never whole), or any other file read into memory."""
    logits_path = Path(logits_arg)
    labels_path = Path(labels_arg) if labels_arg else None
    if logits_path.is_dir() and labels_path is None:
        return calibration.open_shards(logits_path), None
    for path in (logits_path, labels_path):
        if path is not None and not path.is_file():
            raise InputError("cli.no_file", path=str(path))
    if logits_path.suffix.lower() == ".npy":
        if labels_path is None:
            raise InputError("calib.no_labels")
        z = np.load(logits_path, mmap_mode="r", allow_pickle=False)
        if labels_path.suffix.lower() == ".npy":
            return z, np.load(labels_path, mmap_mode="r", allow_pickle=False)
        return z, inputs.load_array(labels_path.read_bytes(), labels_path.name).ravel()
    return inputs.read_eval_set(logits_path.read_bytes(), logits_path.name,
                                labels_path.read_bytes() if labels_path else None, labels_path.name if labels_path else None)


class _Progress:
    """A one-line progress bar on standard error (only when it is a terminal, or asked for)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.label = ""
        self.started = 0.0
        self.last = self.passes = 0

    def stage(self, label: str):
        import time

        self.label, self.started, self.last, self.passes = label, time.perf_counter(), 0, 1
        return self

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        import time

        if done < self.last:  # the fit's next pass: time it afresh
            self.started, self.passes = time.perf_counter(), self.passes + 1
        self.last = done
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        label = f"{self.label} {self.passes}" if self.label.endswith("pass") else self.label
        sys.stderr.write(f"\r{label:<24} [{'#' * filled}{'.' * (width - filled)}] {100 * done / max(total, 1):5.1f}%  "
                         f"{done:,}/{total:,} rows  {rate:,.0f} rows/s ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _summary_json(s: calibration.Summary) -> dict:
    d = s.brier_decomposition() if s.classwise is not None else None
    out = {k: _jsonable(v) for k, v in s.metrics().items()}
    if d is not None:
        out["brier_decomposition"] = {k: _jsonable(getattr(d, k)) for k in
                                      ("reliability", "resolution", "uncertainty", "within_variance", "within_covariance")}
    return out


def cmd_calibrate(args: argparse.Namespace) -> int:
    z, y = _open_eval_set(args.logits, args.labels)
    progress = _Progress(args.progress or (args.progress is None and sys.stderr.isatty()))
    classwise = not args.no_classwise
    before = calibration.summarize(z, y, n_bins=args.bins, classwise=classwise, progress=progress.stage("metrics at T = 1"))
    t = calibration.fit_temperature(z, y, progress=progress.stage("fitting T, pass"))
    after = calibration.summarize(z, y, temperature=t, n_bins=args.bins, classwise=classwise, progress=progress.stage(f"metrics at T = {t:.4g}"))
    if args.json:
        print(json.dumps({"rows": before.rows, "classes": before.classes, "bins": args.bins, "fitted_temperature": t,
                          "before": _summary_json(before), "after": _summary_json(after)}, indent=2))
        return 0
    print(f"{before.rows:,} rows x {before.classes:,} classes, {args.bins} equal-width bins")
    print(f"  {'':<20}{'T = 1':>12}{f'T = {t:.4f}':>14}")
    m0, m1 = before.metrics(), after.metrics()
    for key in m0:
        print(f"  {calibration.REGISTRY[key].label:<20}{m0[key]:>12.4f}{m1[key]:>14.4f}")
    if classwise:
        d0, d1 = before.brier_decomposition(), after.brier_decomposition()
        for key, name in (("reliability", "Brier reliability"), ("resolution", "Brier resolution"), ("uncertainty", "Brier uncertainty")):
            print(f"  {name:<20}{getattr(d0, key):>12.4f}{getattr(d1, key):>14.4f}")
    print(f"fitted temperature: {t:.6g}")
    return 0


_LLAMA_LABELS = {  # llama.cpp's own names, so the two outputs can be read side by side
    "ppl_other": "Mean PPL(Q)", "ppl_base": "Mean PPL(base)", "ppl_cor": "Cor(ln(PPL(Q)), ln(PPL(base)))",
    "ln_ppl_ratio": "Mean ln(PPL(Q)/PPL(base))", "ppl_ratio": "Mean PPL(Q)/PPL(base)", "ppl_diff": "Mean PPL(Q)-PPL(base)",
    "kl_mean": "Mean    KLD", "kl_max": "Maximum KLD", "kl_median": "Median  KLD", "kl_min": "Minimum KLD",
    "js_mean": "Mean    JSD", "tv_mean": "Mean    TV", "delta_p_mean": "Mean    Δp", "delta_p_max": "Maximum Δp",
    "delta_p_median": "Median  Δp", "delta_p_min": "Minimum Δp", "delta_p_rms": "RMS Δp", "same_top": "Same top p",
}
_SECTIONS = {"ppl": "Perplexity statistics", "kl": "KL divergence statistics", "p": "Token probability statistics"}


def _statistic_label(key: str) -> str:
    if key in _LLAMA_LABELS:
        return _LLAMA_LABELS[key]
    name, _, level = key.rpartition("_p")  # kl_p999 -> 99.9 %
    percent = {"999": "99.9", "001": "0.1"}.get(level, f"{int(level):.1f}" if len(level) == 2 else level)
    return f"{percent:>4}%   {'KLD' if name == 'kl' else 'Δp'}"


def cmd_compare(args: argparse.Namespace) -> int:
    from logitsviz import divergence

    base, other = divergence.open_dump(args.base), divergence.open_dump(args.other)
    targets = None
    if args.targets:
        path = Path(args.targets)
        if not path.is_file():
            raise InputError("cli.no_file", path=str(path))
        targets = inputs.load_array(path.read_bytes(), path.name).ravel()
    s = divergence.compare(base, other, targets).summary()
    if args.json:
        print(json.dumps({k: v if k == "n" else _jsonable(v) for k, v in s.items()}, indent=2))
        return 0
    n, v = s["n"], base.shape[1]
    print(f"{n:,} rows x {v:,} classes: KL({Path(args.base).name} || {Path(args.other).name})")
    section = None
    for part, key, unc, unit in divergence.STATISTICS:
        if key not in s:
            continue
        if part != section:
            section = part
            print(f"====== {_SECTIONS[part]} ======")
        scale, sign = (100.0, " %") if unit == "percent" else (1.0, "")
        value = f"{scale * s[key]:10.6f}" if unit == "plain" else f"{scale * s[key]:6.3f}"
        plus = f" ± {scale * s[unc]:10.6f}" if unc and unit == "plain" else (f" ± {scale * s[unc]:5.3f}" if unc else "")
        print(f"{_statistic_label(key):<30}: {value}{plus}{sign}")
    return 0


def _language_model(name: str):
    from logitsviz import examples

    return examples.load_language_model(name)


def cmd_lm(args: argparse.Namespace) -> int:
    model = _language_model(args.model)
    if args.score is not None:
        return _print_scores(model.score(args.score), args.json)
    if args.prompt is None:
        raise InputError("lm.empty_prompt")
    labels, logits = model.next_token_logits(args.prompt)
    table = explain.softmax_table(logits, temperature=args.temperature)
    best = np.argsort(-logits, kind="stable")[: args.top]
    if args.json:
        rows = [{"token": labels[i], "id": int(i), "logit": float(logits[i]), "probability": float(table["probability"][i])} for i in best]
        print(json.dumps({"model": args.model, "prompt": args.prompt, "temperature": args.temperature, "vocabulary": int(logits.size),
                          "entropy_bits": float(numerics.entropy(table["z"], base=2)), "top": rows}, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.model}: next token after {args.prompt!r} (vocabulary {logits.size:,}, T = {args.temperature:g})")
    for rank, i in enumerate(best, start=1):
        print(f"{rank:>4}  {labels[i]:<24} {plain(logits[i]):>10}  {100 * table['probability'][i]:8.3f} %")
    print(f"entropy {float(numerics.entropy(table['z'], base=2)):.3f} bits")
    return 0


def _print_scores(scores, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"text": scores.text, "perplexity": scores.perplexity, "tokens": [
            {"token": s.text, "id": s.id, "logprob": s.logprob, "surprise_bits": s.surprise_bits, "rank": s.rank} for s in scores.tokens
        ]}, ensure_ascii=False, indent=2))
        return 0
    print(f"perplexity {scores.perplexity:.3f} over {len(scores.tokens)} tokens")
    for s in sorted(scores.tokens, key=lambda s: -s.surprise_bits)[:10]:
        print(f"  {s.surprise_bits:7.2f} bits  rank {s.rank:<6} {s.text!r}")
    return 0


def _sequence(args: argparse.Namespace):
    """The token log-probabilities the command was given: a saved response, or a server asked now."""
    from logitsviz import config, tokens

    if args.server:
        if not args.file:
            raise InputError("server.empty_prompt")
        key = os.environ.get(args.api_key_env) if args.api_key_env else None
        # on the command line the user asks from their own machine: any server they name
        return tokens.request(args.server, args.file, api=args.api, model=args.model, top=args.alternatives,
                              max_tokens=args.max_tokens, temperature=args.temperature, stream=args.stream, api_key=key,
                              post_sampling=args.post_sampling, policy=config.ServerPolicy(("*",)))
    path = Path(args.file or "")
    data = sys.stdin.buffer.read() if args.file == "-" else (path.read_bytes() if args.file and path.is_file() else None)
    if data is None:
        raise InputError("cli.no_file", path=str(args.file or ""))
    return tokens.read_logprobs(data, choice=args.choice)


def cmd_tokens(args: argparse.Namespace) -> int:
    from logitsviz import tokens

    seq = _sequence(args)
    view = explain.sequence_view(seq, least=args.top)  # the numbers the Tokens page shows
    surprise, order = view.surprise_bits, view.least_likely
    for warning in seq.warnings:
        print(f"logitsviz: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"format": seq.source, "tokens": len(seq.positions), "perplexity": seq.perplexity, "text": seq.text,
                          "warnings": [str(w) for w in seq.warnings],
                          "least_likely": [{"position": int(i) + 1, "token": seq.tokens[i], "logprob": _jsonable(seq.logprobs[i]),
                                            "alternatives": [[t, _jsonable(lp)] for t, lp in seq.top[i]]} for i in order]},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{seq.source}: {len(seq.positions)} tokens, perplexity {seq.perplexity:.4f}")
    print(f"  {'pos':>5}  {'token':<20} {'surprise':>12}   expected")
    for i in order:
        # one spelling for every token: blanks as ␣ ↵ ⇥, in the token and in what was expected alike
        expected = tokens.visible(seq.top[i][0][0]) if seq.top[i] else ""
        bits = "unknown" if not np.isfinite(surprise[i]) else f"{max(0.0, surprise[i]) + 0.0:.2f} bits"
        print(f"  {i + 1:>5}  {tokens.visible(seq.tokens[i]):<20} {bits:>12}   {expected}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """``streamlit run`` on the app's shell (``logitsviz/ui/main.py``), the one entry point ``app.py`` also calls.

    The process is handed over to Streamlit (``exec``): a signal sent to
    ``logitsviz app`` reaches the server itself, so stopping it leaves nothing
    running. The app's settings come with it from any folder.
    """
    script = Path(__file__).with_name("ui") / "main.py"
    env = os.environ.copy()
    # the package's parent on the path, so the shell imports this logitsviz also when it is not installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), *app_flags(args.streamlit_args), *args.streamlit_args]
    sys.stdout.flush()
    if os.name == "posix":
        os.execve(sys.executable, cmd, env)  # never returns
    return subprocess.call(cmd, env=env)  # pragma: no cover - Windows has no exec that keeps the process


def app_flags(user_args: list[str], cwd: Path | None = None) -> list[str]:
    """The app's own Streamlit settings as flags, less any the user sets (a flag, or their .streamlit/config.toml).

    >>> "--theme.primaryColor=#E07A3F" in app_flags([], Path("/nonexistent"))
    True
    >>> any(f.startswith("--server.port") for f in app_flags(["--server.port", "9000"], Path("/nonexistent")))
    False
    """
    import tomllib

    ours = tomllib.loads((Path(__file__).with_name("ui") / "server.toml").read_text(encoding="utf-8"))
    theirs: set[str] = {arg.lstrip("-").split("=", 1)[0] for arg in user_args if arg.startswith("--")}
    for path in (Path.home() / ".streamlit" / "config.toml", (cwd or Path.cwd()) / ".streamlit" / "config.toml"):
        if path.is_file():
            try:
                theirs |= {f"{section}.{key}" for section, values in tomllib.loads(path.read_text(encoding="utf-8")).items()
                           if isinstance(values, dict) for key in values}
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue  # Streamlit reports a broken config itself
    from logitsviz import config

    ours["server"]["maxUploadSize"] = config.limits().upload_mb  # one limit: what the app checks is what Streamlit accepts
    return [f"--{section}.{key}={_flag_value(value)}" for section, values in ours.items() for key, value in values.items()
            if f"{section}.{key}" not in theirs]


def _flag_value(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="logitsviz", description="Logits in, probabilities out: softmax, calibration and the web app.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("softmax", help="print softmax probabilities of one vector of logits",
                       description="Print each class's logit, probability and log-probability; the argmax is marked *. "
                                   "Logits come as numbers, a file (.npy/.npz/.csv/.tsv/.txt/.json) or - for standard input. "
                                   "Put -- before numbers that start with -inf.")
    p.add_argument("values", nargs="*", help="numbers, one file name, or -")
    p.add_argument("--labels", nargs="+", metavar="LABEL", help="one name per class")
    p.add_argument("--temperature", "-t", type=float, default=1.0, help="divide the logits by T > 0 (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=cmd_softmax)

    c = sub.add_parser("calibrate", help="calibration metrics and the fitted temperature of an evaluation set",
                       description="Read logits (N x C: .npy, .npz, .csv, .tsv, .txt) and labels (N), print accuracy, NLL, "
                                   "Brier, ECE, MCE, smooth ECE, classwise and debiased ECE, AURC and the Brier decomposition "
                                   "before and after temperature scaling, and the fitted temperature. Labels may instead be a "
                                   "'labels' array in the .npz or the last CSV column. A .npy is memory-mapped and read in "
                                   "chunks, so it may be larger than memory; so may a folder of shards (NAME.npz with logits "
                                   "and labels, or NAME.npy with NAME.labels.npy).")
    c.add_argument("logits", help="logits file, or a folder of shards")
    c.add_argument("labels", nargs="?", help="labels file (optional)")
    c.add_argument("--bins", type=int, default=15, help="equal-width bins for ECE/MCE (default 15)")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument("--no-classwise", action="store_true", help="skip classwise ECE and the Brier decomposition (a lighter pass)")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars on standard error (default: when it is a terminal)")
    c.set_defaults(run=cmd_calibrate)

    m = sub.add_parser("lm", help="a language model's next-token distribution, or the surprise of each token of a text",
                       description="Print the most likely next tokens after PROMPT (or, with --score, each token's surprise and the "
                                   "text's perplexity). --model is a Hugging Face id or a local folder; 'builtin' is the small bilingual "
                                   "model shipped with logitsviz. Needs the lm extra.")
    m.add_argument("prompt", nargs="?", help="the text to continue")
    m.add_argument("--model", default="builtin", help="Hugging Face id, local folder, or 'builtin' (default)")
    m.add_argument("--score", metavar="TEXT", help="score TEXT instead: surprise per token and perplexity")
    m.add_argument("--top", type=int, default=10, help="how many tokens to list (default 10)")
    m.add_argument("--temperature", "-t", type=float, default=1.0, help="divide the logits by T > 0 (default 1)")
    m.add_argument("--json", action="store_true", help="print JSON instead of a table")
    m.set_defaults(run=cmd_lm)

    k = sub.add_parser("tokens", help="perplexity and the least likely tokens of an API response with log-probabilities",
                       description="Read a saved LLM API or server response (OpenAI Chat Completions or Responses, legacy "
                                   "Completions, vLLM, llama.cpp server, Ollama; streamed or not; - for standard input), or with "
                                   "--server ask a running server to continue PROMPT, and print the perplexity and the least "
                                   "likely tokens.")
    k.add_argument("file", nargs="?", help="the saved response, or - for standard input; with --server, the prompt")
    k.add_argument("--server", metavar="URL", help="ask this server instead, e.g. http://localhost:8080")
    k.add_argument("--api", choices=["completions", "chat", "llama.cpp", "ollama"], default="completions",
                   help="the server's API form (default completions: /v1/completions)")
    k.add_argument("--model", help="the model name, where the server needs one (vLLM, Ollama, OpenAI)")
    k.add_argument("--max-tokens", type=int, default=16, help="tokens to generate (default 16)")
    k.add_argument("--alternatives", type=int, default=5, help="alternatives the server lists per token (default 5)")
    k.add_argument("--temperature", "-t", type=float, default=None, help="sampling temperature (default: the server's)")
    k.add_argument("--stream", action="store_true", help="ask for a streamed response")
    k.add_argument("--post-sampling", action="store_true", help="llama.cpp: probabilities after its sampler chain")
    k.add_argument("--api-key-env", metavar="NAME", help="read the API key from this environment variable (never an argument)")
    k.add_argument("--top", type=int, default=10, help="how many tokens to list (default 10)")
    k.add_argument("--choice", type=int, default=0, help="which choice of a response with several (default 0)")
    k.add_argument("--json", action="store_true", help="print JSON instead of a table")
    k.set_defaults(run=cmd_tokens)

    d = sub.add_parser("compare", help="KL divergence, same top token and perplexities of two dumps of logits",
                       description="Compare two sets of logits of the same positions (a model and its quantised copy, a "
                                   "draft and its target) as llama.cpp's perplexity --kl-divergence does. Each side is an "
                                   ".npy file (N, V), read memory-mapped a chunk at a time, or a folder of .npy shards.")
    d.add_argument("base", help="the reference logits (P): .npy file or folder of shards")
    d.add_argument("other", help="the logits compared with it (Q)")
    d.add_argument("--targets", metavar="T.npy", help="the token that came next at each row: adds perplexities and Δp")
    d.add_argument("--json", action="store_true", help="print the summary as JSON")
    d.set_defaults(run=cmd_compare)

    a = sub.add_parser("app", help="start the web app (streamlit run app.py)",
                       description="Start the logitsviz web app; extra options go to streamlit, e.g. --server.port 8502.")
    a.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="options passed to streamlit run")
    a.set_defaults(run=cmd_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "app":  # everything after "app" belongs to streamlit, --options included
        args.streamlit_args = [*extra, *args.streamlit_args]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.run(args))
    except InputError as err:
        print(f"logitsviz: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, ValueError) as err:
        print(f"logitsviz: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
