"""Seeding for scripts/bench/dicomweb: many small synthetic instances, built in memory and sent by
C-STORE over several parallel associations to the gateway and to Orthanc at once.

The sender is written against the wire format (PS3.8 PDUs, PS3.7 command sets, Implicit VR Little
Endian, wire_dimse.py), as wire_find.py is: pynetdicom encodes each data set with pydicom and polls its socket
with 1 ms sleeps, which would make the sender, not the receivers, the cost of seeding 1,000,000
instances on this machine. Each data set is a few hundred bytes made from its study number:
unique UIDs, patients with two studies each, names from a list, dates over ten years, six
modalities, 2 series per study."""
import datetime
import multiprocessing
import struct
import time

import wire_dimse as w

ROOT_UID = "1.2.826.0.1.3680043.8.1055.90"
SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture: any modality, no modality module rules
SURNAMES = ("SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "ROBINSON", "WRIGHT",
            "THOMPSON", "EVANS", "WALKER", "WHITE", "ROBERTS", "GREEN", "HALL", "WOOD", "JACKSON", "CLARKE",
            "PATEL", "KHAN", "LEWIS", "JAMES", "PHILLIPS", "MASON", "MITCHELL", "ROSE", "DAVIS", "RODRIGUEZ",
            "COX", "ALEXANDER", "MORGAN", "MOORE", "MARTIN", "PRICE", "BELL", "LEE", "HUGHES", "EDWARDS")
GIVEN = ("OLIVER", "AMELIA", "GEORGE", "ISLA", "HARRY", "AVA", "NOAH", "MIA", "JACK", "GRACE", "LEO", "LILY",
         "ARTHUR", "FREYA", "MUHAMMAD", "EMILY", "OSCAR", "IVY", "CHARLIE", "ELLA", "JACOB", "ROSIE", "THOMAS", "EVIE")
MODALITIES = ("CT", "MR", "CR", "DX", "US", "MG")
BODY = ("HEAD", "CHEST", "ABDOMEN", "PELVIS", "KNEE", "SPINE", "HAND", "FOOT", "BREAST")
INSTANCES_PER_STUDY = 20
SERIES_PER_STUDY = 2
FIRST_DAY = datetime.date(2015, 1, 1)
FORK = multiprocessing.get_context("fork")  # the senders need nothing but their arguments


def patient_of(study):
    p = study // 2
    return f"QP{p:07d}", f"{SURNAMES[p % len(SURNAMES)]}^{GIVEN[(p // len(SURNAMES)) % len(GIVEN)]}"


def study_date(study):
    return (FIRST_DAY + datetime.timedelta(days=(study * 7919) % 3650)).strftime("%Y%m%d")


def modality_of(study):
    return MODALITIES[study % len(MODALITIES)]


_el, _t, _u, _us = w.element, w.text, w.uid, w.us


PIXELS = bytes(range(128))  # 8 x 8, 16 bits


