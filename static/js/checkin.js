// The secretary's check-in screen: refresh the QR code as its token rotates and
// show who has checked in. Text is set with textContent only (names are user data).
(function () {
  "use strict";
  var root = document.getElementById("checkin-screen");
  if (!root) {
    return;
  }
  var qr = document.getElementById("checkin-qr");
  var list = document.getElementById("checkin-list");
  var shared = document.getElementById("checkin-shared");
  var count = document.getElementById("checkin-count");
  var expected = document.getElementById("checkin-expected");
  var qrUrl = root.dataset.qrUrl;
  var liveUrl = root.dataset.liveUrl;
  var seconds = parseInt(root.dataset.refreshSeconds, 10) || 30;
  var firstMs = parseInt(root.dataset.nextRefreshMs, 10);
  if (!(firstMs >= 0)) {
    firstMs = seconds * 1000;
  }

  function refreshQr() {
    qr.src = qrUrl + "?_=" + Date.now();
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function render(data) {
    count.textContent = String(data.count);
    expected.textContent = String(data.expected);
    shared.replaceChildren();
    data.shared_devices.forEach(function (s) {
      shared.appendChild(el("div", "alert alert-warning m-2 py-2", "⚠ 同一设备签到 " + s.count + " 人：" + s.names.join("、")));
    });
    list.replaceChildren();
    if (!data.checked_in.length) {
      list.appendChild(el("li", "list-group-item text-muted", "尚无人签到"));
      return;
    }
    data.checked_in.forEach(function (c) {
      var item = el("li", "list-group-item d-flex");
      var who = el("span", "", c.name);
      if (c.probationary) {
        who.appendChild(document.createTextNode(" "));
        who.appendChild(el("span", "badge text-bg-secondary", "预备"));
      }
      if (c.shared) {
        who.appendChild(document.createTextNode(" "));
        who.appendChild(el("span", "badge text-bg-warning", "⚠ 同一设备"));
      }
      var when = el("span", "ms-auto", c.time + " ");
      if (c.status === "late") {
        when.appendChild(el("span", "badge text-bg-danger", c.status_label));
      }
      item.appendChild(who);
      item.appendChild(when);
      list.appendChild(item);
    });
  }

  function poll() {
    fetch(liveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (data) {
          render(data);
        }
      })
      .catch(function () {
        // A dropped request is retried on the next tick.
      });
  }

  // First refresh right after the slot turns, then once per slot.
  window.setTimeout(function () {
    refreshQr();
    window.setInterval(refreshQr, seconds * 1000);
  }, firstMs + 250);
  window.setInterval(poll, 5000);
})();
