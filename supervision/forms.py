"""Forms of the evidence pages: input and layout only; the checks of the files live in ``services.evidence``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from .models import Evidence

# What the phone's picker offers (camera, gallery, files). A hint only: the server decides by content.
ACCEPT = "image/*,video/mp4,video/quicktime,video/webm,application/pdf,.pdf,.mp4,.mov,.webm"
MAX_FILES = 30


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (the picker's files and the camera's photo both post as ``files``).

    Size and type are the evidence service's to judge, per file, so that one bad file does not
    refuse the others; this field only collects them and limits how many come at once.
    """

    def __init__(self, *args, max_files: int = MAX_FILES, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": ACCEPT}))
        kwargs.setdefault("error_messages", {"required": _("请选择要上传的文件。")})
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("一次最多上传 {max_files} 个文件，请分批上传。").format(max_files=self.max_files), code="too_many"
            )
        return files


class EvidenceUploadForm(forms.Form):
    category = forms.ChoiceField(label="材料类别", choices=Evidence.Category.choices)
    files = MultipleFileField(label="选择文件")
