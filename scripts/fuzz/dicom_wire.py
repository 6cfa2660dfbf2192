"""A small DICOM Upper Layer client on raw sockets (PS3.8 PDUs, PS3.7 command sets), for tests and
fuzzing: it encodes whatever it is given, including what a toolkit would refuse to send (deeply
nested sequences, lying lengths, odd fragmentations). pynetdicom is not used anywhere on the wire
path; pydicom is used only to look up VRs by keyword/tag when building data sets.

Library:
    assoc = Association.open("127.0.0.1", 11112, called_ae="NETGW",
                             contexts=[(VERIFICATION, [IMPLICIT_LE])])
    result = assoc.echo()                       # DimseResult(status, error_comment, command, datasets)
    result = assoc.store(sop_class, sop_instance, dataset_bytes)
    result = assoc.find(STUDY_ROOT_FIND, identifier_bytes)   # result.datasets: pending identifiers
    assoc.release()  /  assoc.abort()

    nested_sequence_dataset(depth, defined_length=False, transfer_syntax="implicit")
    find_identifier(level, keys, nested_depth=0, ...)
    part10(dataset_bytes, sop_class, sop_instance, transfer_syntax)   # file bytes for dcmdump/pydicom

Script (one JSON line on stdout; exit 0 = the exchange completed, whatever the DIMSE status;
2 = connection refused/reset/timed out, association rejected or aborted; 64 = usage error or a
host that is not loopback). Connection options may come before or after the sub-command:
    dicom_wire.py [--host 127.0.0.1] [--port 11112] [--called-ae NETGW] [--calling-ae WIRE]
                  [--timeout 60] [--max-pdu 16384] echo
    dicom_wire.py ... store-nested DEPTH [--defined-length] [--transfer-syntax implicit|explicit]
    dicom_wire.py ... find-nested DEPTH [--level STUDY] [--model study|patient] [--defined-length]
                                        [--transfer-syntax implicit|explicit]
    dicom_wire.py write-nested DEPTH OUT.dcm [--defined-length] [--transfer-syntax ...] [--find LEVEL]
JSON keys: op, host, port, completed, status (int), status_hex ("0x0000"), error_comment,
timings_ms {build, associate, exchange, release, total}, peer_max_pdu, released; store-nested and
find-nested add depth, defined_length, transfer_syntax, dataset_bytes; store-nested sop_instance;
find-nested level, matches, match_bytes; on failure error (exception class) and detail.
"""
import argparse
import ipaddress
import json
import socket
import ssl
import struct
import sys
import time

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.9.7433.1.1"
IMPLEMENTATION_VERSION = "DICOM_WIRE_1"
UID_ROOT = "1.2.826.0.1.3680043.9.7433.2"

# PDU types
A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = 0x04, 0x05, 0x06, 0x07

# DIMSE command fields
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
C_CANCEL_RQ = 0x0FFF
NO_DATASET = 0x0101

ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
# VRs with a 2-byte reserved field and a 4-byte length in explicit VR.
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


# --------------------------------------------------------------------------- errors

class WireError(Exception):
    """Base class of everything this module raises about the peer."""


class ConnectionFailed(WireError):
    """TCP connect failed, or the connection closed/reset/timed out mid-exchange."""


class AssociationRejected(WireError):
    def __init__(self, result, source, reason):
        super().__init__(f"A-ASSOCIATE-RJ result={result} source={source} reason={reason}")
        self.result, self.source, self.reason = result, source, reason


class AssociationAborted(WireError):
    def __init__(self, source, reason):
        super().__init__(f"A-ABORT source={source} reason={reason}")
        self.source, self.reason = source, reason


class ProtocolError(WireError):
    """The peer sent something this client did not expect."""


# --------------------------------------------------------------------------- value helpers

def uid_value(value):
    """A UI value: ASCII, padded with NUL to an even length."""
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    return raw + b"\0" if len(raw) % 2 else raw


def text_value(value):
    """A text value (CS, LO, SH, PN, DA, TM, IS, UT...): padded with a space to an even length."""
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    return raw + b" " if len(raw) % 2 else raw


def us_value(value):
    return struct.pack("<H", value)


def ul_value(value):
    return struct.pack("<I", value)


def ae_field(value):
    """An AE title field of an A-ASSOCIATE PDU: 16 bytes, space padded (truncated if longer)."""
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    return raw[:16].ljust(16, b" ")


def tag_of(key):
    """0xGGGGEEEE from an int, a (group, element) pair, 'GGGG,EEEE' or a pydicom keyword."""
    if isinstance(key, int):
        return key
    if isinstance(key, tuple):
        return (key[0] << 16) | key[1]
    if "," in key:
        group, element = key.split(",")
        return (int(group, 16) << 16) | int(element, 16)
    from pydicom.datadict import tag_for_keyword
    tag = tag_for_keyword(key)
    if tag is None:
        raise KeyError(f"unknown DICOM keyword {key}")
    return tag


