"""Shared helpers for the benchmarks: free ports, peers (storescp, Orthanc, the gateway), synthetic data."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The benchmarks' Python is the one scripts/setup provisioned (.build-python, with pynetdicom and
# pydicom), whichever python3 started them: re-run this script with it if need be.
PEER_PYTHON = os.environ.get("DICOM_GATEWAY_PYTHON") or os.path.join(ROOT, ".build-python", "bin", "python")
if os.path.abspath(sys.prefix) != os.path.abspath(os.path.join(os.path.dirname(PEER_PYTHON), "..")):
    if not os.access(PEER_PYTHON, os.X_OK):
        sys.exit(f"bench: {PEER_PYTHON} missing: run scripts/setup first")
    os.execv(PEER_PYTHON, [PEER_PYTHON] + sys.argv)
# DICOM_GATEWAY_BENCH_BINARY: another build to measure (e.g. a copy of the previous commit's, for an A/B run).
GATEWAY = os.environ.get("DICOM_GATEWAY_BENCH_BINARY") or os.path.join(ROOT, ".build", "release", "dicom-gateway")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def env(nagle=False):
    e = dict(os.environ)
    if nagle:
        e.pop("TCP_NODELAY", None)
    else:
        e["TCP_NODELAY"] = "1"
    return e


class Peer:
    def __init__(self, args, log, nagle=False, cwd=None):
        self.log = open(log, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env(nagle), cwd=cwd)

    def peak_rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return float("nan")

    def cpu_seconds(self):
        """User + system CPU time of the process so far (all its threads), from /proc."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def storescp(workdir, nagle=False, port=None, out=None, fork=False):
    """DCMTK's storescp on loopback; with fork, one process per association (a destination that
    accepts several associations at once, as a PACS does), else one association at a time."""
    port = port or free_port()
    out = out or os.path.join(workdir, "storescp-out")
    os.makedirs(out, exist_ok=True)
    p = Peer(["/usr/bin/storescp", "-aet", "STORESCP", "-od", out] + (["--fork"] if fork else []) + [str(port)],
             os.path.join(workdir, "storescp.log"), nagle=nagle)
    wait_port(port)
    return p, "STORESCP", port


