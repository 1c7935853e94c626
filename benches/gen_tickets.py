#!/usr/bin/env python3
"""Writes a synthetic ticket export for benches/triage.sh: one ticket per line, in five
languages (en, pl, pt-BR, zh-TW, ko-KR; some zh-CN), about 2% of them carrying a documented
error drawn from fixtures/messages/LCnnn.txt, the rest ordinary helpdesk text from
fixtures/messages/ordinary.txt. Deterministic for a given seed.

    python3 benches/gen_tickets.py --size-mb 256 --seed 42 --out benches/out/tickets.txt
"""
import argparse
import glob
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_lines(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#") or ": " not in line:
                continue
            lang, text = line.split(": ", 1)
            out.append((lang, text))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--error-rate", type=float, default=0.02)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    ordinary = {}
    for lang, text in read_lines(os.path.join(ROOT, "fixtures/messages/ordinary.txt")):
        ordinary.setdefault(lang, []).append(text)
    errors = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures/messages/LC*.txt"))):
        for lang, text in read_lines(path):
            errors.setdefault(lang, []).append(text)
    langs = ["en", "pl", "pt-BR", "zh-TW", "ko-KR", "zh-CN"]
    weights = [30, 18, 18, 14, 14, 6]
    greetings = {
        "en": ["Hi team,", "Hello,", "Good morning,", "Dear support,"],
        "pl": ["Dzień dobry,", "Witam,", "Cześć,"],
        "pt-BR": ["Olá,", "Bom dia,", "Prezados,"],
        "zh-TW": ["您好，", "各位好，"],
        "ko-KR": ["안녕하세요,", "담당자님,"],
        "zh-CN": ["您好，", "大家好，"],
    }

    target = args.size_mb * 1024 * 1024
    written = 0
    n = 0
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        while written < target:
            n += 1
            lang = rng.choices(langs, weights)[0]
            parts = [f"T-{n:08d}", rng.choice(greetings[lang])]
            parts += rng.sample(ordinary[lang], k=min(2, len(ordinary[lang])))
            if rng.random() < args.error_rate and errors.get(lang):
                parts.insert(rng.randrange(2, len(parts) + 1), rng.choice(errors[lang]))
            parts.append(f"(ref {rng.randrange(10**6, 10**7)})")
            line = " ".join(parts) + "\n"
            f.write(line)
            written += len(line.encode("utf-8"))
    print(f"{args.out}: {n} tickets, {written / 1048576:.0f} MiB")


if __name__ == "__main__":
    main()
