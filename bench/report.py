"""The benchmark's Markdown report, from the numbers in bench/results.json."""

from __future__ import annotations

from typing import Any

from status import status_lines

from flood import flood_report

# `make bench-full` of 2026-11-25 21:28 UTC, the release before issue 21, as the
# issue quotes it: what the targets are measured against when this run has no
# "before" of its own (the same run measures the old page and reindex paths too).
RECORDED_WHEN = "2026-11-25"
RECORDED_PAGE_MS: dict[str, dict[int, float]] = {
    "html": {1000: 13.87, 10_000: 120.63, 50_000: 472.26},
    "json": {1000: 15.17, 10_000: 139.12, 50_000: 592.24},
}
RECORDED_ADD_REQUESTS = {10: 11, 1000: 12, 10_000: 21}
RECORDED_REBUILD_SECONDS = {1000: 5.37, 10_000: 51.88}
RECORDED_COLD_START_MS = 52.1
RECORDED_UPLOAD_TO_INSTALLABLE_MS = 51.0
PAGE_TARGET_MS = 30
ADD_TARGET_REQUESTS = 5


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a and b else "n/a"


def report(results: dict[str, Any]) -> str:
    run = " (quick run: smaller sizes)" if results.get("run") == "quick" else ""
    lines = [
        f"# serverless-pypi benchmark{run} ({results['when']}, {results['machine']})",
        "",
        *_targets(results),
        *_pages(results["pages"]),
        *_page_content(results.get("page_content")),
        *_add_one(results["add_one"]),
        *_rebuild(results["rebuild"]),
        *_cold_start(results["cold_start"]),
    ]
    if "authorizer" in results:
        lines += _authorizer(results["authorizer"], results["cold_start"])
    if "inspection" in results:
        lines += _inspection(results["inspection"])
    if "publish" in results:
        lines += _publish(results["publish"])
    if "flood" in results:
        lines += flood_report(results["flood"])
    if "status" in results:
        lines += [
            "## `serverless-pypi status`",
            "",
            "| what | measured | bound |",
            "|---|---|---|",
            *status_lines(results["status"]),
            "",
        ]
    return "\n".join(lines)


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    found = [row for row in rows if all(row.get(key) == value for key, value in match.items())]
    return found[-1] if found else None


def _targets(results: dict[str, Any]) -> list[str]:
    """Issue 21's targets: this run's numbers, the same run's old paths, the recorded ones."""
    pages, adds, rebuilds = results["pages"], results["add_one"], results["rebuild"]
    largest = max(row["files"] for row in pages)
    lines = [
        "## Issue 21's targets",
        "",
        f"| target | now | before, in this run | recorded {RECORDED_WHEN} | goal |",
        "|---|---|---|---|---|",
    ]
    for fmt in ("html", "json"):
        now = _row(pages, files=largest, links="redirect", format=fmt)
        before = _row(pages, files=largest, links="redirect, rendered", format=fmt)
        recorded = RECORDED_PAGE_MS[fmt].get(largest)
        if now and before:
            lines.append(
                f"| page of {largest:,} files, {fmt.upper()}, handler | {now['handler_ms']} ms"
                f" | {before['handler_ms']} ms (rendered per request) | "
                f"{f'{recorded} ms' if recorded else 'n/a'} | at most {PAGE_TARGET_MS} ms |"
            )
    most = max(row["files"] for row in adds)
    event = _row(adds, files=most, path="event")
    listing = _row(adds, files=most, path="listing")
    worst = max(row["s3_requests"] for row in adds if row["path"] == "event")
    if event and listing:
        lines.append(
            f"| S3 requests to add one file, {most:,}-file project | {event['s3_requests']}"
            f" ({worst} at most, any size measured) | {listing['s3_requests']} (a listing) | "
            f"{RECORDED_ADD_REQUESTS.get(most, 'n/a')} | at most {ADD_TARGET_REQUESTS} |"
        )
    publish = results.get("publish")
    if publish and "event" in publish:
        now, before = publish["event"], publish["listing"]
        lines.append(
            f"| upload to installable on moto, p50 / p99 | {now['p50_ms']} / {now['p99_ms']} ms"
            f" | {before['p50_ms']} / {before['p99_ms']} ms | "
            f"{RECORDED_UPLOAD_TO_INSTALLABLE_MS} ms (median) | measured |"
        )
    big = max(rebuilds, key=lambda row: row["projects"])
    recorded = RECORDED_REBUILD_SECONDS.get(big["projects"])
    lines.append(
        f"| full rebuild of {big['projects']:,} one-file projects | {big['seconds']} s"
        f" | n/a | {f'{recorded} s' if recorded else 'n/a'} | half the recorded time |"
    )
    cold = results["cold_start"]
    lines.append(
        f"| api cold start (import + first page) | {cold['api_cold_total_ms']} ms |"
        f" {cold.get('api_cold_total_without_bytecode_ms', 'n/a')} ms (the package without"
        f" bytecode, as Lambda ran it) | {RECORDED_COLD_START_MS} ms (from src/, bytecode"
        " cached) | no regression |"
    )
    content = results.get("page_content")
    if content:
        lines.append(
            f"| bytes per file, {content['files']:,}-file page (HTML raw / gzipped) |"
            f" {content['page_html_raw_per_file']} / {content['page_html_gzip_per_file']}"
            " | the same (one rendering) | 389.0 / 95.3 | no regression |"
        )
    return [*lines, ""]


