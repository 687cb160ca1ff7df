"""The command `gantry lock` runs in the lock safety test: writes to the protected resource
with its fencing token (GANTRY_FENCING_TOKEN), works a little, writes again, and exits. Each
write carries the process group, which the test pauses with SIGSTOP to stand for a stalled
holder. usage: lock_worker.py RESOURCE_URL WORK_SECONDS"""
import os
import sys
import time
import urllib.request

url, work = sys.argv[1], float(sys.argv[2])
token = os.environ["GANTRY_FENCING_TOKEN"]
group = os.getpgid(0)


def write(mark):
    request = urllib.request.Request(f"{url}?token={token}&group={group}&mark={mark}",
                                     method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


write("begin")
time.sleep(work)
write("end")