def dataset(study, instance):
    """The Implicit VR Little Endian data set of instance `instance` (0-based) of study `study`."""
    series = instance * SERIES_PER_STUDY // INSTANCES_PER_STUDY
    pid, name = patient_of(study)
    suid = f"{ROOT_UID}.{study}"
    seuid = f"{suid}.{series + 1}"
    mod = modality_of(study)
    return b"".join((
        _el(0x0008, 0x0016, _u(SC_STORAGE)), _el(0x0008, 0x0018, _u(f"{seuid}.{instance + 1}")),
        _el(0x0008, 0x0020, _t(study_date(study))), _el(0x0008, 0x0030, _t(f"{8 + study % 10:02d}{study % 60:02d}00")),
        _el(0x0008, 0x0050, _t(f"A{study:08d}")), _el(0x0008, 0x0060, _t(mod)), _el(0x0008, 0x0064, _t("WSD")),
        _el(0x0008, 0x0090, _t("REFERRER^A")), _el(0x0008, 0x1030, _t(f"{mod} {BODY[study % len(BODY)]}")),
        _el(0x0008, 0x103E, _t(f"Series {series + 1}")),
        _el(0x0010, 0x0010, _t(name)), _el(0x0010, 0x0020, _t(pid)),
        _el(0x0010, 0x0030, _t(f"19{40 + (study // 2) % 60:02d}0101")), _el(0x0010, 0x0040, _t("FM"[(study // 2) % 2])),
        _el(0x0020, 0x000D, _u(suid)), _el(0x0020, 0x000E, _u(seuid)), _el(0x0020, 0x0010, _t(str(study % 100000))),
        _el(0x0020, 0x0011, _t(str(series + 1))), _el(0x0020, 0x0013, _t(str(instance + 1))),
        _el(0x0028, 0x0002, _us(1)), _el(0x0028, 0x0004, _t("MONOCHROME2")), _el(0x0028, 0x0010, _us(8)),
        _el(0x0028, 0x0011, _us(8)), _el(0x0028, 0x0100, _us(16)), _el(0x0028, 0x0101, _us(16)),
        _el(0x0028, 0x0102, _us(15)), _el(0x0028, 0x0103, _us(0)), _el(0x7FE0, 0x0010, PIXELS),
    ))


class StoreClient(w.Association):
    """One association, one presentation context (Secondary Capture, Implicit VR Little Endian)."""

    def __init__(self, port, called, calling):
        super().__init__("127.0.0.1", port, called, calling, SC_STORAGE)

    def store(self, sop_uid, data):
        fields = (_el(0, 0x0002, _u(SC_STORAGE)) + _el(0, 0x0100, _us(0x0001)) + _el(0, 0x0110, _us(self.next_message_id())) +
                  _el(0, 0x0700, _us(0)) + _el(0, 0x0800, _us(0)) + _el(0, 0x1000, _u(sop_uid)))
        self.send_message(w.command(fields), data)
        response = b""
        for control, fragment in self.fragments():
            response += fragment
            if control & 0x02:
                break
        status = struct.unpack("<H", w.elements(response).get((0x0000, 0x0900), b"\xff\xff"))[0]
        if status not in (0x0000, 0xB000, 0xB007, 0xB006):
            raise RuntimeError(f"C-STORE of {sop_uid} answered status {status:#06x}")


def _worker(port, called, calling, studies, counter):
    client = StoreClient(port, called, calling)
    done = 0
    for study in studies:
        for i in range(INSTANCES_PER_STUDY):
            data = dataset(study, i)
            series = i * SERIES_PER_STUDY // INSTANCES_PER_STUDY
            client.store(f"{ROOT_UID}.{study}.{series + 1}.{i + 1}", data)
            done += 1
            if done % 100 == 0:
                with counter.get_lock():
                    counter.value += 100
    with counter.get_lock():
        counter.value += done % 100
    client.release()


def seed(targets, instances, associations=4, progress=60):
    """targets: [(label, port, called AE)]. Sends `instances` (a multiple of 20) to every target at
    once, `associations` each; returns {label: seconds}."""
    studies = instances // INSTANCES_PER_STUDY
    counters, procs, started, finished = {}, [], time.monotonic(), {}
    for label, port, called in targets:
        counters[label] = FORK.Value("q", 0)
        for a in range(associations):
            p = FORK.Process(target=_worker, args=(port, called, f"SEED{a}", range(a, studies, associations),
                                                             counters[label]), daemon=True)
            p.start()
            procs.append((label, p))
    last = time.monotonic()
    while any(p.is_alive() for _, p in procs):
        time.sleep(1)
        for label, _, _ in targets:
            if label not in finished and not any(p.is_alive() for l, p in procs if l == label):
                finished[label] = time.monotonic() - started
        if time.monotonic() - last >= progress:
            last = time.monotonic()
            elapsed = last - started
            print("  seeding " + ", ".join(f"{label} {counters[label].value:,} ({counters[label].value / elapsed:.0f}/s)"
                                          for label, _, _ in targets) + f" after {elapsed:.0f} s", flush=True)
    failed = [label for label, p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"seeding failed for {sorted(set(failed))}: see the tracebacks above")
    for label, _, _ in targets:
        finished.setdefault(label, time.monotonic() - started)
    return finished
