"""The evidence pages for every role: gallery, upload, downloads, deletion, locks, limits and query counts."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse

from supervision.models import Evidence, SupervisionPolicy
from supervision.services import evidence as services
from tests.conftest import client_for
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_evidence_upload import (
    NOW,
    pixel_bomb_png,
    png_bytes,
    read_stored,
    sample,
    stored_files,
    upload,
    upload_and_process,
)

ROLES = ["secretary", "member", "other_secretary", "supervisor", "anonymous"]
SEES = {"secretary", "member", "supervisor"}


@pytest.fixture
def meeting(branch):
    return meeting_held(branch, start=local(2026, 5, 10, 9), status="held")


@pytest.fixture
def photo(meeting, secretary):
    return upload_and_process(meeting, secretary, "gps_DSCN0010.jpg", sample("gps_DSCN0010.jpg"))


def refused(response, role, url):
    """Anonymous is sent to log in; a role that cannot see the meeting gets 404, one that sees it 403."""
    if role == "anonymous":
        return response.status_code == 302 and response.url == f"{reverse('login')}?next={url}"
    return response.status_code == (403 if role in SEES else 404)


def every_limit_1_mb():
    limits = ["photo_max_mb", "signin_max_mb", "scan_max_mb", "video_max_mb", "other_max_mb"]
    SupervisionPolicy.objects.update_or_create(pk=1, defaults=dict.fromkeys(limits, 1))


def snapshot(root):
    return list(Evidence.objects.order_by("pk").values()), stored_files(root)


# --- Every view, every role --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_evidence_page_is_shown_to_those_who_see_the_meeting(client, people, meeting, photo, role):
    url = reverse("supervision:meeting_evidence", args=[meeting.pk])

    response = client_for(client, people[role]).get(url)

    if role in SEES:
        assert response.status_code == 200
        html = response.content.decode()
        assert "gps_DSCN0010.jpg" in html
        assert reverse("supervision:evidence_thumbnail", args=[photo.pk]) in html
        assert (reverse("supervision:evidence_upload", args=[meeting.pk]) in html) == (role == "secretary")
        assert (reverse("supervision:evidence_delete", args=[photo.pk]) in html) == (role == "secretary")
        # Capture time, position and camera are data for supervisors, not for the branch's members.
        assert ("43.467448" in html) == (role == "supervisor")
        assert ("2008-10-22 16:28" in html) == (role == "supervisor")
    else:
        assert refused(response, role, url)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_the_branchs_managers_may_upload(client, people, meeting, photo, role, _evidence_storage):
    url = reverse("supervision:evidence_upload", args=[meeting.pk])
    before = snapshot(_evidence_storage)

    response = client_for(client, people[role]).post(
        url, {"category": "photo", "files": [upload("new.png", png_bytes())]}
    )

    if role == "secretary":
        assert response.status_code == 302
        assert response.url == reverse("supervision:meeting_evidence", args=[meeting.pk])
        assert list(Evidence.objects.order_by("pk").values_list("original_name", flat=True)) == [
            "gps_DSCN0010.jpg",
            "new.png",
        ]
    else:
        assert refused(response, role, url)
        assert snapshot(_evidence_storage) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", ["supervision:evidence_file", "supervision:evidence_thumbnail"])
def test_a_file_is_served_only_to_those_who_see_its_meeting(client, people, meeting, photo, role, view):
    url = reverse(view, args=[photo.pk])

    response = client_for(client, people[role]).get(url)

    if role in SEES:
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    else:
        assert refused(response, role, url) if role == "anonymous" else response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_the_branchs_managers_may_delete(
    client, people, meeting, photo, role, _evidence_storage, django_capture_on_commit_callbacks
):
    url = reverse("supervision:evidence_delete", args=[photo.pk])
    before = snapshot(_evidence_storage)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(client, people[role]).post(url)

    if role == "secretary":
        assert response.status_code == 302
        assert not Evidence.objects.exists()
        assert stored_files(_evidence_storage) == []
    else:
        assert refused(response, role, url)
        assert snapshot(_evidence_storage) == before


@pytest.mark.django_db
def test_delete_and_upload_refuse_get(client, secretary, meeting, photo):
    c = client_for(client, secretary)

    assert c.get(reverse("supervision:evidence_delete", args=[photo.pk])).status_code == 405
    assert c.get(reverse("supervision:evidence_upload", args=[meeting.pk])).status_code == 405
    assert Evidence.objects.filter(pk=photo.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["submitted", "approved"])
@pytest.mark.parametrize("role", ["secretary", "member", "supervisor"])
def test_a_submitted_or_approved_meeting_refuses_upload_and_delete_through_the_views(
    client, people, meeting, photo, status, role, _evidence_storage, django_capture_on_commit_callbacks
):
    meeting.status = status
    meeting.save(update_fields=["status"])
    before = snapshot(_evidence_storage)
    c = client_for(client, people[role])

    with django_capture_on_commit_callbacks(execute=True):
        uploaded = c.post(
            reverse("supervision:evidence_upload", args=[meeting.pk]),
            {"category": "photo", "files": [upload("late.png", png_bytes())]},
        )
        deleted = c.post(reverse("supervision:evidence_delete", args=[photo.pk]))
    page = c.get(reverse("supervision:meeting_evidence", args=[meeting.pk])).content.decode()

    if role == "secretary":
        # The record's own manager is told why.
        assert uploaded.status_code == deleted.status_code == 302
        assert services.LOCKED_MESSAGE in page
    else:
        assert uploaded.status_code == deleted.status_code == 403
    assert 'id="evidence-upload"' not in page
    assert "evidence-delete" not in page
    assert snapshot(_evidence_storage) == before


# --- Downloads ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_download_is_an_attachment_with_nosniff_and_the_served_type(client, member, meeting, photo):
    response = client_for(client, member).get(reverse("supervision:evidence_file", args=[photo.pk]))

    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="gps_DSCN0010.jpg"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body == read_stored(photo.file.name)
    assert body != read_stored(photo.original.name)


@pytest.mark.django_db
def test_a_thumbnail_is_shown_inline_with_nosniff(client, member, meeting, photo):
    response = client_for(client, member).get(reverse("supervision:evidence_thumbnail", args=[photo.pk]))

    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == read_stored(photo.thumbnail.name)


@pytest.mark.django_db
def test_a_pdf_download_keeps_its_type_and_a_png_is_served_as_jpeg(client, secretary, meeting):
    from tests.supervision.test_evidence_upload import pdf_bytes

    scan = upload_and_process(meeting, secretary, "记录.pdf", pdf_bytes(), category=Evidence.Category.MINUTES_SCAN)
    png = upload_and_process(meeting, secretary, "图.png", png_bytes())
    c = client_for(client, secretary)

    pdf_response = c.get(reverse("supervision:evidence_file", args=[scan.pk]))
    png_response = c.get(reverse("supervision:evidence_file", args=[png.pk]))

    assert pdf_response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''%E8%AE%B0%E5%BD%95.pdf" in pdf_response["Content-Disposition"]
    assert png_response["Content-Type"] == "image/jpeg"
    assert "%E5%9B%BE.jpg" in png_response["Content-Disposition"]
    assert c.get(reverse("supervision:evidence_thumbnail", args=[scan.pk])).status_code == 404


@pytest.mark.django_db
def test_a_file_still_processing_is_not_served_and_says_why(client, secretary, meeting):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))], category="photo", user=secretary, now=NOW, meeting=meeting
    ).saved
    c = client_for(client, secretary)

    for view in ("supervision:evidence_file", "supervision:evidence_thumbnail"):
        response = c.get(reverse(view, args=[ev.pk]))
        assert response.status_code == 404
        assert "正在处理中" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_evidence_id_is_a_404(client, secretary):
    assert client_for(client, secretary).get(reverse("supervision:evidence_file", args=[999999])).status_code == 404


# --- Uploads through the page ------------------------------------------------------------


@pytest.mark.django_db
def test_several_files_through_the_page_keep_the_good_ones_and_name_the_bad_one(
    client, secretary, meeting, _evidence_storage
):
    url = reverse("supervision:evidence_upload", args=[meeting.pk])
    c = client_for(client, secretary)

    response = c.post(
        url,
        {
            "category": "photo",
            "files": [
                upload("一.jpg", sample("gps_DSCN0038.jpg")),
                upload("坏.jpg", sample("corrupted.jpg")),
                upload("二.jpg", sample("gps_DSCN0040.jpg")),
            ],
        },
        follow=True,
    )

    html = response.content.decode()
    assert "已上传 2 个文件" in html
    assert "坏.jpg：" in html
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == ["一.jpg", "二.jpg"]
    assert html.count('class="badge text-bg-secondary evidence-processing"') == 2


@pytest.mark.django_db
def test_a_pixel_bomb_through_the_page_gets_a_clear_400_within_a_second(client, secretary, meeting, _evidence_storage):
    c = client_for(client, secretary)

    started = time.perf_counter()
    response = c.post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload("bomb.png", pixel_bomb_png())]},
    )
    elapsed = time.perf_counter() - started

    assert response.status_code == 400
    assert "bomb.png：" in response.content.decode()
    assert elapsed < 1.0
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_a_file_larger_than_every_limit_is_cut_off_while_it_streams_and_the_others_are_kept(
    client, secretary, meeting, _evidence_storage
):
    every_limit_1_mb()
    too_big = png_bytes() + b"\x00" * (1024 * 1024 + 300_000)  # 1.3 MB: over the largest limit (1 MB)

    c = client_for(client, secretary)
    response = c.post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload("大.png", too_big), upload("小.png", png_bytes())]},
    )

    # Cut off by the upload handler as it passed 1 MB, before it reached the service.
    assert response.wsgi_request.evidence_oversized == ["大.png"]
    assert [f.name for f in response.wsgi_request.FILES.getlist("files")] == ["小.png"]
    html = c.get(response.url).content.decode()
    assert "大.png：文件过大：「会议照片」单个文件不能超过 1 MB。" in html
    assert list(Evidence.objects.values_list("original_name", flat=True)) == ["小.png"]
    assert len(stored_files(_evidence_storage)) == 1


@pytest.mark.django_db
def test_a_single_file_over_the_limit_is_refused_with_413(client, secretary, meeting, _evidence_storage):
    every_limit_1_mb()

    response = client_for(client, secretary).post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "video", "files": [upload("long.mp4", b"\x00" * (1024 * 1024 + 10))]},
    )

    assert response.status_code == 413
    assert response.wsgi_request.evidence_oversized == ["long.mp4"]
    assert "long.mp4：文件过大：「视频」单个文件不能超过 1 MB。" in response.content.decode()
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_a_request_longer_than_the_limit_is_refused_from_its_content_length(
    client, secretary, meeting, _evidence_storage
):
    every_limit_1_mb()

    response = client_for(client, secretary).post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload(f"{i}.png", png_bytes() + b"\x00" * 800_000) for i in range(3)]},
    )

    assert response.status_code == 413
    assert "超过单次上传上限 2 MB，请分批上传" in response.content.decode()
    assert not hasattr(response.wsgi_request, "_files")  # the body was never parsed
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_an_upload_without_files_or_category_is_refused_with_the_forms_message(client, secretary, meeting):
    c = client_for(client, secretary)
    url = reverse("supervision:evidence_upload", args=[meeting.pk])

    no_files = c.post(url, {"category": "photo"})
    bad_category = c.post(url, {"category": "selfie", "files": [upload("a.png", png_bytes())]})

    assert no_files.status_code == bad_category.status_code == 400
    assert "请选择要上传的文件。" in no_files.content.decode()
    assert "选择一个有效的选项" in bad_category.content.decode()
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_an_upload_needs_the_csrf_token(secretary, meeting, _evidence_storage):
    from django.test import Client

    c = client_for(Client(enforce_csrf_checks=True), secretary)

    response = c.post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload("a.png", png_bytes())]},
    )

    assert response.status_code == 403
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_the_upload_form_offers_several_files_and_the_camera(client, secretary, meeting):
    html = (
        client_for(client, secretary).get(reverse("supervision:meeting_evidence", args=[meeting.pk])).content.decode()
    )

    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="files" id="id_files" class="form-control" multiple accept="image/*,' in html
    assert 'capture="environment"' in html
    assert "会议照片 20 MB" in html and "视频 500 MB" in html


# --- The page refreshes itself while files are processed ---------------------------------


@pytest.mark.django_db
def test_the_page_refreshes_itself_while_a_file_is_processing_and_stops_after_a_while(client, secretary, meeting):
    (ev,) = services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))], category="photo", user=secretary, now=NOW, meeting=meeting
    ).saved
    c = client_for(client, secretary)
    url = reverse("supervision:meeting_evidence", args=[meeting.pk])

    first = c.get(url).content.decode()
    later = c.get(url, {"refresh": "3"}).content.decode()
    given_up = c.get(url, {"refresh": "24"}).content.decode()
    services.evidence_process(evidence_id=ev.pk, now=NOW)
    done = c.get(url, {"refresh": "4"}).content.decode()

    assert f'data-refresh-url="{url}?refresh=1" data-refresh-seconds="5"' in first
    assert f'data-refresh-url="{url}?refresh=4"' in later
    assert "data-refresh-url" not in given_up and "刷新页面" in given_up
    assert "data-refresh-url" not in done
    assert "处理中" not in done.split('id="evidence-gallery"')[1]


@pytest.mark.django_db
def test_the_meeting_page_links_to_its_evidence(client, member, meeting):
    html = client_for(client, member).get(reverse("meetings:meeting_detail", args=[meeting.pk])).content.decode()

    assert reverse("supervision:meeting_evidence", args=[meeting.pk]) in html


# --- Query counts ------------------------------------------------------------------------

# Session read and save (inside a savepoint), user, scope (4), the meeting, the evidence with its uploaders, the inbox
# badge and the navbar's member name (base.html); the secretary adds the policy (upload limits)
# and Django's model permissions (2), read once a refused rule falls through to ModelBackend.
PAGE_QUERIES = {"secretary": 13, "supervisor": 8}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["secretary", "supervisor"])
@pytest.mark.parametrize("count", [1, 12])
def test_the_evidence_page_makes_the_same_queries_for_1_or_12_files(
    client, people, meeting, role, count, django_assert_num_queries
):
    secretary = people["secretary"]
    for i in range(count):
        data = png_bytes(color=(i * 20 % 256, 40, 90))
        upload_and_process(meeting, secretary, f"{i}.png", data)
    c = client_for(client, people[role])
    url = reverse("supervision:meeting_evidence", args=[meeting.pk])

    with django_assert_num_queries(PAGE_QUERIES[role]):
        response = c.get(url)

    assert response.content.decode().count('class="card h-100 evidence-item"') == count


@pytest.mark.django_db
def test_a_download_loads_the_evidence_and_its_meeting_in_one_query(client, member, photo, django_assert_num_queries):
    c = client_for(client, member)
    url = reverse("supervision:evidence_file", args=[photo.pk])
    c.get(url)  # the session and scope queries are the same for every request; count them apart

    # Session read, its save (inside a savepoint: 3), user, scope (4), the evidence with its meeting,
    # and the audit log's INSERT (who downloaded which file from where).
    with django_assert_num_queries(8) as captured:
        b"".join(c.get(url).streaming_content)

    evidence_queries = [q["sql"] for q in captured.captured_queries if "supervision_evidence" in q["sql"]]
    assert len(evidence_queries) == 1
    assert "meetings_meeting" in evidence_queries[0]


@pytest.mark.django_db
def test_uploading_twice_within_a_second_stores_the_file_once(client, secretary, meeting, _evidence_storage):
    c = client_for(client, secretary)
    url = reverse("supervision:evidence_upload", args=[meeting.pk])
    data = sample("gps_DSCN0042.jpg")

    c.post(url, {"category": "photo", "files": [upload("a.jpg", data)]})
    response = c.post(url, {"category": "photo", "files": [upload("a.jpg", data)]}, follow=True)

    assert response.redirect_chain == [(reverse("supervision:meeting_evidence", args=[meeting.pk]), 302)]
    assert services.DUPLICATE_MESSAGE in response.content.decode()
    assert Evidence.objects.count() == 1
    assert len(stored_files(_evidence_storage)) == 1


@pytest.mark.django_db
def test_the_time_of_an_upload_is_the_servers(client, secretary, meeting):
    before = dt.datetime.now(tz=dt.UTC)
    client_for(client, secretary).post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "signin", "files": [upload("签到.png", png_bytes())]},
    )

    ev = Evidence.objects.get()
    assert before <= ev.uploaded_at <= dt.datetime.now(tz=dt.UTC)
    assert ev.category == Evidence.Category.SIGNIN


# --- Evidence of findings and rectifications ---------------------------------------------


@pytest.fixture
def finding(branch, supervisor):
    from supervision.models import Finding

    return Finding.objects.create(
        branch=branch, category="records", description="会议记录不完整", raised_by=supervisor, raised_at=NOW
    )


@pytest.fixture
def rectification(finding, secretary):
    from supervision.models import Rectification

    return Rectification.objects.create(
        finding=finding, branch=finding.branch, owner=secretary, due_at=NOW + dt.timedelta(days=30), created_at=NOW
    )


def finding_evidence(user, **owner):
    (ev,) = services.evidence_upload(
        files=[upload("整改照片.png", png_bytes())], category="other", user=user, now=NOW, **owner
    ).saved
    assert services.evidence_process(evidence_id=ev.pk, now=NOW)
    return ev


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("owner", ["finding", "rectification"])
def test_a_findings_evidence_is_served_to_the_supervisors_and_the_branch_committee_only(
    client, people, finding, rectification, role, owner
):
    ev = finding_evidence(people["supervisor"], **{owner: finding if owner == "finding" else rectification})
    url = reverse("supervision:evidence_file", args=[ev.pk])

    response = client_for(client, people[role]).get(url)

    if role in {"secretary", "supervisor"}:
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
    elif role == "anonymous":
        assert refused(response, role, url)
    else:
        # An ordinary member does not see the branch's findings; neither does another branch.
        assert response.status_code == 404


@pytest.mark.django_db
def test_the_rectifications_owner_deletes_its_evidence_and_returns_to_the_finding(
    client, secretary, member, finding, rectification, _evidence_storage, django_capture_on_commit_callbacks
):
    ev = finding_evidence(secretary, rectification=rectification)
    url = reverse("supervision:evidence_delete", args=[ev.pk])

    assert client_for(client, member).post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(client, secretary).post(url)

    assert response.status_code == 302
    assert response.url == reverse("supervision:finding_detail", args=[finding.pk])
    assert not Evidence.objects.exists()
    assert stored_files(_evidence_storage) == []


@pytest.mark.django_db
def test_a_verified_rectification_takes_no_more_evidence_and_keeps_what_it_has(
    secretary, rectification, _evidence_storage
):
    from django.core.exceptions import ValidationError

    ev = finding_evidence(secretary, rectification=rectification)
    rectification.status = "verified"
    rectification.save(update_fields=["status"])
    before = snapshot(_evidence_storage)

    with pytest.raises(ValidationError):
        services.evidence_upload(
            files=[upload("b.png", png_bytes(color=(1, 2, 3)))],
            category="other",
            user=secretary,
            now=NOW,
            rectification=rectification,
        )
    with pytest.raises(ValidationError):
        services.evidence_delete(
            evidence=Evidence.objects.select_related("rectification").get(pk=ev.pk), user=secretary, now=NOW
        )

    assert snapshot(_evidence_storage) == before


@pytest.mark.django_db
def test_a_refused_upload_answered_while_files_process_refreshes_the_gallery_not_the_upload(client, secretary, meeting):
    services.evidence_upload(
        files=[upload("a.jpg", sample("Canon_40D.jpg"))], category="photo", user=secretary, now=NOW, meeting=meeting
    )

    response = client_for(client, secretary).post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload("bomb.png", pixel_bomb_png())]},
    )

    assert response.status_code == 400
    page = reverse("supervision:meeting_evidence", args=[meeting.pk])
    assert f'data-refresh-url="{page}?refresh=1"' in response.content.decode()
