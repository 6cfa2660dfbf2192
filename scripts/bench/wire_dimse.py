"""A minimal DIMSE client written against the wire format (PS3.8 PDUs, PS3.7 command sets), shared
by the benchmarks' wire-level SCUs (wire_find.py's C-FIND, dicomweb_seed.py's C-STORE): it keeps
one association open and does nothing but encode, send and read, so that a toolkit's own
overhead (pynetdicom polls its socket with 1 ms sleeps and decodes in Python; DCMTK's tools start
a process per operation) is not in the figure.

Implicit VR Little Endian only; one presentation context; messages sent as one P-DATA-TF each;
responses reassembled from PDVs."""
import socket
import struct

IMPLICIT_LE = "1.2.840.10008.1.2"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"


def uid(value):
    """A UI value, padded with NUL to even length."""
    raw = value.encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw


def text(value):
    """A text value, padded with a space to even length."""
    raw = value.encode("ascii")
    return raw + b" " if len(raw) % 2 else raw


def us(value):
    return struct.pack("<H", value)


def element(group, element_, value):
    """One element of an implicit VR little endian data set."""
    return struct.pack("<HHI", group, element_, len(value)) + value


def elements(data):
    """(group, element) -> bytes of an implicit VR little endian data set (no sequences)."""
    out, offset = {}, 0
    while offset + 8 <= len(data):
        group, element_, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        out[(group, element_)] = data[offset:offset + length]
        offset += length
    return out


def item(kind, payload):
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def pdv(context_id, control, data):
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data


def command(fields):
    """A command set: its group length, then `fields` (already encoded elements of group 0000)."""
    return element(0x0000, 0x0000, struct.pack("<I", len(fields))) + fields


class Association:
    """One association with one presentation context (`sop_class`, Implicit VR Little Endian)."""

    def __init__(self, host, port, called, calling, sop_class, max_pdu=65536):
        self.sop_class = sop_class
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.message_id = 0
        context = struct.pack(">BBBB", 1, 0, 0, 0) + item(0x30, sop_class.encode()) + item(0x40, IMPLICIT_LE.encode())
        variable = (item(0x10, APPLICATION_CONTEXT.encode()) + item(0x20, context) +
                    item(0x50, item(0x51, struct.pack(">I", max_pdu))))
        body = struct.pack(">HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + b"\0" * 32 + variable
        self.sock.sendall(struct.pack(">BBI", 0x01, 0, len(body)) + body)
        kind, payload = self.read_pdu()
        if kind != 0x02:
            raise RuntimeError(f"{called}: association not accepted (PDU type {kind:#x})")
        # The presentation context's result is in its item (type 0x21): byte 2 of the item body.
        offset = 68
        while offset < len(payload):
            item_type, _, length = struct.unpack_from(">BBH", payload, offset)
            if item_type == 0x21 and payload[offset + 6] != 0:
                raise RuntimeError(f"{called}: presentation context refused")
            offset += 4 + length

    def next_message_id(self):
        self.message_id = (self.message_id % 0xFFFF) + 1
        return self.message_id

    def read_exact(self, n):
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(n - got)
            if not chunk:
                raise RuntimeError("connection closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def read_pdu(self):
        kind, _, length = struct.unpack(">BBI", self.read_exact(6))
        return kind, self.read_exact(length)

    def send_message(self, command_set, dataset=None):
        pdvs = pdv(1, 0x03, command_set) + (pdv(1, 0x02, dataset) if dataset is not None else b"")
        self.sock.sendall(struct.pack(">BBI", 0x04, 0, len(pdvs)) + pdvs)

    def fragments(self):
        """The PDV fragments the peer sends, as (control header, bytes), one P-DATA-TF at a time."""
        while True:
            kind, payload = self.read_pdu()
            if kind != 0x04:
                raise RuntimeError(f"unexpected PDU type {kind:#x}")
            offset = 0
            while offset < len(payload):
                (length,) = struct.unpack_from(">I", payload, offset)
                yield payload[offset + 5], payload[offset + 6:offset + 4 + length]
                offset += 4 + length

    def release(self):
        self.sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + b"\0" * 4)
        try:
            self.read_pdu()
        finally:
            self.sock.close()
