"""Audio and Office files recognised by their bytes (supervision.imaging), only where the study library asks."""

import io

import pytest

from supervision import imaging
from supervision.imaging import UploadRejected, check_upload, sniff, sniff_audio, sniff_office
from tests.study.videos import make_audio, needs_ffmpeg, office_bytes

MPEG1_LAYER3_128K = b"\xff\xfb\x90\x64" + bytes(60)


def test_mpeg_audio_frames_adts_wav_ogg_flac_and_amr_are_audio():
    assert sniff_audio(b"ID3\x04\x00" + bytes(20)) is imaging.MP3
    assert sniff_audio(MPEG1_LAYER3_128K) is imaging.MP3
    assert sniff_audio(b"\xff\xf1\x50\x80" + bytes(20)) is imaging.AAC
    assert sniff_audio(b"RIFF\x24\x00\x00\x00WAVEfmt ") is imaging.WAV
    assert sniff_audio(b"OggS\x00\x02" + bytes(20)) is imaging.OGG
    assert sniff_audio(b"fLaC\x00\x00\x00\x22") is imaging.FLAC
    assert sniff_audio(b"#!AMR\n" + bytes(10)) is imaging.AMR


def test_frame_sync_bits_without_a_valid_header_are_not_mp3():
    assert sniff_audio(b"\xff\xfb\xf0\x64") is None  # bitrate index 15 is forbidden
    assert sniff_audio(b"\xff\xeb\x90\x64") is None  # version bits 01 are reserved
    assert sniff_audio(b"\xff\xfb\x9c\x64") is None  # sample-rate index 3 is reserved
    assert sniff_audio(b"RIFF\x24\x00\x00\x00WEBPVP8 ") is None


@needs_ffmpeg
def test_an_m4a_is_audio_for_the_library_and_still_nothing_for_evidence(tmp_path):
    data = make_audio(tmp_path / "a.m4a").read_bytes()

    assert sniff(data[:1024]) is None
    assert sniff_audio(data[:1024]) is imaging.M4A
    assert check_upload(io.BytesIO(data), kinds=(imaging.AUDIO,), max_pixels=10**6) is imaging.M4A
    with pytest.raises(UploadRejected):
        check_upload(io.BytesIO(data), category="other", max_pixels=10**6)


@pytest.mark.parametrize(
    ("main", "expected"),
    [
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", imaging.DOCX),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", imaging.XLSX),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", imaging.PPTX),
        ("application/vnd.ms-word.document.macroEnabled.main+xml", None),  # .docm: macros are not taken
        ("application/zip", None),
    ],
)
def test_an_office_file_is_a_zip_whose_content_types_name_its_main_part(main, expected):
    assert sniff_office(io.BytesIO(office_bytes(main))) is expected


def test_a_damaged_or_plain_zip_is_not_an_office_file():
    data = office_bytes()
    assert sniff_office(io.BytesIO(data[: len(data) // 2])) is None  # the central directory is gone
    assert sniff_office(io.BytesIO(b"PK\x03\x04" + bytes(100))) is None
    assert sniff_office(io.BytesIO(b"%PDF-1.4")) is None


def test_office_files_are_refused_where_evidence_is_uploaded():
    with pytest.raises(UploadRejected) as refused:
        check_upload(io.BytesIO(office_bytes()), category="other", max_pixels=10**6)
    assert "文件内容不是可接受的格式" in refused.value.message
