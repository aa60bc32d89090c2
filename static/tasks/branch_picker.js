// The dispatch form's branch picker: filter by name (opening the groups that match), tick a whole
// 党总支, count the ticked branches. Without JS the groups open and tick one by one.
(function () {
  document.querySelectorAll("[data-branch-picker]").forEach(function (picker) {
    const search = picker.querySelector("[data-branch-search]");
    const count = picker.querySelector("[data-branch-count]");
    const boxes = function (scope) {
      return Array.from(scope.querySelectorAll('.form-check input[type="checkbox"]'));
    };
    const recount = function () {
      count.textContent = boxes(picker).filter(function (b) { return b.checked; }).length;
    };
    const filter = function () {
      const needle = search.value.trim();
      picker.querySelectorAll("[data-branch-group]").forEach(function (group) {
        let shown = 0;
        group.querySelectorAll("[data-branch-name]").forEach(function (row) {
          const hit = !needle || row.dataset.branchName.indexOf(needle) !== -1;
          row.hidden = !hit;
          if (hit) shown += 1;
        });
        group.hidden = shown === 0;
        if (needle) group.open = shown > 0;
      });
    };
    picker.querySelectorAll("[data-branch-all]").forEach(function (all) {
      // A click on the label inside <summary> must not fold the group.
      all.closest("label").addEventListener("click", function (e) { e.stopPropagation(); });
      all.addEventListener("change", function () {
        boxes(all.closest("[data-branch-group]")).forEach(function (b) {
          if (!b.closest("[data-branch-name]").hidden) b.checked = all.checked;
        });
        recount();
      });
    });
    search.addEventListener("input", filter);
    picker.addEventListener("change", recount);
    recount();
  });
})();
