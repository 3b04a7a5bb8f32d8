"""`python -m examples.marketplace` (what `make demo-embed` runs): vendorbell on
http://127.0.0.1:8000 and the Corner Market marketplace on http://localhost:9000, the
integration and its ES256 key registered through vendorbell's CLI on the first run.

Two hostnames of one machine are two origins, so the bell really is embedded cross-site.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import uvicorn

from examples.marketplace.shop import HERE, Embedding, create_app, sri

VENDORBELL = os.environ.get("VENDORBELL_URL", "http://127.0.0.1:8000")
SHOP = os.environ.get("SHOP_URL", "http://localhost:9000")
STATE = HERE / "data" / "embedding.json"  # the integration id, key id and private key
ELEMENT = HERE.parents[1] / "pwa" / "embed" / "vendor-bell.js"


def cli(*args: str) -> str:
    """One vendorbell CLI command; its output (the caller reads `id:` / `kid:` lines)."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and fixed arguments)
        [sys.executable, "-m", "server", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"python -m server {' '.join(args)} failed:\n{done.stderr or done.stdout}")
    return done.stdout


def field(output: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(\S+)", output, flags=re.M)
    if match is None:
        sys.exit(f"no `{name}:` in:\n{output}")
    return match.group(1)


def registered() -> dict[str, str]:
    """The integration and key, registered once (kept in examples/marketplace/data/)."""
    if STATE.is_file():
        saved: dict[str, str] = json.loads(STATE.read_text("utf-8"))
        return saved
    created = cli("integration", "create", "--name", "corner-market", "--origin", SHOP,
                  "--link-base", SHOP)  # fmt: skip
    integration = field(created, "id")
    generated = cli("embed-key", "generate", "--integration", integration, "--alg", "ES256")
    pem = generated[generated.index("-----BEGIN") :]
    state = {"integration": integration, "kid": field(generated, "kid"), "private_key": pem}
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state), "utf-8")
    STATE.chmod(0o600)
    return state


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("vendorbell stopped while starting")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 (our URL)
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    sys.exit(f"vendorbell did not answer on {url}")


def main() -> None:
    cli("migrate")
    state = registered()
    port = VENDORBELL.rsplit(":", 1)[1] if VENDORBELL.count(":") == 2 else "8000"
    env = {**os.environ, "PUBLIC_URL": VENDORBELL, "PORT": port}
    vendorbell = subprocess.Popen([sys.executable, "-m", "server", "run"], env=env)
    try:
        wait_for(VENDORBELL, vendorbell)
        embedding = Embedding(VENDORBELL, state["integration"], state["kid"],
                              state["private_key"], sri(ELEMENT))  # fmt: skip
        shop_port = int(SHOP.rsplit(":", 1)[1])
        print(f"Corner Market: {SHOP} (rosa / bread, otto / cheese); vendorbell: {VENDORBELL}")
        uvicorn.run(create_app(embedding), host="127.0.0.1", port=shop_port, log_level="warning")
    finally:
        vendorbell.terminate()
        vendorbell.wait(15)


if __name__ == "__main__":
    main()
