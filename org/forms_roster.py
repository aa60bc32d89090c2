"""The roster upload form: the checks that need only the uploaded file's size."""

from django import forms
from django.utils.translation import gettext as _

from .roster import MAX_UPLOAD_BYTES


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="党员名册文件",
        help_text=f"请使用下载的模板填写，Excel（.xlsx）格式，不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。",
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件超过 {value} MB，请拆分后分批导入。").format(value=MAX_UPLOAD_BYTES // 1024 // 1024),
                code="too_large",
            )
        return upload
