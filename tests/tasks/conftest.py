import pytest


@pytest.fixture(autouse=True)
def _evidence_storage(settings, tmp_path):
    """Every test writes its report files under its own temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None},
        },
    }
    return tmp_path / "evidence"
