/* The evidence page reloads itself while files are processed (处理中), but never while the user
   has chosen files that are not uploaded yet or an upload is on its way: that would lose them. */
(function () {
  "use strict";
  var note = document.getElementById("evidence-processing-note");
  if (!note || !note.dataset.refreshUrl) {
    return;
  }
  var delay = (parseInt(note.dataset.refreshSeconds, 10) || 5) * 1000;

  function busy() {
    var inputs = document.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].files && inputs[i].files.length) {
        return true;
      }
    }
    return document.querySelector("form[data-submitted]") !== null;
  }

  function tick() {
    if (busy()) {
      window.setTimeout(tick, delay);
      return;
    }
    window.location.replace(note.dataset.refreshUrl);
  }
  window.setTimeout(tick, delay);
})();
