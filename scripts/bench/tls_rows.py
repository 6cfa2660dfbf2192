"""DICOM TLS rows of the ingest benchmark (scripts/bench/ingest --tls): the gateway over TLS
against itself in plain TCP, and DCMTK's storescp +tls against plain storescp, with storescu
(+tls) as the sender, CT and small cases; then TLS associations per second (handshake cost),
measured with pynetdicom associating and releasing on one thread, plain and TLS. One run;
ratios, not times, are the result."""
import os
import shutil
import ssl
import subprocess
import time

import common

PKI_SCRIPT = os.path.join(common.ROOT, "scripts", "make-test-pki")


def make_pki(work):
    pki = os.path.join(work, "pki")
    subprocess.run([PKI_SCRIPT, pki], check=True, stdout=subprocess.DEVNULL)
    return pki


def tls_args(pki):
    """storescu/storescp options: our key and certificate, the CA the peer must chain to."""
    return ["+tls", os.path.join(pki, "trusta.key"), os.path.join(pki, "trusta.crt"), "+cf", os.path.join(pki, "ca.crt")]


def storescp(workdir, pki=None):
    port = common.free_port()
    out = os.path.join(workdir, "storescp-out")
    os.makedirs(out, exist_ok=True)
    tls = [] if pki is None else ["+tls", os.path.join(pki, "gateway.key"), os.path.join(pki, "gateway.crt"),
                                  "+cf", os.path.join(pki, "ca.crt")]
    p = common.Peer(["/usr/bin/storescp"] + tls + ["-aet", "STORESCP", "-od", out, str(port)], os.path.join(workdir, "storescp.log"))
    common.wait_port(port)
    return p, "STORESCP", port


def gateway(workdir, pki=None):
    """The gateway; with pki, a TLS-only listener (plain port 0) on the returned port."""
    if pki is None:
        return common.gateway(workdir)
    tls_port = common.free_port()
    port, http = 0, common.free_port()
    cfg = os.path.join(workdir, "gateway.yaml")
    with open(cfg, "w") as f:
        f.write(f"gateway:\n  ae_title: NETGW\n  port: {port}\n  max_associations: 32\n"
                f"  tls: {{ port: {tls_port}, certificate: {pki}/gateway.crt, private_key: {pki}/gateway.key, trusted: {pki}/ca.crt }}\n"
                f"storage: {{ path: {workdir}/gateway-storage, min_free_space: 0B }}\n"
                f"http: {{ port: {http} }}\nlogging: {{ level: warning }}\n")
    p = common.Peer([common.GATEWAY, "serve", "--config", cfg], os.path.join(workdir, "gateway.log"))
    common.wait_port(tls_port)
    return p, "NETGW", tls_port


def send(ae, port, files, workdir, pki):
    args = ["/usr/bin/storescu"] + (tls_args(pki) if pki else []) + ["-aet", "BENCH", "-aec", ae, "127.0.0.1", str(port)] + files
    start = time.monotonic()
    r = subprocess.run(args, env=common.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.monotonic() - start
    if r.returncode != 0 or "Store Failed" in r.stdout:
        raise RuntimeError(f"storescu to {ae} failed: {r.stdout[-2000:]}")
    return elapsed


def ingest(work, data, pki):
    """instances/s for (target, transport, case)."""
    rates = {}
    for target, start in (("storescp", storescp), ("gateway", gateway)):
        for transport in ("plain", "tls"):
            for case in ("ct", "small"):
                sub = os.path.join(work, f"tls-{target}-{transport}-{case}")
                os.makedirs(sub)
                peer, ae, port = start(sub, pki if transport == "tls" else None)
                os.sync()
                time.sleep(1)
                try:
                    files = data[case]
                    rates[(target, transport, case)] = len(files) / send(ae, port, files, sub, pki if transport == "tls" else None)
                finally:
                    peer.stop()
                    shutil.rmtree(os.path.join(sub, "storescp-out"), ignore_errors=True)
                    shutil.rmtree(os.path.join(sub, "gateway-storage"), ignore_errors=True)
    return rates


def associations_per_second(work, pki, count=200):
    """Associate + release, one after another, from pynetdicom: plain and TLS, to the gateway and to storescp."""
    from pynetdicom import AE
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=os.path.join(pki, "ca.crt"))
    context.load_cert_chain(os.path.join(pki, "trusta.crt"), os.path.join(pki, "trusta.key"))
    context.check_hostname = False
    results = {}
    for target, start in (("storescp", storescp), ("gateway", gateway)):
        for transport in ("plain", "tls"):
            sub = os.path.join(work, f"assoc-{target}-{transport}")
            os.makedirs(sub)
            peer, ae, port = start(sub, pki if transport == "tls" else None)
            try:
                client = AE(ae_title="BENCH")
                client.add_requested_context("1.2.840.10008.1.1")
                tls = (context, "localhost") if transport == "tls" else None
                started = time.monotonic()
                for _ in range(count):
                    assoc = client.associate("127.0.0.1", port, ae_title=ae, tls_args=tls)
                    if not assoc.is_established:
                        raise RuntimeError(f"association to {target} over {transport} failed")
                    assoc.release()
                results[(target, transport)] = count / (time.monotonic() - started)
            finally:
                peer.stop()
    return results


def report(work, data):
    pki = make_pki(work)
    rates = ingest(work, data, pki)
    labels = {"ct": "CT study 300 x 0.5 MB, 1 assoc", "small": "2,000 x small, 1 assoc"}
    print()
    print("DICOM TLS (bcp195-nd; storescu +tls with a client certificate):")
    print(f"{'case':<34}{'storescp':>12}{'storescp+tls':>14}{'tls/plain':>11}{'gateway':>11}{'gateway tls':>13}{'tls/plain':>11}")
    for case in ("ct", "small"):
        sp, st = rates[("storescp", "plain", case)], rates[("storescp", "tls", case)]
        gp, gt = rates[("gateway", "plain", case)], rates[("gateway", "tls", case)]
        print(f"{labels[case]:<34}{sp:>8.0f}/s{st:>12.0f}/s{st / sp:>10.2f}x{gp:>9.0f}/s{gt:>11.0f}/s{gt / gp:>10.2f}x")
    assoc = associations_per_second(work, pki)
    print("associations per second (pynetdicom associate + release, one after another, 200 each):")
    for target in ("storescp", "gateway"):
        plain, tls = assoc[(target, "plain")], assoc[(target, "tls")]
        print(f"  {target:<10} plain {plain:6.0f}/s, TLS {tls:6.0f}/s ({tls / plain:.2f}x)")
