"""Replay URLs from a WARC file with pywb; run as a script by an interpreter that has pywb.

pywb cannot share the test environment (every release from 2.8.4 on pins redis==2.10.6,
which vaultcache-redis cannot use) and monkey-patches the standard library with gevent when
its app is imported, so it runs here, in a process of its own:

    python pywb_replay.py WORK_DIR WARC_FILE < requests.json  # writes WORK_DIR/replies.json

``requests.json`` is a list of ``{"url": ..., "timestamp": "YYYYmmddHHMMSS"}``. The WARC file
is added to a collection under WORK_DIR (indexed by pywb's own manager), and each URL is asked
for in pywb's identity mode (``id_``: the archived bytes, not rewritten). The reply is a list
of ``{"status": int, "headers": [[name, value], ...], "body": base64}``, one per request.
Nothing leaves the machine: the app is called in this process, and tldextract (which pywb
asks about cookie domains) is given its bundled suffix list instead of fetching one.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any


def main(work_dir: str, warc: str) -> None:
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    os.chdir(work_dir)
    from pywb.apps.frontendapp import FrontEndApp
    from pywb.manager.manager import CollectionsManager
    from werkzeug.test import Client

    CollectionsManager("archive", must_exist=False).add_collection()
    CollectionsManager("archive").add_archives([warc])
    client = Client(FrontEndApp(config_file=os.path.join(work_dir, "config.yaml")))
    replies: list[dict[str, Any]] = []
    asked_for = json.load(sys.stdin)
    for asked in asked_for:
        reply = client.get(f"/archive/{asked['timestamp']}id_/{asked['url']}")
        replies.append(
            {
                "status": reply.status_code,
                "headers": [[name, value] for name, value in reply.headers.items()],
                "body": base64.b64encode(reply.get_data()).decode("ascii"),
            }
        )
        reply.close()
    with open(os.path.join(work_dir, "replies.json"), "w", encoding="utf-8") as out:
        json.dump(replies, out)  # not stdout: pywb's manager prints there


if __name__ == "__main__":
    main(*sys.argv[1:3])
