"""Independent TFRecord reading for the event-file checks: CRC-32C bit by bit from its definition
(not ctnn's code), both CRCs of every record verified. Shared by check_events.py and
check_callback_logdir.py."""
import struct


def crc32c(data: bytes) -> int:
    """CRC-32C, bit by bit from the definition (reflected poly 0x82F63B78, init/xorout ~0)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path):
    """Splits a TFRecord file, verifying both CRCs of every record; returns the payloads."""
    raw = open(path, "rb").read()
    records, pos = [], 0
    while pos < len(raw):
        assert len(raw) - pos >= 12, f"{path}: truncated header at {pos}"
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        assert length_crc == masked_crc32c(header), f"{path}: bad length crc at {pos}"
        assert pos + 12 + length + 4 <= len(raw), f"{path}: truncated record at {pos}"
        payload = raw[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        assert data_crc == masked_crc32c(payload), f"{path}: bad data crc at {pos}"
        records.append(payload)
        pos += 16 + length
    return records


def f32(x):
    """x rounded to float32, as the writer stores it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]
