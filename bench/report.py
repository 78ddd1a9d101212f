#!/usr/bin/env python3
"""The benchmark's Markdown report, from the numbers a run wrote.

The report is a list of named sections. ``report`` joins them under their titles
(what `make bench` prints); ``fill`` writes each one again between its markers in
docs/performance.md, ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``, and
leaves the prose around them as it is. `make bench-full` does that after writing
bench/results.json, and tests/unit/test_bench_report.py checks that the page holds
what the committed bench/results.json renders. Nothing here runs a measurement.

    python bench/report.py                      # the report of bench/results.json
    python bench/report.py bench/results-quick.json
    python bench/report.py --docs               # docs/performance.md again, from bench/results.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
PERFORMANCE = ROOT / "docs" / "performance.md"

Results = dict[str, Any]

# `make bench-full` of 2026-11-25 21:28 UTC, on the release before pages were stored
# with their manifest and files added by their event: what the targets were set
# against. Each run measures the old page and reindex paths too ("before, in the
# same run"); these are the numbers recorded then.
RECORDED_WHEN = "2026-11-25"
RECORDED_PAGE_MS: dict[str, dict[int, float]] = {
    "html": {1000: 13.87, 10_000: 120.63, 50_000: 472.26},
    "json": {1000: 15.17, 10_000: 139.12, 50_000: 592.24},
}
RECORDED_BYTES_PER_FILE = (389.0, 95.3)  # the 1,000-file HTML page, raw and gzipped
RECORDED_ADD_REQUESTS = {10: 11, 1000: 12, 10_000: 21}
RECORDED_REBUILD_SECONDS = {1000: 5.37, 10_000: 51.88}
RECORDED_COLD_START_MS = 52.1
RECORDED_UPLOAD_TO_INSTALLABLE_MS = 51.0

PAGE_TARGET_MS = 30
SMALL_PAGE_TARGET_MS = 20  # a page of 1,000 files
ADD_TARGET_REQUESTS = 5
WARM_DECISION_TARGET_MS = 5


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a and b else "n/a"


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    found = [row for row in rows if all(row.get(key) == value for key, value in match.items())]
    return found[-1] if found else None


def _page(pages: list[dict[str, Any]], files: int, links: str, fmt: str) -> dict[str, Any]:
    row = _row(pages, files=files, links=links, format=fmt)
    if row is None:
        raise KeyError(f"no page row for {files} files, {links} links, {fmt}")
    return row


def _table(columns: str, rows: Iterable[Iterable[object]]) -> list[str]:
    """A Markdown table. ``columns``: the column names, ``|`` between them; a name that
    ends in ``:`` is a column of numbers, aligned right."""
    names = [name.strip() for name in columns.split("|")]
    head = "| " + " | ".join(name.removesuffix(":") for name in names) + " |"
    rule = "|" + "|".join("---:" if name.endswith(":") else "---" for name in names) + "|"
    return [head, rule, *("| " + " | ".join(map(str, row)) + " |" for row in rows)]


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _saves(total: float, without: float) -> str:
    """``(the bytecode saves 11.0 ms, 17%)``"""
    return f"(the bytecode saves {without - total:.1f} ms, {(without - total) / without:.0%})"


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _sizes(sizes: list[int]) -> str:
    """``10, 1,000 or 10,000``."""
    words = [f"{size:,}" for size in sorted(sizes)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _recorded(values: list[float | None], unit: str) -> str:
    """``; recorded on <date>: 472.26 ms and 592.24 ms`` when every value was recorded."""
    if not values or any(value is None for value in values):
        return ""
    return f"; recorded on {RECORDED_WHEN}: " + " and ".join(f"{v}{unit}" for v in values)


# -- the sections ------------------------------------------------------------------


def summary(results: Results) -> list[str]:
    """The targets: this run's numbers, the same run's old paths, the recorded ones."""
    pages, adds, rebuilds = results["pages"], results["add_one"], results["rebuild"]
    cold, auth, publish = results["cold_start"], results["authorizer"], results["publish"]
    how = "`make bench-full`" if results.get("run") == "full" else "`make bench`, smaller sizes"
    largest = max(row["files"] for row in pages)
    stored = [row for row in pages if row["links"] == "redirect"]
    older = max((row for row in pages if row["links"] == "older module"), key=lambda r: r["files"])
    lines = [
        f"Measured on {results['when']} ({how}; {results['machine']}; redirect links unless said).",
        "",
        "| what | measured | target |",
        "| --- | --- | --- |",
        f"| S3 requests per project page, {min(r['files'] for r in stored):,} to {largest:,} files"
        f" | {max(row['s3_requests'] for row in stored)} at each size (the older module:"
        f" {older['s3_requests']} at {older['files']:,} files) | at most 1 |",
        _page_time(pages, largest, f"at most {PAGE_TARGET_MS} ms, at any size"),
    ]
    content = results["page_content"]
    small = content["files"]
    if small != largest:
        lines.append(_page_time(pages, small, f"at most {SMALL_PAGE_TARGET_MS} ms"))
    html = _page(pages, small, "redirect", "html")
    older_small = _page(pages, small, "older module", "html")
    lines.append(
        f"| page of {small:,} files, bytes per file | {html['raw_per_file']} raw (HTML),"
        f" {html['gzip_per_file']} gzipped; recorded on {RECORDED_WHEN}:"
        f" {RECORDED_BYTES_PER_FILE[0]} and {RECORDED_BYTES_PER_FILE[1]} (the older module:"
        f" {older_small['raw_per_file']} raw) | 200 raw, 60 gzipped: below what every line"
        " must carry, see below |"
    )
    now = [_page(pages, largest, "redirect", fmt) for fmt in ("html", "json")]
    rendered = [_page(pages, largest, "redirect, rendered", fmt) for fmt in ("html", "json")]
    same = all(a["gzip_bytes"] == b["gzip_bytes"] for a, b in zip(now, rendered, strict=True))
    lines.append(
        f"| page of {largest:,} files, bytes | {_mb(now[0]['gzip_bytes'])} gzipped (HTML),"
        f" {_mb(now[1]['gzip_bytes'])} (JSON), "
        + ("the same as rendered per request" if same else "NOT the same as rendered per request")
        + " | under 6 MB |"
    )
    events = [row for row in adds if row["path"] == "event"]
    most = max(row["files"] for row in events)
    event, listing = _row(adds, files=most, path="event"), _row(adds, files=most, path="listing")
    assert event and listing, "an add_one row without its listing"
    counts = sorted({row["s3_requests"] for row in events})
    requests = f"{counts[0]} to {counts[-1]} S3 requests"
    if len(counts) == 1:
        requests = f"{counts[0]} S3 requests at every size"
    lines.append(
        f"| adding one file to a project of {_sizes([row['files'] for row in events])} files"
        f" | {requests}, no listing; {event['ms']} ms on moto at {most:,} (a listing, as"
        f" before, in the same run: {listing['s3_requests']} requests,"
        f" {listing['ms'] / 1000:.1f} s"
        f"{_recorded([RECORDED_ADD_REQUESTS.get(most)], ' requests')}) | at most"
        f" {ADD_TARGET_REQUESTS}, at any size |"
    )
    by_event, by_listing = publish["event"], publish["listing"]
    lines.append(
        f"| from an upload's 200 to the file on the page, {publish['runs']} uploads"
        f" | p50 {by_event['p50_ms']} ms, p99 {by_event['p99_ms']} ms on moto (with a listing"
        f" per event, as before: {by_listing['p50_ms']} ms and {by_listing['p99_ms']} ms;"
        f" recorded on {RECORDED_WHEN}: {RECORDED_UPLOAD_TO_INSTALLABLE_MS} ms, the median);"
        " on AWS about 1.5 to 2 s, see below | (documented) |"
    )
    big = max(rebuilds, key=lambda row: row["projects"])
    recorded = RECORDED_REBUILD_SECONDS.get(big["projects"])
    goal = "n/a"
    if recorded:
        reached = "reached" if big["seconds"] <= recorded / 2 else "not reached, see below"
        goal = f"half of {recorded} s: {reached}"
    lines.append(
        f"| full rebuild of {big['projects']:,} one-file projects | {big['seconds']} s"
        f" ({big['s3_requests'] / big['projects']:.0f} S3 requests a project)"
        f"{_recorded([recorded], ' s')} | {goal} |"
    )
    lines.append(
        f"| api cold start (import + first page), from the package as Lambda runs it"
        f" | {cold['api_cold_total_ms']} ms; the same package without its bytecode, as"
        f" Lambda ran it before: {cold['api_cold_total_without_bytecode_ms']} ms (recorded on"
        f" {RECORDED_WHEN} from `src/` with bytecode cached: {RECORDED_COLD_START_MS} ms)"
        " | no regression |"
    )
    budget = cold["api_cold_total_ms"] + auth["one_users_file_get_ms"]
    lines.append(
        f"| authorizer: cold start + first decision | {auth['cold_total_ms']} ms (without the"
        f" bytecode: {auth['cold_total_without_bytecode_ms']} ms), against {budget:.1f} ms for"
        " the api's cold start plus one GET of the users file | no worse than that |"
    )
    lines.append(
        f"| authorizer: warm decision | {auth['warm_miss_ms']} ms reading the users file again"
        " (a 304),"
        f" {auth['warm_hit_ms']} ms from the function's cache (a password's scrypt:"
        f" {auth['password_miss_ms']} ms once) | at most {WARM_DECISION_TARGET_MS} ms |"
    )
    return lines


def _page_time(pages: list[dict[str, Any]], files: int, target: str) -> str:
    """The summary's row for the handler time of a page of ``files`` files."""
    now = [_page(pages, files, "redirect", fmt)["handler_ms"] for fmt in ("html", "json")]
    rendered = [
        _page(pages, files, "redirect, rendered", fmt)["handler_ms"] for fmt in ("html", "json")
    ]
    before = (
        f"rendered per request as before, in the same run: {rendered[0]} ms and {rendered[1]} ms"
    )
    before += _recorded([RECORDED_PAGE_MS[fmt].get(files) for fmt in ("html", "json")], " ms")
    older = _row(pages, files=files, links="older module", format="html")
    if older and older["fits_lambda"]:
        before += (
            f"; the older module: {older['handler_ms']} ms,"
            f" {ratio(older['handler_ms'], now[0])} the stored page's"
        )
    return (
        f"| page of {files:,} files, handler time | {now[0]} ms HTML, {now[1]} ms JSON"
        f" ({before}) | {target} |"
    )


