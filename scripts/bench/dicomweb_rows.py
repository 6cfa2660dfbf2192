"""The measurements of scripts/bench/dicomweb: each function times one row against one server (the
gateway or Orthanc, both at http://127.0.0.1:PORT/dicom-web) and returns its figure."""
import http.client
import json
import os
import statistics
import subprocess
import time

import dicomweb_seed as seed

ROOT = "/dicom-web"
OHIF = "limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060"
DICOM_ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*'
FRAME_ANY = "multipart/related; type=application/octet-stream; transfer-syntax=*"
BOUNDARY = "benchBoundary7d3a"


def qido_queries(studies, count):
    """{label: [path]}: `count` queries of each kind a study list makes, with values that vary."""
    months = sorted({seed.study_date(s)[:6] for s in range(0, studies, max(1, studies // 200))})
    return {
        "OHIF study list (no filter)": [f"/studies?{OHIF}"] * count,
        "PatientName wildcard": [f"/studies?{OHIF}&PatientName={seed.SURNAMES[k % len(seed.SURNAMES)][:3]}*" for k in range(count)],
        "StudyDate range (a month)": [f"/studies?{OHIF}&StudyDate={m}01-{m}31" for m in
                                      (months[(k * 7) % len(months)] for k in range(count))],
        "ModalitiesInStudy": [f"/studies?{OHIF}&ModalitiesInStudy={seed.MODALITIES[k % len(seed.MODALITIES)]}" for k in range(count)],
        "PatientID": [f"/studies?{OHIF}&PatientID={seed.patient_of((k * 7919) % studies)[0]}" for k in range(count)],
    }


def get(conn, path, accept):
    conn.request("GET", ROOT + path, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    return response.status, body


def percentiles(values):
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def qido(port, queries):
    """{label: (p50 ms, p95 ms, mean matches per query)} over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    results = {}
    for label, paths in queries.items():
        latencies, matches = [], 0
        for path in paths:
            start = time.monotonic()
            status, body = get(conn, path, "application/dicom+json")
            latencies.append((time.monotonic() - start) * 1000)
            if status not in (200, 204):
                raise RuntimeError(f"QIDO {path} on port {port}: {status} {body[:300]!r}")
            matches += len(json.loads(body)) if status == 200 and body.strip() else 0
        results[label] = percentiles(latencies) + (matches / len(paths),)
    conn.close()
    return results


def stow(port, files):
    """instances/s of one STOW-RS request with all of `files`; the body is built in memory first."""
    parts = []
    for path in files:
        with open(path, "rb") as f:
            parts.append(f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + f.read() + b"\r\n")
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    os.sync()
    time.sleep(1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    start = time.monotonic()
    conn.request("POST", ROOT + "/studies", body=body, headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}',
        "Accept": "application/dicom+json"})
    response = conn.getresponse()
    answer = response.read()
    seconds = time.monotonic() - start
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"STOW-RS on port {port}: {response.status} {answer[:500]!r}")
    return len(files) / seconds


def metadata(port, study, series, repeats):
    """(first request ms, median of `repeats` more ms, bytes) of a series' /metadata."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    times, size = [], 0
    for _ in range(repeats + 1):
        start = time.monotonic()
        status, body = get(conn, f"/studies/{study}/series/{series}/metadata", "application/dicom+json")
        times.append((time.monotonic() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"metadata on port {port}: {status} {body[:300]!r}")
        size = len(body)
    conn.close()
    return times[0], statistics.median(times[1:]), size


def curl_seconds(args, repeats):
    """Median wall time of `curl args` (output discarded), and the bytes of the last run."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.monotonic()
        r = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download} "] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        times.append(time.monotonic() - start)
        if r.returncode != 0:
            raise RuntimeError(f"curl {args[:3]}...: {r.stderr.strip()[:300]}")
        size = sum(int(x) for x in r.stdout.split())
    return statistics.median(times), size


def wado_series(port, study, series, repeats=5):
    """MB/s of a WADO-RS series retrieve as stored (curl), and the bytes received."""
    seconds, size = curl_seconds(["-H", f"Accept: {DICOM_ANY}", f"http://127.0.0.1:{port}{ROOT}/studies/{study}/series/{series}"],
                                 repeats)
    return size / 1e6 / seconds, size


def files_by_curl(port, paths, repeats=5):
    """MB/s of one curl process fetching every path in turn (one keep-alive connection)."""
    args = []
    for i, path in enumerate(paths):
        args += (["-o", "/dev/null"] if i else []) + [f"http://127.0.0.1:{port}/{path}"]
    seconds, size = curl_seconds(args, repeats)
    return size / 1e6 / seconds, size


def frames(port, study, series, instances, passes=2):
    """frames/s of /frames/1 of each instance in order, `passes` times, on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    count, start = 0, time.monotonic()
    for _ in range(passes):
        for sop in instances:
            status, body = get(conn, f"/studies/{study}/series/{series}/instances/{sop}/frames/1", FRAME_ANY)
            if status != 200 or len(body) < 1000:
                raise RuntimeError(f"frame of {sop} on port {port}: {status} {body[:300]!r}")
            count += 1
    seconds = time.monotonic() - start
    conn.close()
    return count / seconds


NGINX_CONF = """daemon off;
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/dicom;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


def nginx(work, root, port):
    """Debian's nginx (its service stays off) serving `root` on loopback: our own process and config."""
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=work, port=port, root=root))
    return subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "nginx.log"), "w"))
