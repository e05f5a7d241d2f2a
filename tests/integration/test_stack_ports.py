"""devstack's Stack on ports picked free (the tests', the benchmark's): a part whose port another
process took between the pick and the bind is started again on another port, never left with
another process answering in its name."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from devstack.embedded import free_ports
from devstack.stack import Stack


class _Anything(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_a_part_whose_port_was_taken_is_started_again_on_another(database_server_url, kafka_bootstrap,
                                                                  tmp_path):
    # Another process answers 200 on every path of the port the stack gives publication.
    taken = ThreadingHTTPServer(("127.0.0.1", free_ports(1)[0]), _Anything)
    threading.Thread(target=taken.serve_forever, daemon=True).start()
    port = taken.server_address[1]
    prefix = f"p{uuid.uuid4().hex[:8]}"
    stack = Stack(database_url=database_server_url, bootstrap=kafka_bootstrap, workdir=tmp_path,
                  ports={"publication": port}, movable_ports=True, database_prefix=prefix,
                  env={"FAYUAN_TOPIC_PREFIX": f"{prefix}."})
    try:
        stack.migrate()
        stack.start("publication")
        stack.wait_ready(timeout=90)
        assert stack.ports["publication"] != port
        answer = httpx.get(stack.url("publication") + "/openapi.json", timeout=10)
        assert answer.status_code == 200 and "publication" in answer.json()["info"]["title"].lower()
    finally:
        stack.stop_all()
        taken.shutdown()
