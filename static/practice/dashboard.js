/* The 党建+业务 dashboard's charts: data from <script type="application/json" id="dashboard-data">
   (no inline script under the CSP), drawn with the self-hosted Chart.js. Each chart has a table
   under it with the same numbers, for screen readers and when scripts are off. */
(function () {
  "use strict";

  var holder = document.getElementById("dashboard-data");
  if (!holder || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(holder.textContent);
  var common = { animation: false, responsive: true, maintainAspectRatio: false };

  function bars(id, series, label, color) {
    var canvas = document.getElementById(id);
    if (!canvas || !series) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: series.labels, datasets: [{ label: label, data: series.values, backgroundColor: color }] },
      options: Object.assign({}, common, {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } }
      })
    });
  }

  bars("themes-chart", data.themes, "主题党日（次）", "rgba(200, 16, 46, 0.7)");
  bars("hazards-chart", data.hazards, "隐患（条）", "rgba(255, 153, 0, 0.8)");
  bars("states-chart", data.states, "攻关项目（个）", "rgba(13, 110, 253, 0.7)");

  var trend = document.getElementById("trend-chart");
  if (trend) {
    var datasets = [{
      label: data.title + "参与率（%）",
      data: data.trend.rates,
      borderColor: "#c8102e",
      backgroundColor: "rgba(200, 16, 46, 0.15)",
      tension: 0,
      pointRadius: 3
    }];
    if (data.trend.baseline !== null) {
      datasets.push({
        label: "基准期参与率（%）",
        data: data.trend.labels.map(function () { return data.trend.baseline; }),
        borderColor: "#6c757d",
        borderDash: [6, 4],
        pointRadius: 0,
        fill: false
      });
    }
    new window.Chart(trend, {
      type: "line",
      data: { labels: data.trend.labels, datasets: datasets },
      options: Object.assign({}, common, {
        scales: { y: { suggestedMin: 0, suggestedMax: 100, ticks: { callback: function (v) { return v + "%"; } } } }
      })
    });
  }
})();