def pages_section(results: Results) -> list[str]:
    pages = results["pages"]
    lines = [
        "Median handler time; S3 requests per page; bytes raw and gzipped. `redirect`: the"
        " page stored with the manifest, passed through (now); `redirect, rendered`: the same"
        " page rendered per request from the manifest alone (before, and now for a manifest"
        " an older release wrote); `presigned`: rendered per request; `older module`: the"
        " older serverless PyPI module's page.",
        "",
        *_table(
            "files: | links | format | handler ms: | no-gzip client ms: | S3 requests:"
            " | S3 bytes: | raw bytes: | raw/file: | gzip bytes: | gzip/file: | fits 6 MB",
            map(_page_cells, pages),
        ),
        "",
        "Ratios measured in this run:",
        "",
    ]
    for size in sorted({row["files"] for row in pages}):
        by = {(r["links"], r["format"]): r for r in pages if r["files"] == size}
        stored, presigned = by.get(("redirect", "html")), by.get(("presigned", "html"))
        if stored is None or presigned is None:
            continue
        parts = []
        rendered = by.get(("redirect, rendered", "html"))
        if rendered:
            parts.append(
                f"rendered/stored time {ratio(rendered['handler_ms'], stored['handler_ms'])}"
            )
        parts.append(
            f"presigned/stored time {ratio(presigned['handler_ms'], stored['handler_ms'])}"
        )
        if presigned["fits_lambda"]:
            parts.append(
                f"presigned/stored raw bytes {ratio(presigned['raw_bytes'], stored['raw_bytes'])}"
                f", gzip bytes {ratio(presigned['gzip_bytes'], stored['gzip_bytes'])}"
            )
        else:
            parts.append("the presigned page does not fit a Lambda response")
        legacy = by.get(("older module", "html"))
        if legacy:
            parts.append(
                f"older module/stored time {ratio(legacy['handler_ms'], stored['handler_ms'])}"
                f", raw bytes {ratio(legacy['raw_bytes'], stored['raw_bytes'])}"
            )
        lines.append(f"- {size:,} files: " + "; ".join(parts))
    return lines


