"""Which encoding a Shapefile's attribute table (.dbf) is in, when no .cpg file says so.

Land-bureau Shapefiles are often GBK without a ``.cpg``; read as UTF-8 or Latin-1 their
names become mojibake (天河村 → 'ÌìºÓ´å'). The text fields of the .dbf are decoded: valid
UTF-8 is UTF-8, otherwise valid GBK (GB18030) is GBK; anything else is reported.
"""

from __future__ import annotations

import struct
from pathlib import Path

from coverage.errors import ProblemLog

LDID_ENCODINGS: dict[int, str] = {0x4D: "GBK", 0x7A: "GBK", 0x57: "CP1252", 0x03: "CP1252"}
"""dBASE language-driver IDs (byte 29 of the header) that name an encoding."""

MAX_BYTES = 4 << 20
"""Text bytes examined at most (4 MiB)."""


def dbf_text_bytes(dbf: Path) -> bytes:
    """The raw bytes of every character field of the .dbf (records concatenated)."""
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return b""
        n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        fields = []
        offset = 1  # deletion flag
        while True:
            desc = fh.read(32)
            if len(desc) < 32 or desc[0] == 0x0D:
                break
            ftype, flen = chr(desc[11]), desc[16]
            if ftype == "C":
                fields.append((offset, flen))
            offset += flen
        if not fields:
            return b""
        fh.seek(header_len)
        out = bytearray()
        for _ in range(n_records):
            rec = fh.read(record_len)
            if len(rec) < record_len:
                break
            for off, length in fields:
                out += rec[off:off + length].rstrip(b" \x00") + b"\n"
            if len(out) > MAX_BYTES:
                break
    return bytes(out)


def shapefile_encoding(shp: Path, label: str, log: ProblemLog) -> str | None:
    """The encoding to read a Shapefile's attributes with (None: GDAL's own choice).

    With a ``.cpg`` file GDAL knows; otherwise the .dbf's text decides (see the module).
    Logs a note when GBK is chosen and a warning naming the file when neither fits.
    """
    if shp.with_suffix(".cpg").is_file() or shp.with_suffix(".CPG").is_file():
        return None
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.is_file()),
               None)
    if dbf is None:
        return None
    try:
        raw = dbf_text_bytes(dbf)
        with dbf.open("rb") as fh:
            head = fh.read(32)
    except OSError:
        return None
    if not raw or raw.isascii():
        return None
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        ldid = head[29] if len(head) > 29 else 0
        log.add(label, "Shapefile 没有 .cpg 文件，属性表文字既不是 UTF-8 也不是 GBK，中文名称可能是"
                "乱码", f"在 {shp.stem}.cpg 中写明编码（如 UTF-8 或 GBK），或用 QGIS 另存为 "
                "GeoPackage" + (f"（.dbf 语言标记 0x{ldid:02X}）" if ldid else ""),
                severity="warning")
        return None
    log.add(label, "Shapefile 没有 .cpg 文件，属性表按 GBK 编码读取（文字不是有效的 UTF-8）",
            f"无需处理；可加 {shp.stem}.cpg（内容 GBK）使之明确", severity="note")
    return "GBK"
