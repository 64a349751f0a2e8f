"""What a file is, told by its content (magic bytes), never by its name or claimed type.

The kinds Muhurta accepts are documents and pictures a consultant or client exchanges: PDF
reports, and PNG, JPEG, WebP or GIF images (a palm photo, a birth certificate scan).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass


class FileKind(enum.StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    GIF = "gif"
    # course media (lesson uploads only)
    MP4 = "mp4"
    WEBM = "webm"
    MP3 = "mp3"
    M4A = "m4a"
    OGG = "ogg"
    WAV = "wav"


@dataclass(frozen=True)
class KindInfo:
    content_type: str
    extensions: tuple[str, ...]
    label: str


KINDS: dict[FileKind, KindInfo] = {
    FileKind.PDF: KindInfo("application/pdf", ("pdf",), "a PDF document"),
    FileKind.PNG: KindInfo("image/png", ("png",), "a PNG image"),
    FileKind.JPEG: KindInfo("image/jpeg", ("jpg", "jpeg", "jpe"), "a JPEG image"),
    FileKind.WEBP: KindInfo("image/webp", ("webp",), "a WebP image"),
    FileKind.GIF: KindInfo("image/gif", ("gif",), "a GIF image"),
    FileKind.MP4: KindInfo("video/mp4", ("mp4", "m4v"), "an MP4 video"),
    FileKind.WEBM: KindInfo("video/webm", ("webm",), "a WebM video"),
    FileKind.MP3: KindInfo("audio/mpeg", ("mp3",), "an MP3 audio file"),
    FileKind.M4A: KindInfo("audio/mp4", ("m4a",), "an M4A audio file"),
    FileKind.OGG: KindInfo("audio/ogg", ("ogg", "oga", "opus"), "an Ogg audio file"),
    FileKind.WAV: KindInfo("audio/wav", ("wav",), "a WAV audio file"),
}
# What people exchange as files (uploads, reports); course media is accepted only on lessons.
DOCUMENT_KINDS = frozenset({FileKind.PDF, FileKind.PNG, FileKind.JPEG, FileKind.WEBP, FileKind.GIF})
VIDEO_KINDS = frozenset({FileKind.MP4, FileKind.WEBM})
AUDIO_KINDS = frozenset({FileKind.MP3, FileKind.M4A, FileKind.OGG, FileKind.WAV})
MEDIA_KINDS = VIDEO_KINDS | AUDIO_KINDS

# Extensions of kinds we refuse, so that a mismatch names them ("named .exe") too.
_OTHER_EXTENSIONS = {"exe", "dll", "bat", "cmd", "sh", "js", "html", "htm", "svg", "zip", "doc", "docx",
                     "xls", "xlsx", "txt", "tif", "tiff", "bmp", "heic"}


def sniff(data: bytes) -> FileKind | None:
    """The kind of `data` by its first bytes, or None if it is none we accept."""
    if data.startswith(b"%PDF-"):
        return FileKind.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FileKind.WEBP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return FileKind.GIF
    return _sniff_media(data)


def _sniff_media(data: bytes) -> FileKind | None:
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return FileKind.M4A if data[8:12] in (b"M4A ", b"M4B ") else FileKind.MP4
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return FileKind.WEBM
    if data.startswith(b"ID3") or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return FileKind.MP3
    if data.startswith(b"OggS"):
        return FileKind.OGG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return FileKind.WAV
    return None


def describe(data: bytes) -> str:
    """A few words on what unaccepted content looks like, for the error a person reads."""
    if not data:
        return "an empty file"
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an Office document)"
    if data.startswith(b"MZ"):
        return "a Windows program"
    if data.startswith(b"\x7fELF"):
        return "a program"
    head = data[:256].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml")):
        return "HTML/XML text"
    return "a file of an unsupported type"


class FileRejected(ValueError):
    """Why content is refused, in words a person can act on."""


def check_content(data: bytes, *, filename: str | None, allowed: frozenset[FileKind]) -> FileKind:
    """The file's kind if it is one of `allowed` and whole, else FileRejected.

    The name is not trusted to tell the kind, but a name that says one kind while the content
    is another is refused too: whoever opens it later would be misled (and such files are a
    classic disguise).
    """
    kind = sniff(data)
    labels = [KINDS[k].label for k in sorted(allowed)]
    wanted = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    if kind is None:
        raise FileRejected(f"this is {describe(data)}; upload {wanted}")
    if kind not in allowed:
        raise FileRejected(f"this file is {KINDS[kind].label}; upload {wanted}")
    extension = extension_of(filename)
    if extension and extension not in KINDS[kind].extensions:
        claimed = next((info.label for info in KINDS.values() if extension in info.extensions), None)
        if claimed or extension in _OTHER_EXTENSIONS:
            raise FileRejected(f"the file is named .{extension} but its content is {KINDS[kind].label}; "
                               "rename it or upload the right file")
    if kind == FileKind.PDF and b"%%EOF" not in data[-2048:]:
        raise FileRejected("this PDF is incomplete (no end-of-file marker); upload it again")
    return kind


def extension_of(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].strip().lower() or None


def _safe_char(ch: str) -> bool:
    # letters, marks (the vowel signs of Devanagari and other scripts), digits, and a few signs
    return unicodedata.category(ch)[0] in "LMN" or ch in "._- ()"


def display_name(filename: str | None, kind: FileKind, fallback: str = "file") -> str:
    """A name safe to show and to offer in Content-Disposition: no paths, no control
    characters, at most 120 characters, ending with the extension of the real kind."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub("_+", "_", "".join(ch if _safe_char(ch) else "_" for ch in stem)).strip(" ._") or fallback
    return f"{stem[:100]}.{KINDS[kind].extensions[0]}"