def _page_cells(row: dict[str, Any]) -> list[object]:
    plain = row.get("plain_handler_ms")
    if plain is not None and row.get("plain_status") != 200:
        plain = f"{plain} ({row['plain_status']})"
    return [
        f"{row['files']:,}",
        row["links"],
        row["format"],
        row["handler_ms"],
        "" if plain is None else plain,
        row["s3_requests"],
        f"{row['s3_bytes']:,}",
        _count(row["raw_bytes"]),
        row["raw_per_file"] or "n/a",
        _count(row["gzip_bytes"]),
        row["gzip_per_file"] or "n/a",
        "yes" if row["fits_lambda"] else "NO (not served)",
    ]


def page_content_section(results: Results) -> list[str]:
    content = results["page_content"]
    older = _page(results["pages"], content["files"], "older module", "html")
    return [
        f"Bytes per file of the {content['files']:,}-file page, against what every line"
        " must carry:",
        "",
        f"- required content alone (filename twice, two SHA-256 digests in hex,"
        f" Requires-Python; no markup): {content['required_raw_per_file']} raw",
        f"- the two digests alone, gzipped at level 9: {content['digests_gzip_per_file']}",
        f"- the rest of a line (filenames, attribute names, tags), gzipped: about"
        f" {content['page_html_gzip_per_file'] - content['digests_gzip_per_file']:.0f}",
        f"- the page: HTML {content['page_html_raw_per_file']} raw,"
        f" {content['page_html_gzip_per_file']} gzipped;"
        f" JSON {content['page_json_raw_per_file']} raw,"
        f" {content['page_json_gzip_per_file']} gzipped",
        f"- the page with metadata announced without its digest: HTML"
        f" {content['hashless_metadata_html_raw_per_file']} raw,"
        f" {content['hashless_metadata_html_gzip_per_file']} gzipped;"
        f" JSON {content['hashless_metadata_json_raw_per_file']} raw,"
        f" {content['hashless_metadata_json_gzip_per_file']} gzipped",
        f"- the older module's page (no hash at all): {older['raw_per_file']} raw,"
        f" {older['gzip_per_file']} gzipped",
    ]


