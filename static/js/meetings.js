/* Meeting pages: no inline scripts (CSP), so every behaviour hangs off data attributes. */
(function () {
  "use strict";

  // A form marked data-once submits once: a double click or a second tap does not send it again.
  // (The server refuses duplicates as well; this only spares the user the second round trip.)
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "1";
      // Disable after the browser has read the clicked button's name and value.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  // data-confirm="question": ask before submitting (deleting a vote, cancelling).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  // Formsets: "add" buttons clone the <template id="PREFIX-empty"> row and renumber it.
  document.querySelectorAll("[data-formset-add]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.dataset.formsetAdd;
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var template = document.getElementById(prefix + "-empty");
      var container = document.getElementById(prefix + "-forms");
      if (!total || !template || !container) {
        return;
      }
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var number = holder.querySelector("[data-number]");
      if (number) {
        number.textContent = String(index + 1);
      }
      while (holder.firstChild) {
        container.appendChild(holder.firstChild);
      }
      total.value = String(index + 1);
    });
  });

  // Plan form: show the lecturer and lesson fields for a 党课, the theme tags for a 主题党日,
  // the group for a 党小组会 (each type checkbox lists the fields it needs in data-needs).
  // Hidden fields stay in the form; the server validates them either way.
  var planForm = document.getElementById("meeting-plan-form");
  if (planForm) {
    var typeBoxes = planForm.querySelectorAll("input[name=types]");
    var optional = ["lecturer", "lesson_title", "theme_tags", "group"];
    var wrapperOf = function (name) {
      var field = planForm.querySelector("[name=" + name + "]");
      return field ? field.closest(".mb-3") : null;
    };
    var update = function () {
      var needed = {};
      typeBoxes.forEach(function (box) {
        if (box.checked) {
          (box.dataset.needs || "").split(" ").forEach(function (n) { if (n) { needed[n] = true; } });
        }
      });
      optional.forEach(function (name) {
        var wrapper = wrapperOf(name);
        if (!wrapper) {
          return;
        }
        // Never hide a field that holds a value or an error: the user must see what is sent.
        var field = planForm.querySelector("[name=" + name + "]");
        var filled = field.type === "checkbox" ? !!wrapper.querySelector(":checked") : !!field.value;
        var invalid = !!wrapper.querySelector(".is-invalid");
        wrapper.classList.toggle("d-none", !needed[name] && !filled && !invalid);
      });
    };
    typeBoxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

})();
