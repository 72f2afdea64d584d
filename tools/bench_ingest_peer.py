#!/usr/bin/env python3
"""Python peer for benches/curation_ingest.rs: the same ingest + filter work
on the same synthetic JSONL file, in polars and (optionally) pandas.

Usage (see docs/BENCHMARKS.md):
    python3 -m venv tools/.venv && tools/.venv/bin/pip install polars pandas
    tools/.venv/bin/python tools/bench_ingest_peer.py FILE.jsonl [--pandas] [--repeat 3]

The filters are read from benches/bench_filters.toml, as the Rust bench does,
and implemented with the same semantics as curation-core:
- hashtags = NFKC-lowercased `tags` plus `#words` from the title;
- a record with an unknown (null) value fails that value's check;
- language allow-list matches the primary subtag ("en" admits "en-US");
- duplicate ids are judged among records that pass the other checks, first
  occurrence kept.
It prints records read, records kept (compare with the Rust side's count),
and records/s.
"""

import argparse
import os
import re
import time
import tomllib
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = tomllib.loads((HERE.parent / "benches" / "bench_filters.toml").read_text())


def polars_run(path):
    import polars as pl

    c = CONFIG
    df = pl.read_ndjson(path)
    hashtag_re = r"#[\w]+"
    tags = pl.col("tags").list.eval(
        pl.element().str.normalize("NFKC").str.to_lowercase().str.strip_chars_start("#")
    )
    title_tags = (
        pl.col("title")
        .str.extract_all(hashtag_re)
        .list.eval(pl.element().str.strip_chars_start("#").str.normalize("NFKC").str.to_lowercase())
    )
    df = df.with_columns(hashtags=pl.concat_list(tags, title_tags).list.unique(maintain_order=True))
    lang = pl.col("language").str.to_lowercase().str.replace_all("_", "-")
    allowed = [l.lower() for l in c["languages"]]
    lang_ok = lang.is_in(allowed)
    for a in allowed:
        lang_ok = lang_ok | lang.str.starts_with(a + "-")
    short = pl.min_horizontal("width", "height")
    cond = (
        pl.col("duration").is_between(c["duration"]["min"], c["duration"]["max"])
        & (short >= c["min_short_side"])
        & ((pl.col("width") / pl.col("height")) <= c["aspect_ratio"]["max"])
        & lang_ok
        & (pl.col("view_count") >= c["min_views"])
        & ~pl.col("hashtags").list.eval(pl.element().is_in(c["hashtags_deny"])).list.any()
    )
    kept = df.filter(cond.fill_null(False)).unique(subset="id", keep="first", maintain_order=True)
    return df.height, kept.height


def pandas_run(path):
    import pandas as pd

    c = CONFIG
    word = re.compile(r"#(\w+)")
    read, kept = 0, 0
    seen = set()
    deny = set(c["hashtags_deny"])
    allowed = [l.lower() for l in c["languages"]]
    for df in pd.read_json(path, lines=True, chunksize=100_000, dtype=False):
        read += len(df)

        def tags_of(row_tags, title):
            out = []
            for t in list(row_tags or []) + word.findall(title or ""):
                n = unicodedata.normalize("NFKC", t).lower().lstrip("#")
                if n and n not in out:
                    out.append(n)
            return out

        hashtags = [tags_of(t, ti) for t, ti in zip(df["tags"], df["title"])]
        lang = df["language"].fillna("").str.lower().str.replace("_", "-")
        lang_ok = lang.isin(allowed)
        for a in allowed:
            lang_ok |= lang.str.startswith(a + "-")
        short = df[["width", "height"]].min(axis=1)
        cond = (
            df["duration"].between(c["duration"]["min"], c["duration"]["max"])
            & (short >= c["min_short_side"])
            & ((df["width"] / df["height"]) <= c["aspect_ratio"]["max"])
            & lang_ok
            & (df["view_count"] >= c["min_views"])
            & pd.Series([not (set(h) & deny) for h in hashtags], index=df.index)
        )
        for i in df.loc[cond.fillna(False), "id"]:
            if i not in seen:
                seen.add(i)
                kept += 1
    return read, kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--pandas", action="store_true", help="also time pandas (slow)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import polars as pl

    print(f"polars {pl.__version__}, threads {pl.thread_pool_size()}, cpus {os.cpu_count()}")
    runs = [("polars", polars_run)] + ([("pandas", pandas_run)] if args.pandas else [])
    for name, fn in runs:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            read, kept = fn(args.path)
            times.append(time.perf_counter() - t)
        best = min(times)
        print(
            f"{name}: read {read} kept {kept} best {best:.3f} s "
            f"median {sorted(times)[len(times) // 2]:.3f} s -> {read / best:,.0f} records/s"
        )


if __name__ == "__main__":
    main()
