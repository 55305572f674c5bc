/* The reports dashboard: draw the chart data the page carries (or fetch it for the page's filters) with
   ECharts, and open the list behind a chart element when it is clicked. The server sends each element's address with the data. */
(function () {
  "use strict";

  var root = document.getElementById("charts");
  if (!root || typeof echarts === "undefined") {
    return;
  }
  var labels = JSON.parse(document.getElementById("chart-labels").textContent);
  var charts = [];

  /* The legend keeps to one scrolling line at the top, and the plot starts below it, so the legend never
     covers an axis name ("天", "户数") whatever the width (a phone's legend would wrap onto the names). */
  var LEGEND_HEIGHT = 28;
  var AXIS_NAME_ROOM = 36;
  function laidOut(option) {
    if (!option.legend) {
      return option;
    }
    option.legend = Object.assign({ type: "scroll", top: 0, left: "center", width: "90%" }, option.legend);
    var axes = [].concat(option.yAxis || []);
    var named = axes.some(function (axis) { return axis.name; });
    axes.forEach(function (axis) {
      if (axis.name) {
        axis.nameGap = 18;  // clear of the top tick label
      }
    });
    option.grid = Object.assign({}, option.grid, {
      top: LEGEND_HEIGHT + (named ? AXIS_NAME_ROOM : 12),
    });
    return option;
  }

  function draw(id, option, onClick) {
    var element = document.getElementById(id);
    // SVG: crisp when printed, and each text is an element (tests check that none overlap).
    var chart = echarts.init(element, null, { renderer: "svg" });
    var merged = Object.assign({ animation: false, tooltip: { trigger: "axis" } }, laidOut(option));
    // Tooltips drawn by the chart itself: ECharts' HTML tooltips carry style attributes, which the
    // Content-Security-Policy (style-src 'self') refuses.
    merged.tooltip = Object.assign({}, merged.tooltip, { renderMode: "richText" });
    chart.setOption(merged);
    if (onClick) {
      chart.on("click", function (params) {
        var target = onClick(params);
        if (target) {
          window.location.assign(target);
        }
      });
      element.style.cursor = "pointer";
    }
    charts.push(chart);
    return chart;
  }

  function empty(id) {
    var element = document.getElementById(id);
    element.textContent = root.dataset.noData;
    element.classList.add("d-flex", "align-items-center", "justify-content-center", "text-body-secondary");
    element.style.height = "8rem";
  }

  function connections(data) {
    var c = data.connections;
    if (!c.months.length) {
      return empty("chart-connections");
    }
    draw(
      "chart-connections",
      {
        legend: { top: 0 },
        grid: { left: 40, right: 40, top: 40, bottom: 30 },
        xAxis: { type: "category", data: c.months },
        yAxis: [
          { type: "value", name: labels.count, minInterval: 1 },
          { type: "value", name: labels.days },
        ],
        series: [
          { name: labels["with"], type: "bar", stack: "n", data: c.with_count },
          { name: labels.without, type: "bar", stack: "n", data: c.without_count },
          { name: labels.with_days, type: "line", yAxisIndex: 1, data: c.with_days, connectNulls: true },
          { name: labels.without_days, type: "line", yAxisIndex: 1, data: c.without_days, connectNulls: true },
          { name: labels.avg_days, type: "line", yAxisIndex: 1, data: c.avg_days, connectNulls: true },
        ],
      },
      function (p) {
        var key = p.seriesIndex === 0 || p.seriesIndex === 2 ? "with" : p.seriesIndex === 1 || p.seriesIndex === 3 ? "without" : "all";
        return c.links[key][p.dataIndex];
      }
    );
  }

  function gap(data) {
    var rows = data.gap;
    if (!rows.length) {
      return empty("chart-gap");
    }
    draw(
      "chart-gap",
      {
        legend: { top: 0 },
        grid: { left: 40, right: 20, top: 40, bottom: 60 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.service_center; }), axisLabel: { interval: 0, rotate: 20 } },
        yAxis: { type: "value", name: labels.days },
        series: [
          { name: labels.system_days, type: "bar", data: rows.map(function (r) { return r.system_days; }) },
          { name: labels.customer_days, type: "bar", data: rows.map(function (r) { return r.customer_days; }) },
          { name: labels.gap_days, type: "line", data: rows.map(function (r) { return r.gap_days; }) },
        ],
      },
      function (p) { return rows[p.dataIndex].link; }
    );
  }

  function funnel(data) {
    var f = data.funnel;
    if (!f.tasks) {
      return empty("chart-funnel");
    }
    var pct = function (x) { return (x * 100).toFixed(1) + "%"; };
    draw(
      "chart-funnel",
      {
        tooltip: { trigger: "item" },
        title: {
          text: labels.contact_rate + " " + pct(f.contact_rate) + " · " + labels.rr1 + " " + pct(f.response_rate_rr1),
          subtext: labels.attempts + " " + f.attempts + " · " + labels.satisfaction + " " + f.satisfaction_avg,
          left: "center", bottom: 0, textStyle: { fontSize: 13 },
        },
        series: [{
          type: "funnel", top: 10, bottom: 50, sort: "none", minSize: "10%",
          label: { formatter: "{b}: {c}" },
          data: [
            { name: labels.tasks, value: f.tasks },
            { name: labels.called, value: f.called },
            { name: labels.contacted, value: f.contacted },
            { name: labels.completed, value: f.completed },
          ],
        }],
      },
      function (p) {
        // Each stage opens its own list: the tasks, every attempt, the contacted ones, the completed ones.
        return [f.links.tasks, f.links.attempts, f.links.contacted, f.links.completed][p.dataIndex];
      }
    );
  }

  function findings(data) {
    var f = data.findings;
    if (!f.series.length) {
      return empty("chart-findings");
    }
    draw(
      "chart-findings",
      {
        legend: { top: 0, type: "scroll" },
        grid: { left: 40, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: f.months },
        yAxis: { type: "value", minInterval: 1 },
        series: f.series.map(function (s) { return { name: s.label, type: "line", data: s.counts }; }),
      },
      function (p) { return f.series[p.seriesIndex].links[p.dataIndex]; }
    );
  }

  function cases(data) {
    var c = data.cases;
    var states = c.states;
    if (!states.some(function (s) { return s.count; })) {
      return empty("chart-cases");
    }
    var names = states.map(function (s) { return s.label; }).concat([labels.overdue]);
    var values = states.map(function (s) { return s.count; }).concat([{ value: c.overdue, itemStyle: { color: "#dc3545" } }]);
    draw(
      "chart-cases",
      {
        grid: { left: 40, right: 20, top: 20, bottom: 50 },
        xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: 20 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: labels.cases, type: "bar", data: values }],
      },
      function (p) { return p.dataIndex < states.length ? states[p.dataIndex].link : c.overdue_link; }
    );
  }

  function penalties(data) {
    var rows = data.penalties;
    if (!rows.length) {
      return empty("chart-penalties");
    }
    draw(
      "chart-penalties",
      {
        legend: { top: 0 },
        grid: { left: 50, right: 50, top: 40, bottom: 60 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.service_center; }), axisLabel: { interval: 0, rotate: 20 } },
        yAxis: [{ type: "value", name: labels.yuan }, { type: "value", name: labels.person_times, minInterval: 1 }],
        series: [
          { name: labels.yuan, type: "bar", data: rows.map(function (r) { return r.amount_yuan; }) },
          { name: labels.person_times, type: "bar", yAxisIndex: 1, data: rows.map(function (r) { return r.person_times; }) },
        ],
      },
      function (p) { return rows[p.dataIndex].link; }
    );
  }

  // The page carries its chart data (data-charts); /reports/charts.json gives the same for other filters.
  var loaded = root.dataset.charts
    ? Promise.resolve(JSON.parse(root.dataset.charts))
    : fetch(root.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      });
  loaded
    .then(function (data) {
      [connections, gap, funnel, findings, cases, penalties].forEach(function (render) { render(data); });
      root.dataset.loaded = "true";
    })
    .catch(function () {
      var alert = document.createElement("div");
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      alert.textContent = root.dataset.error;
      root.prepend(alert);
    });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
