// Polls the export job's status until it is done or failed; without JS the page's 刷新 link does the same.
(function () {
  const box = document.getElementById("export-job");
  if (!box) return;
  const bar = document.getElementById("export-progress-bar");
  const label = document.getElementById("export-state");
  const poll = function () {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.style.width = s.percent + "%";
        bar.setAttribute("aria-valuenow", s.percent);
        bar.textContent = s.percent + "%";
        label.textContent = s.state_label;
        if (s.state === "done" || s.state === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  };
  if (box.dataset.active === "1") window.setTimeout(poll, 1000);
})();