def orthanc(workdir, extra_config=None):
    """Orthanc 1.10 on loopback with its own storage; extra_config is merged into its JSON configuration."""
    port, http = free_port(), free_port()
    base = os.path.join(workdir, "orthanc")
    os.makedirs(base, exist_ok=True)
    cfg = {
        "Name": "bench", "StorageDirectory": base + "/storage", "IndexDirectory": base + "/index",
        "DicomAet": "ORTHANC", "DicomPort": port, "HttpPort": http, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "Plugins": [], "TcpNoDelay": True, "DicomCheckCalledAet": False,
        "StorageCompression": False, "ConcurrentJobs": 2,
    }
    cfg.update(extra_config or {})
    path = os.path.join(base, "orthanc.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = Peer(["/usr/sbin/Orthanc", path], os.path.join(workdir, "orthanc.log"))
    p.http_port = cfg["HttpPort"]
    wait_port(port)
    wait_port(p.http_port)
    return p, "ORTHANC", port


def gateway(workdir, extra_yaml=""):
    port, http = free_port(), free_port()
    cfg = os.path.join(workdir, "gateway.yaml")
    with open(cfg, "w") as f:
        f.write(f"gateway: {{ ae_title: NETGW, port: {port}, max_associations: 32 }}\n"
                f"storage: {{ path: {workdir}/gateway-storage, min_free_space: 0B }}\n"
                f"http: {{ port: {http} }}\n"
                f"logging: {{ level: warning }}\n{extra_yaml}")
    p = Peer([GATEWAY, "serve", "--config", cfg], os.path.join(workdir, "gateway.log"))
    p.http_port = http
    wait_port(port)
    return p, "NETGW", port


def make_instances(directory, count, rows, columns, study_uid, prefix, extra=None):
    """count CT instances of one series, written by pydicom; SOP Instance UIDs are study_uid.1.N.
    extra: more attributes by keyword, e.g. {"StudyDescription": "CT head stroke"}."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    os.makedirs(directory, exist_ok=True)
    pixels = bytes((i * 31) & 0xFF for i in range(rows * columns * 2))
    paths = []
    for i in range(1, count + 1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = f"{study_uid}.1.{i}"
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = study_uid + ".1"
        ds.PatientID = prefix
        ds.PatientName = "Bench^" + prefix
        ds.StudyDate = "20240102"
        ds.Modality = "CT"
        ds.InstanceNumber = i
        ds.Rows, ds.Columns = rows, columns
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.PixelData = pixels
        for keyword, value in (extra or {}).items():
            setattr(ds, keyword, value)
        path = os.path.join(directory, f"{prefix}-{i:05d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def send(ae, port, files, workdir, label, nagle=False, calling="BENCH"):
    """One storescu association; returns seconds."""
    listfile = os.path.join(workdir, f"{label}.args")
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/storescu", "-aet", calling, "-aec", ae, "127.0.0.1", str(port)] + files,
                       env=env(nagle), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"storescu to {ae} failed: {r.stdout[-2000:]}")
    return elapsed


def send_parallel(ae, port, groups, nagle=False):
    start = time.monotonic()
    procs = [subprocess.Popen(["/usr/bin/storescu", "-aet", f"BENCH{i}", "-aec", ae, "127.0.0.1", str(port)] + g,
                              env=env(nagle), stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i, g in enumerate(groups)]
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"storescu to {ae} failed: {out[-2000:]}")
    return time.monotonic() - start


class ArrivalWatcher(threading.Thread):
    """Polls a storescp output directory and records when each study's expected instance count
    has arrived. storescp names files <modality>.<SOPInstanceUID>; make_instances gives SOP
    Instance UIDs study_uid.1.N, so the study of a file is read from its name without parsing it.
    Times are time.monotonic() values; first[label] is when the first file of the study appeared."""

    def __init__(self, directory, expected, interval=0.01):
        """expected: {label: (study_uid, count)}"""
        super().__init__(daemon=True)
        self.directory, self.interval = directory, interval
        self.expected = {label: (uid + ".1.", n) for label, (uid, n) in expected.items()}
        self.counts = {label: 0 for label in expected}
        self.first, self.done = {}, {}
        self.counts_at_done = {}  # label -> the counts of every study when that one was complete
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def snapshot(self):
        """The counts of the latest poll."""
        with self._lock:
            return dict(self.counts)

    def scan(self):
        """Counts the files of each study now."""
        counts = {label: 0 for label in self.expected}
        with os.scandir(self.directory) as it:
            for entry in it:
                uid = entry.name.partition(".")[2]
                for label, (prefix, _) in self.expected.items():
                    if uid.startswith(prefix):
                        counts[label] += 1
                        break
        return counts

    def run(self):
        while not self._stop_event.is_set():
            now = time.monotonic()
            counts = self.scan()
            with self._lock:
                self.counts = counts
                for label, (_, n) in self.expected.items():
                    if counts[label] and label not in self.first:
                        self.first[label] = now
                    if counts[label] >= n and label not in self.done:
                        self.done[label] = now
                        self.counts_at_done[label] = dict(counts)
            if len(self.done) == len(self.expected):
                return
            time.sleep(self.interval)

    def wait(self, timeout):
        """Waits until every study is complete; raises with the counts seen if not within timeout."""
        self.join(timeout)
        if self.is_alive():
            self._stop_event.set()
            self.join()
            raise RuntimeError(f"not every instance arrived within {timeout} s: {self.snapshot()} of "
                               f"{ {label: n for label, (_, n) in self.expected.items()} }")

    def stop(self):
        self._stop_event.set()
