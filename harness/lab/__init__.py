"""The lab: containers, networks and volumes a run creates, labelled, guarded and cleaned up.

testcontainers reads its configuration when first imported. These defaults keep every
connection from the harness on 127.0.0.1 and a published port (the build machines have no
registry for Ryuk's image, so the lab removes what it created itself, by label).
"""

import os

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
os.environ.setdefault("TC_HOST", "127.0.0.1")
