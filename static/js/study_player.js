/* The study player's progress reports (study.views_records.heartbeat).
 *
 * While the video or audio plays, every data-interval seconds the page reports the stretch
 * played since its last report: {from, to, sent_at}. A pause, the end, a seek and the page being
 * hidden or closed close the stretch and report it (the last one with sendBeacon, which survives
 * the page going away). A seek forward starts a new stretch where it lands, so the skipped part is
 * never reported. The server decides what is credited; this script only reports honestly and
 * resumes at the last position the page was given.
 */
(function () {
  "use strict";
  var panel = document.querySelector("[data-study-progress]");
  var media = document.querySelector("#study-item video, #study-item audio");
  if (!panel || !media || !panel.dataset.url) return;

  var url = panel.dataset.url;
  var intervalMs = Math.max(1, parseFloat(panel.dataset.interval) || 15) * 1000;
  var maxRate = parseFloat(panel.dataset.maxRate) || 2;
  var resume = parseFloat(panel.dataset.resume) || 0;
  var percentEl = document.getElementById("study-percent");
  var doneEl = document.getElementById("study-done");
  var warningEl = document.getElementById("study-warning");
  var start = null; // where the stretch being played began, null when not playing
  var last = 0; // the last position seen while playing (before a seek moves currentTime)
  var seeking = false;
  var chain = Promise.resolve();

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function warn(text) {
    if (!warningEl) return;
    warningEl.textContent = text || "";
    warningEl.classList.toggle("d-none", !text);
  }

  function show(data) {
    if (percentEl && typeof data.percent === "number") percentEl.textContent = data.percent;
    if (doneEl && data.completed) doneEl.classList.remove("d-none");
    warn(data.ok ? "" : data.reason);
  }

  function body(from, to) {
    return JSON.stringify({ from: from, to: to, sent_at: Date.now() });
  }

  // Reports go one after another, so they reach the server in the order they were made.
  function send(from, to) {
    if (from === null || !(to > from)) return;
    var payload = body(from, to);
    chain = chain.then(function () {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: payload,
      })
        .then(function (response) {
          return response.json().catch(function () {
            return { ok: false, reason: "进度上报失败（" + response.status + "）。" };
          });
        })
        .then(show)
        .catch(function () {
          warn("网络中断，这段进度未能上报。");
        });
    });
  }

  function beacon(from, to) {
    if (from === null || !(to > from)) return;
    var form = new URLSearchParams();
    form.append("csrfmiddlewaretoken", csrfToken());
    form.append("payload", body(from, to));
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, form))) send(from, to);
  }

  function close(to, viaBeacon) {
    var from = start;
    start = null;
    (viaBeacon ? beacon : send)(from, to);
  }

  function resumeAt() {
    if (resume > 1 && isFinite(media.duration) && resume < media.duration - 1) media.currentTime = resume;
  }
  if (media.readyState >= 1) resumeAt();
  else media.addEventListener("loadedmetadata", resumeAt, { once: true });

  media.addEventListener("play", function () {
    start = media.currentTime;
    last = start;
  });
  media.addEventListener("timeupdate", function () {
    if (!seeking && !media.paused) last = media.currentTime;
  });
  media.addEventListener("seeking", function () {
    // currentTime is already the target here: the stretch ends where playing last was.
    if (!seeking && start !== null) close(last, false);
    seeking = true;
  });
  media.addEventListener("seeked", function () {
    seeking = false;
    last = media.currentTime;
    if (!media.paused) start = last;
  });
  media.addEventListener("pause", function () {
    if (!seeking && start !== null) close(media.currentTime, false);
  });
  media.addEventListener("ended", function () {
    if (start !== null) close(media.duration, false);
  });
  media.addEventListener("ratechange", function () {
    if (media.playbackRate > maxRate) {
      media.playbackRate = maxRate;
      warn("最高按 " + maxRate + " 倍速计入学习。");
    }
  });

  setInterval(function () {
    if (start === null || media.paused || seeking) return;
    var now = media.currentTime;
    send(start, now);
    start = now;
  }, intervalMs);

  function leaving() {
    if (start !== null) {
      var now = media.currentTime;
      close(now, true);
      if (!media.paused) start = now;
    }
  }
  window.addEventListener("pagehide", leaving);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leaving();
  });
})();
