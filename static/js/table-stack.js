// Phone card lists (static/css/sanhui.css, .table-stack): give each cell its column's name so a
// row read as a card still says what each value is; and open the collapsed blocks (the ledger's
// months) before printing, so a printed ledger is complete.
(function () {
  "use strict";
  document.querySelectorAll("table.table-stack").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) {
      return;
    }
    var names = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      // A header may name itself for the cards (data-label); else its text, a <br> read as a space.
      var copy = cell.cloneNode(true);
      copy.querySelectorAll("br").forEach(function (br) {
        br.replaceWith(" ");
      });
      var name = cell.getAttribute("data-label") || copy.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) {
        names.push(name);
      }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && names[column]) {
            cell.setAttribute("data-label", names[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (block) {
      block.open = true;
    });
  });
})();
