/* Spot-check scores: one line per service centre, average score per ISO week, drawn with ECharts. */
(function () {
  "use strict";

  var element = document.getElementById("qa-trend");
  var source = document.getElementById("qa-trend-data");
  if (!element || !source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.series.length) {
    element.textContent = element.dataset.noData;
    element.classList.add("text-body-secondary");
    return;
  }
  var chart = echarts.init(element);
  chart.setOption({
    animation: false,
    // Tooltips drawn on the canvas: HTML tooltips carry style attributes the CSP refuses.
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 40, right: 16, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.weeks },
    yAxis: { type: "value", min: 0, max: 100, name: data.labels.score },
    series: data.series.map(function (line) {
      return { name: line.name, type: "line", connectNulls: true, data: line.data };
    }),
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