def vr_of(tag):
    from pydicom.datadict import dictionary_VR
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"
    return {"US or SS": "US", "OB or OW": "OB", "US or OW": "US", "US or SS or OW": "US"}.get(vr, vr[:2])


def encode_value(tag, value):
    """Bytes of a value for the tag's VR: str → text or UID, int → US/UL/SS/SL, bytes as given."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    vr = vr_of(tag)
    if isinstance(value, int):
        return struct.pack({"US": "<H", "SS": "<h", "UL": "<I", "SL": "<i"}.get(vr, "<H"), value)
    if value is None:
        return b""
    return uid_value(value) if vr == "UI" else text_value(value)


def element(tag, value, explicit=False, vr=None, length=None):
    """One encoded element (little endian). `length` overrides the length field (for lies)."""
    tag = tag_of(tag)
    value = encode_value(tag, value)
    n = len(value) if length is None else length
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if not explicit:
        return head + struct.pack("<I", n) + value
    vr = vr or vr_of(tag)
    if vr in LONG_VRS:
        return head + vr.encode() + b"\0\0" + struct.pack("<I", n) + value
    return head + vr.encode() + struct.pack("<H", n & 0xFFFF) + value


def _delimiter(tag, length=0):
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, length)


def sequence(tag, items, explicit=False, defined_length=False):
    """A sequence of already-encoded item contents (each item's bytes = its encoded elements)."""
    tag = tag_of(tag)
    if defined_length:
        body = b"".join(_delimiter(ITEM, len(i)) + i for i in items)
        return _sq_header(tag, len(body), explicit) + body
    body = b"".join(_delimiter(ITEM, UNDEFINED) + i + _delimiter(ITEM_DELIMITATION) for i in items)
    return _sq_header(tag, UNDEFINED, explicit) + body + _delimiter(SEQUENCE_DELIMITATION)


def _sq_header(tag, length, explicit):
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    return head + (b"SQ\0\0" if explicit else b"") + struct.pack("<I", length)


def dataset(elements, explicit=False):
    """Encode {key: value} (or [(key, value)]) as a flat data set in ascending tag order.
    A value that is already a complete encoded element (from `sequence`) is given as ('raw', bytes)."""
    pairs = elements.items() if isinstance(elements, dict) else elements
    out = []
    for key, value in pairs:
        tag = tag_of(key)
        if isinstance(value, tuple) and value and value[0] == "raw":
            out.append((tag, value[1]))
        else:
            out.append((tag, element(tag, value, explicit)))
    out.sort(key=lambda x: x[0])
    return b"".join(b for _, b in out)


_uid_counter = [0]


def new_uid(suffix=None):
    """A fresh UID under this tool's root (time, counter: unique enough for tests)."""
    _uid_counter[0] += 1
    tail = suffix if suffix is not None else f"{int(time.time() * 1000)}.{_uid_counter[0]}"
    return f"{UID_ROOT}.{tail}"[:64]


# --------------------------------------------------------------------------- data set builders

def _nested_chain(depth, seq_tag, level_elements, deepest_elements, explicit, defined_length):
    """A sequence element nesting `depth` levels: level 1 is the outermost sequence, whose single
    item holds level_elements(i) and the level i+1 sequence; the item at level `depth` holds
    deepest_elements. Built without recursion (depth may be 10^5), lengths computed inside-out."""
    if depth < 1:
        return b""
    seq_tag = tag_of(seq_tag)
    sq_head = 12 if explicit else 8
    own = [level_elements(i) for i in range(1, depth)] + [level_elements(depth) + deepest_elements]
    # Sorting: level elements must have tags below seq_tag (checked by the callers' choice of tags).
    if not defined_length:
        prefix = b"".join(_sq_header(seq_tag, UNDEFINED, explicit) + _delimiter(ITEM, UNDEFINED) + o for o in own)
        suffix = (_delimiter(ITEM_DELIMITATION) + _delimiter(SEQUENCE_DELIMITATION)) * depth
        return prefix + suffix
    item_lengths = [0] * depth
    item_lengths[depth - 1] = len(own[depth - 1])
    for i in range(depth - 2, -1, -1):
        item_lengths[i] = len(own[i]) + sq_head + 8 + item_lengths[i + 1]
    parts = []
    for i in range(depth):
        parts.append(_sq_header(seq_tag, item_lengths[i] + 8, explicit))
        parts.append(_delimiter(ITEM, item_lengths[i]))
        parts.append(own[i])
    return b"".join(parts)


def nested_sequence_dataset(depth, defined_length=False, transfer_syntax="implicit", sop_instance=None,
                            study_uid=None, series_uid=None, patient_id="WIRE-NESTED", modality="SR",
                            sop_class=COMPREHENSIVE_SR, seq_tag=0x0040A730, extra=None):
    """A small valid data set (a Comprehensive SR) whose ContentSequence (0040,A730) nests `depth`
    levels (depth 0: no ContentSequence). Each level's item is a CONTAINER content item
    (RelationshipType CONTAINS, ValueType CONTAINER) holding the next level; the deepest item is a
    TEXT item whose TextValue says its depth and which also carries PatientID/IssuerOfPatientID, so
    a parser that walks the whole tree finds a patient key at the bottom. A top-level
    OtherPatientIDsSequence item (which the gateway reads) is included too.
    Sequences and items have undefined length by default; defined_length=True computes lengths.
    Returns the encoded data set bytes (no File Meta)."""
    explicit = transfer_syntax == "explicit"
    sop_instance = sop_instance or new_uid()
    study_uid = study_uid or new_uid()
    series_uid = series_uid or new_uid()

    def level_elements(i):
        return (element(0x0040A010, "CONTAINS", explicit) +
                element(0x0040A040, "CONTAINER" if i < depth else "TEXT", explicit))

    deepest = (element(0x0040A160, f"nested level {depth}", explicit))
    # Keep tags ascending inside the deepest item: A010 < A040 < A160 < A730; PatientID-like
    # keys cannot follow (they sort first), so put them before by wrapping in the level elements.
    def level_elements_with_keys(i):
        base = level_elements(i)
        if i == depth:
            keys = (element(0x00100020, patient_id + "-DEEP", explicit) + element(0x00100021, "DEEP", explicit))
            return keys + base
        return base

    top = {
        0x00080005: "ISO_IR 100",
        0x00080016: sop_class,
        0x00080018: sop_instance,
        0x00080020: "20240101",
        0x00080030: "120000",
        0x00080050: "WIRE1",
        0x00080060: modality,
        0x00081030: f"nested sequence depth {depth}",
        0x0008103E: "nested",
        0x00100010: "WIRE^NESTED",
        0x00100020: patient_id,
        0x00100030: "19700101",
        0x00100040: "O",
        0x0020000D: study_uid,
        0x0020000E: series_uid,
        0x00200010: "1",
        0x00200011: "1",
        0x00200013: "1",
        0x0040A040: "CONTAINER",
        0x0040A491: "COMPLETE",
        0x0040A493: "UNVERIFIED",
    }
    other_ids = dataset({0x00100020: patient_id + "-OTHER", 0x00100021: "OTHER"}, explicit)
    top[0x00101002] = ("raw", sequence(0x00101002, [other_ids], explicit, defined_length))
    if depth > 0:
        top[tag_of(seq_tag)] = ("raw", _nested_chain(depth, seq_tag, level_elements_with_keys, deepest,
                                                     explicit, defined_length))
    if extra:
        top.update({tag_of(k): v for k, v in extra.items()})
    return dataset(top, explicit)


LEVEL_DEFAULT_KEYS = {
    "PATIENT": {"PatientName": None, "PatientID": None},
    "STUDY": {"StudyInstanceUID": None, "PatientID": None, "StudyDate": None, "ModalitiesInStudy": None,
              "AccessionNumber": None},
    "SERIES": {"SeriesInstanceUID": None, "Modality": None},
    "IMAGE": {"SOPInstanceUID": None, "SOPClassUID": None},
}


def find_identifier(level, keys=None, nested_depth=0, transfer_syntax="implicit", defined_length=False,
                    seq_tag=0x0040A730, nested_patient_id="WIRE-NESTED"):
    """A C-FIND identifier: QueryRetrieveLevel plus `keys` ({keyword or tag: value, None = universal};
    default: a few return keys for the level). With nested_depth > 0 it also carries a sequence
    (ContentSequence by default) nesting that many levels, whose deepest item holds a PatientID
    matching key (nested_patient_id), as a sequence matching key would."""
    explicit = transfer_syntax == "explicit"
    level = level.upper()
    keys = dict(LEVEL_DEFAULT_KEYS.get(level, {}) if keys is None else keys)
    pairs = [(0x00080052, level)] + [(tag_of(k), v) for k, v in keys.items()]
    if nested_depth > 0:
        def level_elements(i):
            if i == nested_depth:
                return element(0x00100020, nested_patient_id, explicit)
            return b""
        pairs.append((tag_of(seq_tag), ("raw", _nested_chain(nested_depth, seq_tag, level_elements,
                                                             element(0x0040A160, "", explicit),
                                                             explicit, defined_length))))
    return dataset(pairs, explicit)


def part10(data, sop_class, sop_instance, transfer_syntax=IMPLICIT_LE):
    """A DICOM Part 10 file: preamble, DICM, File Meta (explicit VR LE), then `data` as encoded."""
    meta = (element(0x00020001, b"\x00\x01", True, "OB") + element(0x00020002, uid_value(sop_class), True, "UI") +
            element(0x00020003, uid_value(sop_instance), True, "UI") +
            element(0x00020010, uid_value(transfer_syntax), True, "UI") +
            element(0x00020012, uid_value(IMPLEMENTATION_UID), True, "UI") +
            element(0x00020013, text_value(IMPLEMENTATION_VERSION), True, "SH"))
    return b"\0" * 128 + b"DICM" + element(0x00020000, ul_value(len(meta)), True, "UL") + meta + data


def parse_elements(data):
    """(group, element) → bytes of a flat implicit VR little endian data set (no sequences)."""
    out, offset = {}, 0
    while offset + 8 <= len(data):
        group, elem, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        if length == UNDEFINED:
            raise ProtocolError(f"undefined length in ({group:04x},{elem:04x}) of a command set")
        out[(group, elem)] = data[offset:offset + length]
        offset += length
    return out


# --------------------------------------------------------------------------- PDU builders

def pdu(kind, body, reserved=0, length=None):
    return struct.pack(">BBI", kind, reserved, len(body) if length is None else length) + body


def item(kind, payload, length=None):
    return struct.pack(">BBH", kind, 0, (len(payload) if length is None else length) & 0xFFFF) + payload


def presentation_context_item(pcid, abstract_syntax, transfer_syntaxes, kind=0x20):
    body = struct.pack(">BBBB", pcid, 0, 0, 0)
    if abstract_syntax is not None:
        body += item(0x30, abstract_syntax.encode() if isinstance(abstract_syntax, str) else abstract_syntax)
    for ts in transfer_syntaxes:
        body += item(0x40, ts.encode() if isinstance(ts, str) else ts)
    return item(kind, body)


def user_information_item(max_pdu=16384, implementation_uid=IMPLEMENTATION_UID,
                          version_name=IMPLEMENTATION_VERSION, extra=b""):
    body = item(0x51, struct.pack(">I", max_pdu))
    if implementation_uid is not None:
        body += item(0x52, implementation_uid.encode())
    if version_name is not None:
        body += item(0x55, version_name.encode())
    return item(0x50, body + extra)


def normalize_contexts(contexts):
    """[(abstract, [ts...])] or [(pcid, abstract, [ts...])] → [(pcid, abstract, [ts...])], pcids odd."""
    out, next_id = [], 1
    for c in contexts:
        if len(c) == 3:
            out.append(tuple(c))
        else:
            out.append((next_id, c[0], list(c[1])))
            next_id += 2
    return out


def associate_rq(called_ae, calling_ae, contexts, max_pdu=16384, application_context=APPLICATION_CONTEXT,
                 protocol_version=1, implementation_uid=IMPLEMENTATION_UID, version_name=IMPLEMENTATION_VERSION,
                 extra_user_items=b""):
    """A-ASSOCIATE-RQ PDU bytes."""
    variable = item(0x10, application_context.encode())
    for pcid, abstract, syntaxes in normalize_contexts(contexts):
        variable += presentation_context_item(pcid, abstract, syntaxes)
    variable += user_information_item(max_pdu, implementation_uid, version_name, extra_user_items)
    body = (struct.pack(">HH", protocol_version, 0) + ae_field(called_ae) + ae_field(calling_ae) + b"\0" * 32 +
            variable)
    return pdu(A_ASSOCIATE_RQ, body)


def release_rq():
    return pdu(A_RELEASE_RQ, b"\0" * 4)


def release_rp():
    return pdu(A_RELEASE_RP, b"\0" * 4)


def abort_pdu(source=0, reason=0):
    return pdu(A_ABORT, struct.pack(">BBBB", 0, 0, source, reason))


def pdv(pcid, control, data, length=None):
    """One PDV item: length (of data + 2), context id, message control header
    (bit 0: command, bit 1: last fragment)."""
    return struct.pack(">IBB", (len(data) + 2) if length is None else length, pcid, control) + data


def fragment_message(pcid, command, data, max_pdu):
    """P-DATA-TF PDUs carrying one message: the command set, then the data set, each split so that
    no PDU's length exceeds max_pdu (0 = unlimited), with the last-fragment bit on each last PDV."""
    room = (max_pdu - 6) if max_pdu else 1 << 30
    if room < 1:
        raise ValueError("max PDU too small")
    pdus = []
    for payload, base in ((command, 0x01), (data, 0x00)):
        if payload is None:
            continue
        chunks = [payload[i:i + room] for i in range(0, len(payload), room)] or [b""]
        for n, chunk in enumerate(chunks):
            pdus.append(pdu(P_DATA_TF, pdv(pcid, base | (0x02 if n == len(chunks) - 1 else 0), chunk)))
    return pdus


def command_set(fields):
    """An implicit VR LE group 0000 command set from {element number: value bytes}, with a correct
    CommandGroupLength (0000,0000)."""
    body = b"".join(struct.pack("<HHI", 0, e, len(v)) + v for e, v in sorted(fields.items()) if e != 0)
    return struct.pack("<HHI", 0, 0, 4) + struct.pack("<I", len(body)) + body


def echo_rq(message_id=1, sop_class=VERIFICATION):
    return command_set({0x0002: uid_value(sop_class), 0x0100: us_value(C_ECHO_RQ),
                        0x0110: us_value(message_id), 0x0800: us_value(NO_DATASET)})


def store_rq(sop_class, sop_instance, message_id=1, priority=0, move_originator=None):
    fields = {0x0002: uid_value(sop_class), 0x0100: us_value(C_STORE_RQ), 0x0110: us_value(message_id),
              0x0700: us_value(priority), 0x0800: us_value(0x0000), 0x1000: uid_value(sop_instance)}
    if move_originator:
        fields[0x1030] = text_value(move_originator[0])
        fields[0x1031] = us_value(move_originator[1])
    return command_set(fields)


def find_rq(sop_class, message_id=1, priority=0):
    return command_set({0x0002: uid_value(sop_class), 0x0100: us_value(C_FIND_RQ), 0x0110: us_value(message_id),
                        0x0700: us_value(priority), 0x0800: us_value(0x0000)})


def cancel_rq(message_id):
    return command_set({0x0100: us_value(C_CANCEL_RQ), 0x0120: us_value(message_id),
                        0x0800: us_value(NO_DATASET)})


def parse_associate_ac(payload):
    """→ {'called_ae', 'calling_ae', 'contexts': {pcid: (result, transfer syntax)}, 'max_pdu', 'implementation_uid',
    'version_name'}; raises ProtocolError on malformed input."""
    if len(payload) < 68:
        raise ProtocolError("A-ASSOCIATE-AC too short")
    out = {"called_ae": payload[4:20].decode("ascii", "replace").strip(),
           "calling_ae": payload[20:36].decode("ascii", "replace").strip(),
           "contexts": {}, "max_pdu": 0, "implementation_uid": None, "version_name": None}
    offset = 68
    while offset + 4 <= len(payload):
        kind, _, length = struct.unpack_from(">BBH", payload, offset)
        body = payload[offset + 4:offset + 4 + length]
        offset += 4 + length
        if kind == 0x21 and len(body) >= 4:
            pcid, result = body[0], body[2]
            ts, sub = None, 4
            while sub + 4 <= len(body):
                skind, _, slen = struct.unpack_from(">BBH", body, sub)
                if skind == 0x40:
                    ts = body[sub + 4:sub + 4 + slen].decode("ascii", "replace").rstrip("\0 ")
                sub += 4 + slen
            out["contexts"][pcid] = (result, ts)
        elif kind == 0x50:
            sub = 0
            while sub + 4 <= len(body):
                skind, _, slen = struct.unpack_from(">BBH", body, sub)
                sbody = body[sub + 4:sub + 4 + slen]
                if skind == 0x51 and slen == 4:
                    out["max_pdu"] = struct.unpack(">I", sbody)[0]
                elif skind == 0x52:
                    out["implementation_uid"] = sbody.decode("ascii", "replace").rstrip("\0 ")
                elif skind == 0x55:
                    out["version_name"] = sbody.decode("ascii", "replace").rstrip("\0 ")
                sub += 4 + slen
    return out


# --------------------------------------------------------------------------- association

class DimseResult:
    def __init__(self, command, datasets):
        self.command = command          # {(0x0000, elem): bytes}
        self.datasets = datasets        # data sets (raw bytes) received with the message(s)
        raw = command.get((0, 0x0900))
        self.status = struct.unpack("<H", raw)[0] if raw and len(raw) == 2 else None
        comment = command.get((0, 0x0902))
        self.error_comment = comment.decode("latin-1").rstrip("\0 ") if comment is not None else None

    @property
    def status_hex(self):
        return None if self.status is None else f"0x{self.status:04X}"

    def __repr__(self):
        return f"DimseResult(status={self.status_hex}, error_comment={self.error_comment!r}, datasets={len(self.datasets)})"


def is_loopback(host):
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def read_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        try:
            chunk = sock.recv(min(n - got, 1 << 20))
        except socket.timeout as e:
            raise ConnectionFailed(f"timed out reading from peer ({got}/{n} bytes)") from e
        except OSError as e:
            raise ConnectionFailed(f"read failed: {e}") from e
        if not chunk:
            raise ConnectionFailed("connection closed by peer")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_pdu(sock, limit=64 << 20):
    """→ (type, payload) of the next PDU."""
    kind, _, length = struct.unpack(">BBI", read_exact(sock, 6))
    if length > limit:
        raise ProtocolError(f"PDU type {kind:#x} claims {length} bytes")
    return kind, read_exact(sock, length)


# DICOM TLS for every connection (--tls CA CERT KEY): (ca, cert, key) or None.
TLS = None


def connect(host, port, timeout=30.0, connect_timeout=5.0):
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as e:
        raise ConnectionFailed(f"connect to {host}:{port} failed: {e}") from e
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if TLS is not None:
        ca, cert, key = TLS
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(ca)
        context.load_cert_chain(cert, key)
        try:
            sock = context.wrap_socket(sock)
        except (OSError, ssl.SSLError) as e:
            raise ConnectionFailed(f"TLS handshake with {host}:{port} failed: {e}") from e
    sock.settimeout(timeout)
    return sock


class Association:
    """One association over a raw socket. Open with Association.open(...)."""

    def __init__(self, sock, ac, contexts, our_max_pdu):
        self.sock = sock
        self.ac = ac
        self.proposed = {pcid: (abstract, syntaxes) for pcid, abstract, syntaxes in contexts}
        self.peer_max_pdu = ac["max_pdu"]
        self.our_max_pdu = our_max_pdu
        self.message_id = 0
        self.closed = False

    @classmethod
    def open(cls, host, port, called_ae="NETGW", calling_ae="WIRE", contexts=None, max_pdu=16384, timeout=30.0,
             connect_timeout=5.0, **rq_options):
        contexts = normalize_contexts(contexts or [(VERIFICATION, [IMPLICIT_LE])])
        sock = connect(host, port, timeout, connect_timeout)
        try:
            try:
                sock.sendall(associate_rq(called_ae, calling_ae, contexts, max_pdu, **rq_options))
            except OSError as e:
                raise ConnectionFailed(f"send failed: {e}") from e
            kind, payload = read_pdu(sock)
            if kind == A_ASSOCIATE_RJ:
                raise AssociationRejected(payload[1], payload[2], payload[3])
            if kind == A_ABORT:
                raise AssociationAborted(payload[2], payload[3])
            if kind != A_ASSOCIATE_AC:
                raise ProtocolError(f"expected A-ASSOCIATE-AC, got PDU type {kind:#x}")
            return cls(sock, parse_associate_ac(payload), contexts, max_pdu)
        except BaseException:
            sock.close()
            raise

    def accepted_context(self, abstract_syntax):
        """→ (pcid, transfer syntax) of an accepted context for the abstract syntax, or None."""
        for pcid, (result, ts) in sorted(self.ac["contexts"].items()):
            if result == 0 and self.proposed.get(pcid, (None,))[0] == abstract_syntax:
                return pcid, ts
        return None

    def next_message_id(self):
        self.message_id = self.message_id % 0xFFFF + 1
        return self.message_id

    def send(self, raw):
        try:
            self.sock.sendall(raw)
        except OSError as e:
            raise ConnectionFailed(f"send failed: {e}") from e

    def send_message(self, pcid, command, data=None, max_pdu=None):
        limit = self.peer_max_pdu if max_pdu is None else max_pdu
        for p in fragment_message(pcid, command, data, limit):
            self.send(p)

    def receive_message(self):
        """→ (command {(0,elem): bytes}, data set bytes or None, pcid). Raises on A-ABORT, A-RELEASE-RQ."""
        command, data = bytearray(), bytearray()
        cmd_done, fields, pcid = False, None, None
        while True:
            kind, payload = read_pdu(self.sock)
            if kind == A_ABORT:
                self.closed = True
                raise AssociationAborted(payload[2] if len(payload) > 2 else None,
                                         payload[3] if len(payload) > 3 else None)
            if kind == A_RELEASE_RQ:
                self.send(release_rp())
                self.closed = True
                raise ProtocolError("peer asked to release while a response was awaited")
            if kind != P_DATA_TF:
                raise ProtocolError(f"unexpected PDU type {kind:#x} while awaiting a DIMSE message")
            offset = 0
            while offset + 6 <= len(payload):
                (length,) = struct.unpack_from(">I", payload, offset)
                pcid, control = payload[offset + 4], payload[offset + 5]
                fragment = payload[offset + 6:offset + 4 + length]
                offset += 4 + length
                if control & 0x01:
                    command += fragment
                    if control & 0x02:
                        cmd_done = True
                        fields = parse_elements(bytes(command))
                        has_data = fields.get((0, 0x0800)) != us_value(NO_DATASET)
                        if not has_data:
                            return fields, None, pcid
                else:
                    data += fragment
                    if control & 0x02 and cmd_done:
                        return fields, bytes(data), pcid

    def request(self, abstract_syntax, command, data=None):
        """Send one request; wait for and return the first response as a DimseResult."""
        found = self.accepted_context(abstract_syntax)
        if not found:
            raise ProtocolError(f"no accepted presentation context for {abstract_syntax}")
        self.send_message(found[0], command, data)
        fields, ds, _ = self.receive_message()
        return DimseResult(fields, [ds] if ds is not None else [])

    def echo(self):
        return self.request(VERIFICATION, echo_rq(self.next_message_id()))

    def store(self, sop_class, sop_instance, data, priority=0):
        return self.request(sop_class, store_rq(sop_class, sop_instance, self.next_message_id(), priority), data)

    def find(self, model, identifier, priority=0, max_matches=None):
        """C-FIND; returns a DimseResult of the final response whose .datasets are the pending identifiers
        (raw bytes, in the accepted transfer syntax), .pending the number of pending responses."""
        found = self.accepted_context(model)
        if not found:
            raise ProtocolError(f"no accepted presentation context for {model}")
        message_id = self.next_message_id()
        self.send_message(found[0], find_rq(model, message_id, priority), identifier)
        datasets, pending = [], 0
        while True:
            fields, ds, _ = self.receive_message()
            result = DimseResult(fields, [])
            if result.status in (0xFF00, 0xFF01):
                pending += 1
                if ds is not None:
                    datasets.append(ds)
                if max_matches is not None and pending == max_matches:
                    self.send_message(found[0], cancel_rq(message_id))
                continue
            result.datasets = datasets
            result.pending = pending
            return result

    def release(self):
        """A-RELEASE-RQ; waits for A-RELEASE-RP; closes."""
        try:
            self.send(release_rq())
            while True:
                kind, _ = read_pdu(self.sock)
                if kind in (A_RELEASE_RP, A_ABORT):
                    return kind == A_RELEASE_RP
        finally:
            self.close()

    def abort(self, source=0, reason=0):
        try:
            self.sock.sendall(abort_pdu(source, reason))
        except OSError:
            pass
        self.close()

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------- script

def _result_json(op, args, started, extra, result=None, error=None):
    out = {"op": op, "host": args.host, "port": args.port}
    out.update(extra)
    if result is not None:
        out.update({"completed": True, "status": result.status, "status_hex": result.status_hex,
                    "error_comment": result.error_comment})
    if error is not None:
        out.update({"completed": False, "error": type(error).__name__, "detail": str(error)})
    out["timings_ms"]["total"] = round((time.monotonic() - started) * 1000, 2)
    return out


def _run(args):
    started = time.monotonic()
    timings = {}
    extra = {"timings_ms": timings}
    op = args.command

    def lap(name, t0):
        timings[name] = round((time.monotonic() - t0) * 1000, 2)

    ts_uid = EXPLICIT_LE if getattr(args, "transfer_syntax", "implicit") == "explicit" else IMPLICIT_LE
    t0 = time.monotonic()
    if op == "echo":
        contexts = [(VERIFICATION, [IMPLICIT_LE])]
    elif op == "store-nested":
        contexts = [(COMPREHENSIVE_SR, [ts_uid]), (VERIFICATION, [IMPLICIT_LE])]
        data = nested_sequence_dataset(args.depth, args.defined_length, args.transfer_syntax,
                                       sop_instance=new_uid())
        extra.update({"depth": args.depth, "defined_length": args.defined_length,
                      "transfer_syntax": args.transfer_syntax, "dataset_bytes": len(data)})
    else:  # find-nested
        model = STUDY_ROOT_FIND if args.model == "study" else PATIENT_ROOT_FIND
        contexts = [(model, [ts_uid]), (VERIFICATION, [IMPLICIT_LE])]
        data = find_identifier(args.level, None, args.depth, args.transfer_syntax, args.defined_length)
        extra.update({"depth": args.depth, "level": args.level.upper(), "defined_length": args.defined_length,
                      "transfer_syntax": args.transfer_syntax, "dataset_bytes": len(data)})
    lap("build", t0)
    t0 = time.monotonic()
    try:
        assoc = Association.open(args.host, args.port, args.called_ae, args.calling_ae, contexts, args.max_pdu,
                                 args.timeout)
    except WireError as e:
        lap("associate", t0)
        return _result_json(op, args, started, extra, error=e), 2
    lap("associate", t0)
    extra["peer_max_pdu"] = assoc.peer_max_pdu
    t0 = time.monotonic()
    try:
        if op == "echo":
            result = assoc.echo()
        elif op == "store-nested":
            sop_instance = _dataset_sop_instance(data)
            result = assoc.store(COMPREHENSIVE_SR, sop_instance, data)
            extra["sop_instance"] = sop_instance
        else:
            result = assoc.find(model, data)
            extra["matches"] = result.pending
            extra["match_bytes"] = [len(d) for d in result.datasets]
        lap("exchange", t0)
    except WireError as e:
        lap("exchange", t0)
        assoc.close()
        return _result_json(op, args, started, extra, error=e), 2
    t0 = time.monotonic()
    try:
        extra["released"] = assoc.release()
    except WireError as e:
        extra["released"] = False
        extra["release_error"] = str(e)
    lap("release", t0)
    return _result_json(op, args, started, extra, result=result), 0


def _dataset_sop_instance(data):
    """SOPInstanceUID (0008,0018) of a data set built here (implicit or explicit: look for the tag)."""
    marker = struct.pack("<HH", 0x0008, 0x0018)
    at = data.find(marker)
    if data[at + 4:at + 6] == b"UI":
        length = struct.unpack_from("<H", data, at + 6)[0]
        return data[at + 8:at + 8 + length].rstrip(b"\0").decode()
    length = struct.unpack_from("<I", data, at + 4)[0]
    return data[at + 8:at + 8 + length].rstrip(b"\0").decode()


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(64)


def main(argv=None):
    def connection_options(with_defaults):
        # The sub-commands take the same options (so they may come before or after the sub-command);
        # there they default to SUPPRESS so they do not overwrite what was given before it.
        p = _Parser(add_help=False)
        d = (lambda v: v) if with_defaults else (lambda v: argparse.SUPPRESS)
        p.add_argument("--host", default=d("127.0.0.1"), help="loopback only (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=d(11112))
        p.add_argument("--called-ae", default=d("NETGW"))
        p.add_argument("--calling-ae", default=d("WIRE"))
        p.add_argument("--timeout", type=float, default=d(60.0), help="seconds to wait for each read (default 60)")
        p.add_argument("--max-pdu", type=int, default=d(16384), help="max PDU we announce (default 16384)")
        p.add_argument("--tls", nargs=3, metavar=("CA", "CERT", "KEY"), default=d(None),
                       help="DICOM TLS: trusted CA file, our certificate and key (PEM)")
        return p

    common = connection_options(False)
    dataset_opts = _Parser(add_help=False)
    dataset_opts.add_argument("--defined-length", action="store_true")
    dataset_opts.add_argument("--transfer-syntax", choices=["implicit", "explicit"], default="implicit")

    parser = _Parser(description="Raw-socket DICOM UL client; prints one JSON line.",
                     parents=[connection_options(True)])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("echo", parents=[common])
    p = sub.add_parser("store-nested", parents=[common, dataset_opts])
    p.add_argument("depth", type=int)
    p = sub.add_parser("find-nested", parents=[common, dataset_opts])
    p.add_argument("depth", type=int)
    p.add_argument("--level", default="STUDY")
    p.add_argument("--model", choices=["study", "patient"], default="study")
    p = sub.add_parser("write-nested", parents=[dataset_opts], help="write a Part 10 file (no network)")
    p.add_argument("depth", type=int)
    p.add_argument("out")
    p.add_argument("--find", metavar="LEVEL", help="write a C-FIND identifier instead of a C-STORE data set")
    args = parser.parse_args(argv)

    if args.command == "write-nested":
        ts_uid = EXPLICIT_LE if args.transfer_syntax == "explicit" else IMPLICIT_LE
        if args.find:
            data = find_identifier(args.find, None, args.depth, args.transfer_syntax, args.defined_length)
            sop_class, sop_instance = STUDY_ROOT_FIND, new_uid()
        else:
            data = nested_sequence_dataset(args.depth, args.defined_length, args.transfer_syntax)
            sop_class, sop_instance = COMPREHENSIVE_SR, _dataset_sop_instance(data)
        with open(args.out, "wb") as f:
            f.write(part10(data, sop_class, sop_instance, ts_uid))
        print(json.dumps({"op": "write-nested", "depth": args.depth, "out": args.out, "dataset_bytes": len(data),
                          "transfer_syntax": args.transfer_syntax, "defined_length": args.defined_length}))
        return 0
    if not is_loopback(args.host):
        print(f"dicom_wire: refusing non-loopback host {args.host}", file=sys.stderr)
        return 64
    global TLS
    TLS = tuple(args.tls) if args.tls else None
    out, code = _run(args)
    print(json.dumps(out), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