def add_one_section(results: Results) -> list[str]:
    rows = [
        [
            f"{row['files']:,}",
            row["path"],
            row["ms"],
            row["s3_requests"],
            f"{row['s3_bytes_read']:,}",
            f"{row['new_file_bytes']:,}",
            row["files_inspected"],
        ]
        for row in results["add_one"]
    ]
    return [
        "`event`: the reindexer adds the file its event names (now); `listing`: it lists the"
        " project and checks the root index, as it did for every event before.",
        "",
        *_table(
            "files in project: | path | ms: | S3 requests: | bytes read from S3:"
            " | new file bytes: | files read:",
            rows,
        ),
    ]


def publish_section(results: Results) -> list[str]:
    publish = results["publish"]
    now, before = publish["event"], publish["listing"]
    return [
        f"From the upload route's 200 to the project page listing the file (S3 notification,"
        f" SNS, the reindexer, the page), {publish['runs']} uploads each way, on moto:",
        "",
        f"- the reindexer adding the file its event names: p50 {now['p50_ms']} ms,"
        f" p99 {now['p99_ms']} ms, max {now['max_ms']} ms",
        f"- the reindexer listing the project for each event (as before): p50"
        f" {before['p50_ms']} ms, p99 {before['p99_ms']} ms, max {before['max_ms']} ms",
    ]


