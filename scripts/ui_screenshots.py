"""Screenshots of the pages for people, light and dark, for the README:
``docs/images/ui-{projects,project}-{light,dark}.png``.

Runs ``serverless-pypi serve --auth`` on a few demonstration wheels, logs in as
its local user and takes each page in headless Chromium (``tests/browser.py``).
``make screenshots`` runs it."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import chromium  # noqa: E402
from tests.builders import wheel_bytes, write  # noqa: E402
from tests.clients import serve  # noqa: E402

DESCRIPTION = """# acme-auth

**Authentication helpers** for ACME services: tokens, sessions and
[requests](https://requests.readthedocs.io/) adapters.

```python
from acme_auth import Session

session = Session.from_environment()
```

## Features

- Short-lived tokens, refreshed before they expire
- A `requests` adapter that signs every call
- Typed, tested on Python 3.10 to 3.13
"""

METADATA = """Metadata-Version: 2.4
Name: {name}
Version: {version}
Summary: {summary}
License-Expression: MIT
Author: ACME Platform Team
Project-URL: Source, https://git.example.com/acme/{name}
Project-URL: Changelog, https://git.example.com/acme/{name}/releases
Classifier: Programming Language :: Python :: 3
Classifier: Typing :: Typed
Requires-Python: >=3.10
Requires-Dist: requests>=2.31
Requires-Dist: pyjwt[crypto]>=2.8
Description-Content-Type: text/markdown

{description}"""

PROJECTS = [
    (
        "acme-auth",
        ["1.0.0", "1.1.0", "1.2.0", "2.0.0rc1"],
        "Authentication helpers for ACME services",
    ),
    ("acme-billing", ["0.9.1", "1.0.0"], "Invoices, payments and refunds for ACME services"),
    ("acme-events", ["3.2.0"], "Typed event schemas and an EventBridge publisher"),
    ("data-pipeline-tools", ["0.4.2"], "Small, composable steps for batch data jobs"),
    ("internal-lint-rules", ["2024.11.1"], "The team's ruff and mypy configuration, packaged"),
]
PAGES = {"projects": "/ui/", "project": "/ui/acme-auth/"}


def seed(directory: Path) -> None:
    for name, versions, summary in PROJECTS:
        for version in versions:
            text = METADATA.format(
                name=name,
                version=version,
                summary=summary,
                description=DESCRIPTION if name == "acme-auth" else f"# {name}\n\n{summary}.\n",
            )
            write(directory, wheel_bytes(name, version, metadata=text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        dist = Path(temporary)
        seed(dist)
        with serve("--auth", "--dist", str(dist)) as served:
            found = re.search(r"http://(\w+):(\S+)@(127\.0\.0\.1:\d+)/simple/", served.output)
            assert found, served.output
            user, token, origin = found[1], found[2], f"http://{found[3]}"
            with chromium() as browser:
                for scheme in ("light", "dark"):
                    context = browser.new_context(
                        http_credentials={"username": user, "password": token},
                        color_scheme=scheme,
                        viewport={"width": 1200, "height": 760},
                        device_scale_factor=1,
                    )
                    page = context.new_page()
                    for label, path in PAGES.items():
                        page.goto(origin + path)
                        target = args.out / f"ui-{label}-{scheme}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(f"wrote {target.relative_to(ROOT)}")
                    context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