def _publish(publish: dict[str, Any]) -> list[str]:
    if "event" not in publish:  # a results file from before issue 21
        return [f"## Upload to installable: {publish['upload_to_installable_ms']} ms", ""]
    now, before = publish["event"], publish["listing"]
    return [
        f"## Upload to installable ({publish['runs']} uploads each way, on moto)",
        "",
        "From the upload route's 200 to the project page listing the file (S3 notification,"
        " SNS, the reindexer, the page):",
        "",
        f"- the reindexer adding the file its event names: p50 {now['p50_ms']} ms,"
        f" p99 {now['p99_ms']} ms, max {now['max_ms']} ms",
        f"- the reindexer listing the project for each event (as before): p50"
        f" {before['p50_ms']} ms, p99 {before['p99_ms']} ms, max {before['max_ms']} ms",
        "",
    ]


def _pages(pages: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Project page (median handler time; S3 requests per page; bytes raw and gzipped)",
        "",
        "`redirect`: the page stored with the manifest, passed through (now); `redirect,"
        " rendered`: the same page rendered per request from the manifest alone (before,"
        " and now for a manifest an older release wrote); `presigned`: rendered per request.",
        "",
        "| files | links | format | handler ms | no-gzip client ms | S3 requests | S3 bytes"
        " | raw bytes | raw/file | gzip bytes | gzip/file | fits 6 MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in pages:
        plain = row.get("plain_handler_ms")
        if plain is not None and row.get("plain_status") != 200:
            plain = f"{plain} ({row['plain_status']})"
        lines.append(
            f"| {row['files']:,} | {row['links']} | {row['format']} | {row['handler_ms']} "
            f"| {plain if plain is not None else ''} "
            f"| {row['s3_requests']} | {row['s3_bytes']:,} "
            f"| {row['raw_bytes'] or 'n/a'} | {row['raw_per_file'] or 'n/a'} "
            f"| {row['gzip_bytes'] or 'n/a'} | {row['gzip_per_file'] or 'n/a'} "
            f"| {'yes' if row['fits_lambda'] else 'NO (not served)'} |"
        )
    lines += ["", "Ratios measured in this run:", ""]
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
            parts.append(f"gzip bytes {ratio(presigned['gzip_bytes'], stored['gzip_bytes'])}")
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


def _page_content(content: dict[str, Any] | None) -> list[str]:
    if not content:
        return []
    return [
        "",
        f"Bytes per file of the {content['files']:,}-file page, against what every line"
        " must carry:",
        "",
        f"- required content alone (filename twice, two SHA-256 digests in hex,"
        f" Requires-Python; no markup): {content['required_raw_per_file']} raw",
        f"- the two digests alone, gzipped at level 9: {content['digests_gzip_per_file']}",
        f"- the page: HTML {content['page_html_raw_per_file']} raw,"
        f" {content['page_html_gzip_per_file']} gzipped;"
        f" JSON {content['page_json_raw_per_file']} raw,"
        f" {content['page_json_gzip_per_file']} gzipped",
        f"- the page with metadata announced without its digest: HTML"
        f" {content['hashless_metadata_html_raw_per_file']} raw,"
        f" {content['hashless_metadata_html_gzip_per_file']} gzipped;"
        f" JSON {content['hashless_metadata_json_raw_per_file']} raw,"
        f" {content['hashless_metadata_json_gzip_per_file']} gzipped",
    ]


def _add_one(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Reindex after adding one file",
        "",
        "`event`: the reindexer adds the file its event names (now); `listing`: it lists the"
        " project and checks the root index, as it did for every event before.",
        "",
        "| files in project | path | ms | S3 requests | bytes read from S3 | new file bytes"
        " | files read |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['files']:,} | {row.get('path', 'listing')} | {row['ms']} "
            f"| {row['s3_requests']} | {row['s3_bytes_read']:,} "
            f"| {row['new_file_bytes']:,} | {row['files_inspected']} |"
        )
    return lines


def _rebuild(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Full rebuild (one wheel per project)",
        "",
        "| projects | seconds | S3 requests | ms per project |",
        "|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['projects']:,} | {row['seconds']} | {row['s3_requests']:,} "
            f"| {row['per_project_ms']} |"
        )
    return lines


def _cold_start(cold: dict[str, Any]) -> list[str]:
    return [
        "",
        f"## Cold start (median of {cold['runs']} fresh interpreters)",
        "",
        "From the package as Lambda runs it: extracted, no bytecode written.",
        "",
        f"- api: import {cold['api_import_ms']} ms + first request "
        f"{cold['api_first_request_ms']} ms = {cold['api_cold_total_ms']} ms"
        f" (loads boto3: {cold['api_loads_boto3']}); without the packaged bytecode, as before:"
        f" {cold.get('api_cold_total_without_bytecode_ms', 'n/a')} ms",
        f"- `import boto3` alone: {cold['boto3_import_ms']} ms; creating an S3 client after it:"
        f" {cold['boto3_s3_client_ms']} ms",
        f"- api cold start minus `import boto3`: {cold['api_over_boto3_import_ms']} ms"
        f" (ratio {ratio(cold['api_cold_total_ms'], cold['boto3_import_ms'])})",
        "",
    ]


def _authorizer(auth: dict[str, Any], cold: dict[str, Any]) -> list[str]:
    budget = cold["api_cold_total_ms"] + auth["one_users_file_get_ms"]
    return [
        f"## Authorizer (median of {auth['runs']} fresh interpreters; warm: in one process)",
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
        f"- warm decision, password (scrypt): {auth['password_miss_ms']} ms uncached,"
        f" {auth['password_hit_ms']} ms cached",
        "",
    ]


def _inspection(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Inspection of one file (median ms; before: tarfile/zipfile, after: the budget)",
        "",
        "| file | bytes | before ms | after ms | after/before |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in results["honest"]:
        share = row["after_ms"] / row["before_ms"] if row["before_ms"] else 0.0
        lines.append(
            f"| {row['file']} | {row['bytes']:,} | {row['before_ms']} | {row['after_ms']} "
            f"| {share:.2f} |"
        )
    lines += ["", "| hostile sdist | seconds | outcome |", "|---|---:|---|"]
    for label, row in results["hostile"].items():
        lines.append(f"| {label} | {row['seconds']} | {row['outcome']} |")
    return [*lines, ""]