def rebuild_section(results: Results) -> list[str]:
    rows = [
        [f"{row['projects']:,}", row["seconds"], f"{row['s3_requests']:,}", row["per_project_ms"]]
        for row in results["rebuild"]
    ]
    return _table("one-wheel projects: | seconds: | S3 requests: | ms per project:", rows)


def cold_start_section(results: Results) -> list[str]:
    cold = results["cold_start"]
    return [
        f"Medians of {cold['runs']} fresh interpreters, from the package as Lambda runs it:"
        " extracted, no bytecode written.",
        "",
        f"- api: import {cold['api_import_ms']} ms + first request"
        f" {cold['api_first_request_ms']} ms = {cold['api_cold_total_ms']} ms"
        f" (loads boto3: {cold['api_loads_boto3']}); without the packaged bytecode:"
        f" {cold['api_cold_total_without_bytecode_ms']} ms"
        f" {_saves(cold['api_cold_total_ms'], cold['api_cold_total_without_bytecode_ms'])}",
        f"- `import boto3` alone: {cold['boto3_import_ms']} ms; creating an S3 client after it:"
        f" {cold['boto3_s3_client_ms']} ms",
        f"- api cold start minus `import boto3`: {cold['api_over_boto3_import_ms']} ms"
        f" (ratio {ratio(cold['api_cold_total_ms'], cold['boto3_import_ms'])})",
    ]


def authorizer_section(results: Results) -> list[str]:
    auth, cold = results["authorizer"], results["cold_start"]
    budget = cold["api_cold_total_ms"] + auth["one_users_file_get_ms"]
    return [
        f"Cold: medians of {auth['runs']} fresh interpreters; warm: in one process, on moto's SSM.",
        "",
        f"- cold: import {auth['cold_import_ms']} ms + first decision "
        f"{auth['cold_first_decision_ms']} ms = {auth['cold_total_ms']} ms"
        f" (loads boto3: {auth['loads_boto3']}); the api's cold start plus one GET of the"
        " users file:"
        f" {budget:.1f} ms; without the packaged bytecode, as before:"
        f" {auth.get('cold_total_without_bytecode_ms', 'n/a')} ms",
        f"- one GET of the users file on moto: {auth['one_users_file_get_ms']} ms; the users"
        f" of a file of 1,000 made from its bytes: {auth['read_1000_users_ms']} ms",
        f"- warm decision, token: {auth['warm_miss_ms']} ms with the users read again (a 304),"
        f" {auth['warm_hit_ms']} ms from the function's cache",
        f"- warm decision, password (scrypt): {auth['password_miss_ms']} ms unremembered,"
        f" {auth['password_hit_ms']} ms remembered",
    ]


