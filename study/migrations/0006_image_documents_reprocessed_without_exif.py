"""Image documents uploaded before the worker made their copy without EXIF go back to 待处理.

They were marked 可用 at upload and served as uploaded; now only the worker's clean copy is
served, so the sweep (``sweep_study_media``) queues them again. Post photos need nothing here:
their new ``status`` starts 处理中 and the same sweep processes them.
"""

from django.db import migrations


def requeue_image_documents(apps, schema_editor):
    StudyMedia = apps.get_model("study", "StudyMedia")
    StudyMedia.objects.filter(item__kind="document", content_type__startswith="image/", playable="").update(
        status="pending", processed_at=None
    )


class Migration(migrations.Migration):
    dependencies = [("study", "0005_post_photos_served_without_exif")]

    operations = [migrations.RunPython(requeue_image_documents, migrations.RunPython.noop)]
