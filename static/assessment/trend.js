/* The participation trend chart: data from the page's <script type="application/json" id="trend-data">
   (no inline script under the CSP), drawn with the self-hosted Chart.js. The table below the chart
   carries the same numbers for screen readers and when scripts are off. */
(function () {
  "use strict";

  var holder = document.getElementById("trend-data");
  var canvas = document.getElementById("trend-chart");
  if (!holder || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(holder.textContent);
  var datasets = [
    {
      label: data.title + "参与率（%）",
      data: data.rates,
      borderColor: "#c8102e",
      backgroundColor: "rgba(200, 16, 46, 0.15)",
      spanGaps: false,
      tension: 0,
      pointRadius: 3
    }
  ];
  if (data.baseline !== null) {
    datasets.push({
      label: "基准期参与率（%）",
      data: data.labels.map(function () { return data.baseline; }),
      borderColor: "#6c757d",
      borderDash: [6, 4],
      pointRadius: 0,
      fill: false
    });
  }
  new window.Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      // The container (.chart-box) sets the height; the width alone would make it ~60 px on a phone.
      maintainAspectRatio: false,
      scales: {
        y: { suggestedMin: 0, suggestedMax: 100, ticks: { callback: function (v) { return v + "%"; } } }
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (ctx) {
              return ctx.dataset.label + "：" + (ctx.parsed.y === null ? "—" : ctx.parsed.y.toFixed(1) + "%");
            }
          }
        }
      }
    }
  });
})();
