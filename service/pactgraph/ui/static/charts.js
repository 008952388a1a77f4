// pactgraph query page: a "Chart" view of results that are a series or a count by category,
// registered as a YASR plugin (YASR's own plugin interface) and drawn with Chart.js, which is
// pinned in package-lock.json and served from /ui/vendor/ like YASGUI (its UMD build needs
// no eval, so it runs under the page's Content-Security-Policy).
//
// - a column of dates or years and a numeric column: a line over time, one line per value of
//   a short categorical column when there is one (e.g. assistance totals by kind of figure);
// - otherwise label columns and numeric columns: horizontal bars, one bar set per numeric
//   column (e.g. instruments by status, commitments by partner).
// The table stays the default view; the chart is offered only when the results fit one.
(function () {
  "use strict";

  if (typeof Yasgui === "undefined" || typeof Chart === "undefined") {
    return;
  }
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(
    ["integer", "decimal", "double", "float", "int", "long", "short", "byte",
      "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
      "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"].map(function (n) { return XSD + n; })
  );
  const TEMPORAL = new Set(["date", "dateTime", "gYear", "gYearMonth"].map(function (n) { return XSD + n; }));
  // Okabe and Ito's palette: told apart with any colour vision.
  const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];
  const MAX_BARS = 60;
  const MAX_SERIES = 8;
  const compactNumber = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
  const fullNumber = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

  function every(bindings, name, test) {
    const bound = bindings.filter(function (b) { return b[name]; });
    return bound.length > 0 && bound.every(function (b) { return test(b[name]); });
  }

  function isNumber(v) {
    return v.type !== "uri" && NUMERIC.has(v.datatype) && Number.isFinite(Number(v.value));
  }

  function isTemporal(v) {
    return v.type !== "uri" && TEMPORAL.has(v.datatype) && yearOf(v.value) !== null;
  }

  function yearOf(value) {
    const m = /^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(value);
    if (!m) {
      return null;
    }
    const year = parseInt(m[1], 10);
    if (!m[2]) {
      return year;
    }
    const start = Date.UTC(year, 0, 1);
    const day = Date.UTC(year, parseInt(m[2], 10) - 1, parseInt(m[3] || "1", 10));
    return year + (day - start) / (365.25 * 86400000);
  }

  function shortIri(iri) {
    return iri.replace(/^.*[/#]/, "");
  }

  function text(v) {
    return v ? (v.type === "uri" ? shortIri(v.value) : v.value) : "";
  }

  // What a result set can be drawn as, or null.
  function spec(results) {
    if (!results || results.hasError() || !results.getVariables) {
      return null;
    }
    const vars = results.getVariables() || [];
    const rows = results.getBindings() || [];
    if (rows.length < 2 || rows.length > 1000) {
      return null;
    }
    const numeric = vars.filter(function (v) { return every(rows, v, isNumber); });
    if (!numeric.length) {
      return null;
    }
    const temporal = vars.filter(function (v) { return every(rows, v, isTemporal); });
    const literal = vars.filter(function (v) {
      return numeric.indexOf(v) < 0 && temporal.indexOf(v) < 0 &&
        every(rows, v, function (b) { return b.type !== "uri"; });
    });
    const labels = literal.filter(function (v) { return /label$/i.test(v); });
    if (temporal.length) {
      // Series: the short categorical columns (2 to 8 values each), together when their
      // combinations stay few (a reported total and a per-year figure are not one line).
      const distinct = function (cols) {
        return new Set(rows.map(function (b) {
          return cols.map(function (c) { return text(b[c]); }).join(" · ");
        })).size;
      };
      const short = (labels.length ? labels : literal).filter(function (v) {
        const n = distinct([v]);
        return n >= 2 && n <= MAX_SERIES;
      });
      const series = distinct(short) <= MAX_SERIES ? short : short.slice(0, 1);
      return {
        kind: "time", x: temporal[0], y: numeric.slice(0, series.length ? 1 : MAX_SERIES),
        series: series.length ? series : null,
      };
    }
    let names = labels.length ? labels : literal.slice(0, 1);
    if (!names.length) {
      names = vars.filter(function (v) { return numeric.indexOf(v) < 0; }).slice(0, 1);
    }
    if (!names.length) {
      return null;
    }
    return { kind: "bars", names: names, y: numeric.slice(0, MAX_SERIES) };
  }

  function timeConfig(s, rows) {
    const groups = new Map();
    rows.forEach(function (b) {
      const key = s.series ? s.series.map(function (c) { return text(b[c]); }).join(" · ") || "(none)" : null;
      s.y.forEach(function (y) {
        if (!b[s.x] || !b[y]) {
          return;
        }
        const name = s.series ? key : y;
        if (!groups.has(name)) {
          groups.set(name, []);
        }
        groups.get(name).push({ x: yearOf(b[s.x].value), y: Number(b[y].value), when: b[s.x].value });
      });
    });
    const datasets = Array.from(groups.keys()).sort().map(function (name, i) {
      const points = groups.get(name).sort(function (a, b) { return a.x - b.x; });
      return {
        label: name, data: points, showLine: true, borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length], pointRadius: 4, tension: 0,
      };
    });
    return {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        scales: {
          x: { type: "linear", title: { display: true, text: s.x },
               ticks: { callback: function (v) { return Number.isInteger(v) ? String(v) : ""; } } },
          y: { title: { display: true, text: s.y.join(", ") },
               ticks: { callback: function (v) { return compactNumber.format(v); } } },
        },
        plugins: {
          tooltip: { callbacks: { label: function (c) {
            return c.dataset.label + ": " + fullNumber.format(c.raw.y) + " (" + c.raw.when + ")";
          } } },
        },
      },
      description: "Line chart of " + s.y.join(", ") + " over " + s.x +
        (s.series ? ", one line per " + s.series.join(" and ") : "") + ".",
    };
  }

  function barConfig(s, rows) {
    const shown = rows.slice(0, MAX_BARS);
    const labels = shown.map(function (b) {
      return s.names.map(function (n) { return text(b[n]); }).filter(Boolean).join(" · ");
    });
    const datasets = s.y.map(function (y, i) {
      return {
        label: y, data: shown.map(function (b) { return b[y] ? Number(b[y].value) : 0; }),
        backgroundColor: COLOURS[i % COLOURS.length],
      };
    });
    return {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: "y",
        scales: { x: { ticks: { callback: function (v) { return compactNumber.format(v); } } },
                  y: { ticks: { autoSkip: false } } },
      },
      bars: shown.length,
      description: "Bar chart of " + s.y.join(", ") + " by " + s.names.join(" and ") +
        (rows.length > MAX_BARS ? " (the first " + MAX_BARS + " of " + rows.length + " rows)" : "") + ".",
    };
  }

  class ChartPlugin {
    constructor(yasr) {
      this.yasr = yasr;
      this.priority = 5;
      this.label = "Chart";
      this.chart = null;
    }

    canHandleResults() {
      return spec(this.yasr.results) !== null;
    }

    getIcon() {
      const icon = document.createElement("div");
      icon.className = "svgImg";
      icon.innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" aria-hidden="true">' +
        '<path d="M1 15h14v-1H2V1H1zm2-2h2V8H3zm3 0h2V4H6zm3 0h2V6H9zm3 0h2V2h-2z"/></svg>';
      return icon;
    }

    draw() {
      const s = spec(this.yasr.results);
      if (!s) {
        return;
      }
      const rows = this.yasr.results.getBindings();
      const config = s.kind === "time" ? timeConfig(s, rows) : barConfig(s, rows);
      const box = document.createElement("div");
      box.className = "pactgraph-chart";
      const height = s.kind === "time" ? 420 : Math.max(240, 60 + config.bars * (14 + 8 * config.data.datasets.length));
      box.style.height = height + "px";
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", config.description);
      canvas.textContent = config.description + " The Table view shows the same results.";
      box.appendChild(canvas);
      const note = document.createElement("p");
      note.className = "chart-note";
      note.textContent = config.description;
      this.yasr.resultsEl.appendChild(box);
      this.yasr.resultsEl.appendChild(note);
      config.options = Object.assign({
        responsive: true, maintainAspectRatio: false, animation: false,
      }, config.options);
      this.chart = new Chart(canvas, { type: config.type, data: config.data, options: config.options });
      document.body.dataset.chartDrawn = config.type;
    }

    destroy() {
      if (this.chart) {
        this.chart.destroy();
        this.chart = null;
      }
    }
  }

  Yasgui.Yasr.registerPlugin("chart", ChartPlugin);
  window.pactgraphChartSpec = spec; // for the browser tests and the console
})();