def flood_section(results: Results) -> list[str]:
    flood = results["flood"]
    allowed = round(flood["valid"] * flood["valid_allowed_pct"] / 100)
    caches = ", ".join(f"{name} {size}" for name, size in flood["largest_caches"].items())
    cold, started = flood["cold_starts"], flood["cold_authorizers"]
    return [
        "| what | measured |",
        "| --- | --- |",
        f"| {flood['rate']:,} random names a second for {flood['seconds']:g} s"
        f" ({flood['sent']:,} requests in {flood['elapsed_s']} s), {flood['containers']}"
        f" containers in all | {flood['object_gets']} S3 GETs of the users file,"
        f" {flood['ssm_calls']} SSM calls ({flood['ssm_throttled']} throttled);"
        f" {flood['scrypts']:,} scrypts (each a SHA-256 standing in for it); memory"
        f" +{flood['rss_growth_mb']} MB; real users let in {allowed:,} of {flood['valid']:,};"
        f" attackers {flood['flood_allowed']}; largest caches of a container: {caches} |",
        f"| one decision under the flood, p50 / p99 | {flood['flood_p50_ms']} /"
        f" {flood['flood_p99_ms']} ms (real users: {flood['valid_p50_ms']} /"
        f" {flood['valid_p99_ms']} ms) |",
        "",
        *_table(
            "one decision | median ms:",
            ([label, ms] for label, ms in flood["wrong_secret_ms"].items()),
        ),
        "",
        *_table(
            f"{started} cold authorizers at once, users read from | let in: | failed"
            " (500): | SSM calls: | throttled: | S3 GETs: | seconds:",
            (
                [
                    label,
                    f"{start['allowed']} of {started}",
                    start["failed"],
                    start["ssm_calls"],
                    start["ssm_throttled"],
                    start["object_gets"],
                    start["seconds"],
                ]
                for label, start in cold.items()
            ),
        ),
    ]


def status_section(results: Results) -> list[str]:
    rows = [
        [
            f"{row['projects']:,} projects",
            f"{row['s3_requests']:,}",
            row["requests_per_project"],
            row["seconds"],
        ]
        for row in results["status"]
    ]
    return _table(
        "`serverless-pypi status` of | S3 requests: | a project: | seconds on moto:", rows
    )


def inspection_section(results: Results) -> list[str]:
    inspection = results["inspection"]
    honest = [
        [
            row["file"],
            f"{row['bytes']:,}",
            row["before_ms"],
            row["after_ms"],
            f"{row['after_ms'] / row['before_ms'] if row['before_ms'] else 0.0:.2f}",
        ]
        for row in inspection["honest"]
    ]
    hostile = [
        [label, row["seconds"], row["outcome"]] for label, row in inspection["hostile"].items()
    ]
    return [
        "Median ms to read one file's metadata; before: `zipfile` and `tarfile` (stream"
        " mode), as the reindexer used to; after: the bounded readers, within the budget.",
        "",
        *_table("file | bytes: | before ms: | after ms: | after/before:", honest),
        "",
        *_table("hostile sdist | seconds: | outcome", hostile),
    ]


def proxied_section(results: Results) -> list[str]:
    rows = results.get("proxied", [])
    if not rows:
        return ["Not measured in this run."]
    # `bench/proxied.py` run alone and added to a full run's results says when.
    when = results.get("proxied_when")
    alone = f"Measured on {when} (`bench/alone.py proxied`, full sizes). " if when else ""
    return [
        f"{alone}The proxy mode's page of a name the bucket never held (from the upstream page kept"
        " in the bucket, within `upstream_page_ttl`, filtered and rendered per request)"
        " against a private page of the same number of files (stored with its manifest),"
        " in the same bucket. Median handler ms; S3 requests of one warm request (the"
        " proxied page: the GET of the manifest, which tells a private name first, then the"
        " GET of the kept page; the folders are listed when the page is fetched or"
        " revalidated, and the policy's GET is once per 30 s); upstream requests of that"
        " request.",
        "",
        *_table(
            "files: | format | private ms: | proxied ms: | proxied/private:"
            " | private S3 requests: | proxied S3 requests: | upstream requests:"
            " | private raw bytes: | proxied raw bytes:",
            (
                [
                    f"{row['files']:,}",
                    row["format"],
                    row["private_ms"],
                    row["proxied_ms"],
                    ratio(row["proxied_ms"], row["private_ms"]),
                    row["private_s3_requests"],
                    row["proxied_s3_requests"],
                    row["upstream_requests"],
                    f"{row['private_raw_bytes']:,}",
                    f"{row['proxied_raw_bytes']:,}",
                ]
                for row in rows
            ),
        ),
    ]


