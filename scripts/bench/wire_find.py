"""A minimal C-FIND SCU written against the wire format (PS3.8 PDUs, PS3.7 command sets), for
timing a C-FIND SCP without a toolkit's own overhead in the figure. pynetdicom's SCU polls its
socket with 1 ms sleeps between events and decodes in Python, which adds about 12 ms to a
10-match query on this machine; DCMTK's findscu starts a process per query. This client keeps
one association open and does nothing but encode, send and count.

Implicit VR Little Endian only; one presentation context; no fragmentation beyond what the
peer sends (responses are reassembled from PDVs)."""
import socket
import struct

IMPLICIT_LE = "1.2.840.10008.1.2"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"


def _uid(value):
    raw = value.encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw


def _text(value):
    raw = value.encode("ascii")
    return raw + b" " if len(raw) % 2 else raw


def _element(group, element, value):
    return struct.pack("<HHI", group, element, len(value)) + value


def _item(kind, payload):
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _elements(data):
    """(group, element) -> bytes of an implicit VR little endian data set (no sequences)."""
    out, offset = {}, 0
    while offset + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        out[(group, element)] = data[offset:offset + length]
        offset += length
    return out


class FindClient:
    def __init__(self, host, port, called, calling, sop_class, max_pdu=65536):
        self.sop_class = sop_class
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.message_id = 0
        context = (struct.pack(">BBBB", 1, 0, 0, 0) + _item(0x30, sop_class.encode()) +
                   _item(0x40, IMPLICIT_LE.encode()))
        variable = (_item(0x10, APPLICATION_CONTEXT.encode()) + _item(0x20, context) +
                    _item(0x50, _item(0x51, struct.pack(">I", max_pdu))))
        body = struct.pack(">HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + b"\0" * 32 + variable
        self.sock.sendall(struct.pack(">BBI", 0x01, 0, len(body)) + body)
        kind, payload = self._read_pdu()
        if kind != 0x02:
            raise RuntimeError(f"association not accepted (PDU type {kind:#x})")
        # The presentation context's result is in its item (type 0x21): byte 2 of the item body.
        offset = 68
        while offset < len(payload):
            item_type, _, length = struct.unpack_from(">BBH", payload, offset)
            if item_type == 0x21 and payload[offset + 6] != 0:
                raise RuntimeError("presentation context refused")
            offset += 4 + length

    def _read_exact(self, n):
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(n - got)
            if not chunk:
                raise RuntimeError("connection closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _read_pdu(self):
        kind, _, length = struct.unpack(">BBI", self._read_exact(6))
        return kind, self._read_exact(length)

    def _send_message(self, command, dataset):
        pdvs = _item_pdv(1, 0x03, command) + _item_pdv(1, 0x02, dataset)
        self.sock.sendall(struct.pack(">BBI", 0x04, 0, len(pdvs)) + pdvs)

    def find(self, keys):
        """keys: [(group, element, text or None for universal)] in ascending tag order.
        Returns the number of pending matches; raises on a failure status."""
        self.message_id = (self.message_id % 0xFFFF) + 1
        fields = (_element(0x0000, 0x0002, _uid(self.sop_class)) + _element(0x0000, 0x0100, struct.pack("<H", 0x0020)) +
                  _element(0x0000, 0x0110, struct.pack("<H", self.message_id)) +
                  _element(0x0000, 0x0700, struct.pack("<H", 0)) + _element(0x0000, 0x0800, struct.pack("<H", 0)))
        command = _element(0x0000, 0x0000, struct.pack("<I", len(fields))) + fields
        dataset = b"".join(_element(g, e, _text(v) if v else b"") for g, e, v in keys)
        self._send_message(command, dataset)
        matches, command_bytes, data_bytes = 0, b"", b""
        waiting_for_data = False
        while True:
            kind, payload = self._read_pdu()
            if kind != 0x04:
                raise RuntimeError(f"unexpected PDU type {kind:#x}")
            offset = 0
            while offset < len(payload):
                (length,) = struct.unpack_from(">I", payload, offset)
                control = payload[offset + 5]
                fragment = payload[offset + 6:offset + 4 + length]
                offset += 4 + length
                if control & 0x01:
                    command_bytes += fragment
                    if not control & 0x02:
                        continue
                    fields = _elements(command_bytes)
                    command_bytes = b""
                    status = struct.unpack("<H", fields[(0x0000, 0x0900)])[0]
                    has_data = struct.unpack("<H", fields[(0x0000, 0x0800)])[0] != 0x0101
                    if status in (0xFF00, 0xFF01):
                        waiting_for_data = has_data
                        if not has_data:
                            matches += 1
                        continue
                    if status != 0x0000:
                        raise RuntimeError(f"C-FIND failed with status {status:#06x}")
                    return matches
                else:
                    data_bytes += fragment
                    if control & 0x02 and waiting_for_data:
                        matches += 1
                        data_bytes, waiting_for_data = b"", False

    def release(self):
        self.sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + b"\0" * 4)
        try:
            self._read_pdu()
        finally:
            self.sock.close()


def _item_pdv(context_id, control, data):
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data
