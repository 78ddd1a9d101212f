"""The benchmark's Markdown report, from the numbers in bench/results.json."""

from __future__ import annotations

from typing import Any


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a and b else "n/a"


def report(results: dict[str, Any]) -> str:
    run = " (quick run: smaller sizes)" if results.get("run") == "quick" else ""
    lines = [
        f"# serverless-pypi benchmark{run} ({results['when']}, {results['machine']})",
        "",
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
        publish = results["publish"]
        lines += [
            f"## Upload to installable (median of {publish['runs']}, on moto)",
            "",
            f"- from the upload route's 200 to the project page listing the file: "
            f"{publish['upload_to_installable_ms']} ms (S3 notification, SNS, the reindexer)",
            "",
        ]
    return "\n".join(lines)


def _pages(pages: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Project page (median handler time; S3 requests per page; bytes raw and gzipped)",
        "",
        "| files | links | format | handler ms | S3 requests | S3 bytes | raw bytes | raw/file"
        " | gzip bytes | gzip/file | fits 6 MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in pages:
        lines.append(
            f"| {row['files']:,} | {row['links']} | {row['format']} | {row['handler_ms']} "
            f"| {row['s3_requests']} | {row['s3_bytes']:,} "
            f"| {row['raw_bytes'] or 'n/a'} | {row['raw_per_file'] or 'n/a'} "
            f"| {row['gzip_bytes'] or 'n/a'} | {row['gzip_per_file'] or 'n/a'} "
            f"| {'yes' if row['fits_lambda'] else 'NO (not served)'} |"
        )
    lines += ["", "Ratios measured in this run:", ""]
    for size in sorted({row["files"] for row in pages}):
        by = {(r["links"], r["format"]): r for r in pages if r["files"] == size}
        redirect, presigned = by[("redirect", "html")], by[("presigned", "html")]
        legacy = by.get(("older module", "html"))
        parts = [
            f"presigned/redirect time {ratio(presigned['handler_ms'], redirect['handler_ms'])}"
        ]
        if presigned["fits_lambda"]:
            parts.append(f"gzip bytes {ratio(presigned['gzip_bytes'], redirect['gzip_bytes'])}")
        else:
            parts.append("the presigned page does not fit a Lambda response")
        if legacy:
            parts.append(
                f"older module/redirect time {ratio(legacy['handler_ms'], redirect['handler_ms'])}"
                f", raw bytes {ratio(legacy['raw_bytes'], redirect['raw_bytes'])}"
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
        "| files in project | ms | S3 requests | bytes read from S3 | new file bytes"
        " | files read |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['files']:,} | {row['ms']} | {row['s3_requests']} | {row['s3_bytes_read']:,} "
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
        f"- api: import {cold['api_import_ms']} ms + first request "
        f"{cold['api_first_request_ms']} ms = {cold['api_cold_total_ms']} ms"
        f" (loads boto3: {cold['api_loads_boto3']})",
        f"- `import boto3` alone: {cold['boto3_import_ms']} ms; creating an S3 client after it:"
        f" {cold['boto3_s3_client_ms']} ms",
        f"- api cold start minus `import boto3`: {cold['api_over_boto3_import_ms']} ms"
        f" (ratio {ratio(cold['api_cold_total_ms'], cold['boto3_import_ms'])})",
        "",
    ]


def _authorizer(auth: dict[str, Any], cold: dict[str, Any]) -> list[str]:
    budget = cold["api_cold_total_ms"] + auth["one_ssm_request_ms"]
    return [
        f"## Authorizer (median of {auth['runs']} fresh interpreters; warm: in one process)",
        "",
        f"- cold: import {auth['cold_import_ms']} ms + first decision "
        f"{auth['cold_first_decision_ms']} ms = {auth['cold_total_ms']} ms"
        f" (loads boto3: {auth['loads_boto3']}); the api's cold start plus one SSM request:"
        f" {budget:.1f} ms",
        f"- one SSM GetParameter on moto: {auth['one_ssm_request_ms']} ms",
        f"- warm decision, token: {auth['warm_miss_ms']} ms with the user read from SSM,"
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