def ui_pages_section(results: Results) -> list[str]:
    rows = results.get("ui_pages", [])
    if not rows:
        return ["Not measured in this run."]
    when = results.get("ui_pages_when")
    alone = f"Measured on {when} (`bench/alone.py ui_pages`, full sizes). " if when else ""
    return [
        f"{alone}The pages for people (`bench/uipages.py`) as their handler answers a"
        " browser (gzip taken; the login is the authorizer's cost): a project's page, with"
        " its details and a README-sized description, and the list of every project. Median"
        " handler ms; S3 requests of one request; bytes of the page.",
        "",
        *_table(
            "page | size | handler ms: | S3 requests: | raw bytes: | gzip bytes: | fits 6 MB",
            (
                [
                    "a project" if row["page"] == "project" else "every project",
                    f"{row['files']:,} files"
                    if row["page"] == "project"
                    else f"{row['projects']:,} projects",
                    row["handler_ms"],
                    row["s3_requests"],
                    f"{row['raw_bytes']:,}",
                    f"{row['gzip_bytes']:,}",
                    "yes" if row["fits_lambda"] else "no",
                ]
                for row in rows
            ),
        ),
    ]


# name: (the report's title for it, what renders it)
SECTIONS: dict[str, tuple[str, Callable[[Results], list[str]]]] = {
    "summary": ("Targets", summary),
    "pages": ("Project page", pages_section),
    "page-content": ("Bytes per file", page_content_section),
    "proxied": ("The proxy mode's page", proxied_section),
    "ui-pages": ("The pages for people", ui_pages_section),
    "add-one": ("Reindex after adding one file", add_one_section),
    "publish": ("Upload to installable", publish_section),
    "rebuild": ("Full rebuild", rebuild_section),
    "cold-start": ("Cold start", cold_start_section),
    "authorizer": ("Authorizer", authorizer_section),
    "flood": ("Authorizer under a flood (a stub SSM at 40 calls a second)", flood_section),
    "status": ("`serverless-pypi status`", status_section),
    "inspection": ("Inspection of one file", inspection_section),
}


def section(name: str, results: Results) -> str:
    """One section's Markdown, without its title."""
    return "\n".join(SECTIONS[name][1](results))


def report(results: Results) -> str:
    run = " (quick run: smaller sizes)" if results.get("run") == "quick" else ""
    lines = [f"# serverless-pypi benchmark{run} ({results['when']}, {results['machine']})"]
    for name, (title, _) in SECTIONS.items():
        lines += ["", f"## {title}", "", section(name, results)]
    return "\n".join(lines) + "\n"


# -- docs/performance.md -------------------------------------------------------------

MARKED = re.compile(r"<!-- bench:([a-z-]+) -->\n.*?<!-- /bench:\1 -->", re.DOTALL)


def marked(page: str) -> list[str]:
    """The names of the sections that ``page`` marks, in order."""
    return [match.group(1) for match in MARKED.finditer(page)]


def fill(page: str, results: Results) -> str:
    """``page`` with every section between its markers rendered again from ``results``.
    Each section must be marked exactly once: a page without some of the numbers, or
    with a name the report does not know, is refused."""
    names = marked(page)
    if sorted(names) != sorted(SECTIONS):
        raise ValueError(
            f"the page marks {names}; every section once is {list(SECTIONS)}"
            " (<!-- bench:NAME --> ... <!-- /bench:NAME -->)"
        )

    def render(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"<!-- bench:{name} -->\n\n{section(name, results)}\n\n<!-- /bench:{name} -->"

    return MARKED.sub(render, page)


def write_docs(results: Results, page: Path = PERFORMANCE) -> None:
    """Write the numbers of ``page`` again; only a full run's (the page quotes every size)."""
    if results.get("run") != "full":
        raise ValueError(f"{page.name} quotes a full run (`make bench-full`), not a quick one")
    page.write_text(fill(page.read_text(), results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS, help="a results file")
    parser.add_argument(
        "--docs",
        action="store_true",
        help=f"rewrite the numbers of {PERFORMANCE.relative_to(ROOT)} instead of printing",
    )
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    if args.docs:
        write_docs(results)
    else:
        print(report(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
