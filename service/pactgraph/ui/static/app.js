// pactgraph query page: YASGUI bound to this service's /sparql, plus the example questions.
// YASGUI itself is served from /ui/vendor/ (installed by npm ci, never from a CDN).
//
// What is configured here rather than written anew:
// - the editor's first query (this graph's first example, with its PREFIX lines) and the
//   graph's prefixes for the results (Yasgui `yasqe.value`, `yasr.prefixes`);
// - the results table is YASR's own table plugin, subclassed only where it decides how one
//   cell reads: literals as values (numbers grouped and sortable as numbers, dates spelled
//   out, language tags small), IRIs compacted with the graph's prefixes and linked to this
//   service's entity pages, no ellipsis (full headers; the table scrolls inside its pane);
// - `autofocus: false`, so a phone opens the page at its top, not scrolled to the editor;
// - a few attributes YASGUI leaves out (labels of the editor and of the table's controls).
(function () {
  "use strict";

  const root = document.getElementById("yasgui");
  if (!root || typeof Yasgui === "undefined") {
    return; // the page already explains how to install the editor
  }
  const pageConfig = JSON.parse(document.getElementById("pactgraph-config").textContent);
  const endpoint = new URL("/sparql", window.location.href).href;
  const BASE = pageConfig.base; // the public base of our IRIs (https://w3id.org/pactgraph/)
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
  const NUMERIC = new Set(
    [
      "integer", "decimal", "double", "float", "int", "long", "short", "byte",
      "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
      "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
    ].map(function (name) { return XSD + name; })
  );
  const MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
  ];

  // A permalink may carry only the query and its tab title. YASGUI would also take an
  // endpoint, request headers and output settings from the URL, which would let a crafted
  // link run a query against another service inside this page (the Content-Security-Policy
  // stops that request too; this keeps the page from even trying).
  const KEPT_PARAMETERS = ["query", "tabTitle"];
  const url = new URL(window.location.href);
  const kept = new URLSearchParams();
  KEPT_PARAMETERS.forEach(function (name) {
    if (url.searchParams.has(name)) {
      kept.set(name, url.searchParams.get(name));
    }
  });
  if (kept.toString() !== url.searchParams.toString()) {
    url.search = kept.toString();
    window.history.replaceState(null, "", url.href);
  }

  // ------------------------------------------------------------------ reading values

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Longest namespace first, so `ot:defense` wins over a shorter vocabulary prefix.
  function compactor(prefixes) {
    const pairs = Object.keys(prefixes || {})
      .map(function (p) { return [p, prefixes[p]]; })
      .filter(function (pair) { return typeof pair[1] === "string" && pair[1]; })
      .sort(function (a, b) { return b[1].length - a[1].length; });
    return function (iri) {
      for (let i = 0; i < pairs.length; i++) {
        const ns = pairs[i][1];
        const local = iri.slice(ns.length);
        if (iri.indexOf(ns) === 0 && local && !/[/#]/.test(local)) {
          return pairs[i][0] + ":" + local;
        }
      }
      return iri;
    };
  }

  // Our own IRIs open this service's page about them; others open where they point.
  function hrefOf(iri) {
    return iri.indexOf(BASE) === 0 ? "/" + iri.slice(BASE.length) : iri;
  }

  function groupDigits(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Exact for any size (a decimal is never squeezed through a float): "3800000000.00" ->
  // "3,800,000,000"; doubles ("1.2E9") go through Number.
  function formatNumber(value, datatype) {
    const text = String(value).trim();
    const plain = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(text);
    if (plain) {
      const fraction = (plain[3] || "").replace(/0+$/, "");
      return (plain[1] === "-" ? "−" : "") + groupDigits(plain[2]) + (fraction ? "." + fraction : "");
    }
    const number = Number(text);
    if (Number.isFinite(number) && (datatype === XSD + "double" || datatype === XSD + "float")) {
      return number.toLocaleString("en-US", { maximumSignificantDigits: 15 });
    }
    return text;
  }

  function formatDate(value) {
    const m = /^(-?\d{4,})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value);
    if (!m) {
      return value;
    }
    const day = parseInt(m[3], 10) + " " + MONTHS[parseInt(m[2], 10) - 1] + " " + m[1];
    return m[4] && (m[4] !== "00" || m[5] !== "00") ? day + ", " + m[4] + ":" + m[5] : day;
  }

  function formatYearMonth(value) {
    const m = /^(-?\d{4,})-(\d{2})/.exec(value);
    return m ? MONTHS[parseInt(m[2], 10) - 1] + " " + m[1] : value;
  }

  function isNumeric(binding) {
    return binding && binding.type !== "uri" && NUMERIC.has(binding.datatype) &&
      Number.isFinite(Number(binding.value));
  }

  // ------------------------------------------------------------------ the results table

  let yasgui = null; // set below; the table may draw a stored response while it is made
  const BaseTable = Yasgui.Yasr.plugins.table;

  class PactTable extends BaseTable {
    constructor(yasr) {
      super(yasr);
      this.config = Object.assign({}, BaseTable.defaults, { openIriInNewWindow: false });
    }

    getUriLinkFromBinding(binding, prefixes) {
      const iri = binding.value;
      const shown = compactor(prefixes)(iri);
      const href = hrefOf(iri);
      const external = href === iri ? ' rel="noopener noreferrer external"' : "";
      return '<a class="iri" href="' + escapeHtml(href) + '" title="' + escapeHtml(iri) + '"' +
        external + ">" + escapeHtml(shown) + "</a>";
    }

    formatLiteral(binding, prefixes) {
      const datatype = binding.datatype;
      const lang = binding["xml:lang"];
      const value = binding.value;
      if (lang) {
        return '<span lang="' + escapeHtml(lang) + '">' + escapeHtml(value) +
          '</span> <span class="lit-lang" aria-label="language ' + escapeHtml(lang) + '">' +
          escapeHtml(lang) + "</span>";
      }
      const tip = datatype ? ' title="' + escapeHtml(compactor(prefixes)(datatype)) + '"' : "";
      if (NUMERIC.has(datatype)) {
        return '<span class="lit-num"' + tip + ">" + escapeHtml(formatNumber(value, datatype)) + "</span>";
      }
      if (datatype === XSD + "date" || datatype === XSD + "dateTime") {
        return '<time class="lit-date" datetime="' + escapeHtml(value) + '"' + tip + ">" +
          escapeHtml(formatDate(value)) + "</time>";
      }
      if (datatype === XSD + "gYearMonth") {
        return '<time class="lit-date" datetime="' + escapeHtml(value) + '"' + tip + ">" +
          escapeHtml(formatYearMonth(value)) + "</time>";
      }
      if (datatype === XSD + "gYear") {
        return '<time class="lit-date" datetime="' + escapeHtml(value) + '"' + tip + ">" +
          escapeHtml(value) + "</time>";
      }
      if (!datatype || datatype === XSD + "string" || datatype === RDF_LANG_STRING ||
          datatype === XSD + "boolean") {
        return escapeHtml(value);
      }
      if (datatype === XSD + "anyURI") {
        return this.getUriLinkFromBinding({ type: "uri", value: value }, prefixes);
      }
      return escapeHtml(value) + ' <span class="lit-type">' +
        escapeHtml(compactor(prefixes)(datatype)) + "</span>";
    }

    // Numbers sort as numbers; a column of numbers is right-aligned like a spreadsheet's.
    getColumns() {
      const columns = super.getColumns();
      const bindings = (this.yasr.results && this.yasr.results.getBindings()) || [];
      return columns.map(function (column, index) {
        if (index === 0) {
          return Object.assign({}, column, { title: "#" }); // a header for the row numbers
        }
        const name = column.name;
        const bound = bindings.filter(function (b) { return b[name]; });
        const numeric = bound.length > 0 && bound.every(function (b) { return isNumeric(b[name]); });
        const render = column.render;
        return Object.assign({}, column, {
          className: numeric ? "dt-right num" : "",
          type: numeric ? "num" : undefined,
          render: function (data, type, row, meta) {
            if (data && (type === "sort" || type === "type") && isNumeric(data)) {
              return Number(data.value);
            }
            return render(data, type, row, meta);
          },
        });
      });
    }

    draw(persistentConfig) {
      // No ellipsis unless asked for: headers and values in full, the pane scrolls sideways.
      super.draw(Object.assign({ isEllipsed: false }, persistentConfig));
      repair(this.yasr.rootEl);
    }
  }
  PactTable.defaults = BaseTable.defaults;
  Yasgui.Yasr.registerPlugin("table", PactTable);

  // The first element after `el` that the Tab key reaches (where Esc leaves the editor for).
  function nextFocusable(el) {
    const all = document.querySelectorAll(
      'a[href], button:not([disabled]), input:not([type="hidden"]), select, [tabindex]:not([tabindex="-1"])'
    );
    for (let i = 0; i < all.length; i++) {
      const candidate = all[i];
      if (!el.contains(candidate) && candidate.offsetParent !== null &&
          (el.compareDocumentPosition(candidate) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        return candidate;
      }
    }
    return null;
  }

  // Small repairs of YASGUI's markup, applied whenever it draws something new:
  // - the run and share buttons move out of the editor into a row above it, so they never
  //   cover the query's first line (YASGUI positions them over the text);
  // - the "add tab" button moves out of the tab list (a tablist may only own tabs);
  // - the editor's scrolling box forwards focus to the editor (it is reachable by keyboard);
  // - names YASGUI leaves off its controls (screen readers otherwise read "edit text").
  function repair(scope) {
    (scope || document).querySelectorAll(".CodeMirror > .yasqe_buttons").forEach(function (buttons) {
      const editor = buttons.parentElement;
      editor.parentElement.insertBefore(buttons, editor);
      const scroller = editor.querySelector(".CodeMirror-scroll");
      if (scroller && editor.CodeMirror) {
        scroller.setAttribute("tabindex", "0");
        scroller.setAttribute("aria-label", "SPARQL query");
        scroller.addEventListener("focus", function () { editor.CodeMirror.focus(); });
      }
    });
    const tabs = yasgui && yasgui.tabElements;
    if (tabs && tabs.addTabEl && tabs._tabsListEl && tabs.addTabEl.parentElement === tabs._tabsListEl) {
      tabs._tabsListEl.after(tabs.addTabEl);
      tabs.addTabEl.className = "addTabWrapper";
      tabs.addTabEl = undefined; // new tabs are then appended at the end of the list
    }
    label(scope);
  }

  function label(scope) {
    const named = [
      [".tableSizer", "Rows per page"],
      [".CodeMirror textarea", "SPARQL query"],
      [".controlbar .autocomplete", "SPARQL endpoint"],
      [".tableFilter", "Filter query results"],
    ];
    named.forEach(function (pair) {
      (scope || document).querySelectorAll(pair[0]).forEach(function (el) {
        if (!el.getAttribute("aria-label")) {
          el.setAttribute("aria-label", pair[1]);
        }
      });
    });
    // A pane that scrolls sideways is reachable with the keyboard.
    (scope || document).querySelectorAll(".yasr_results").forEach(function (el) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "region");
      el.setAttribute("aria-label", "Query results");
    });
  }

  // ------------------------------------------------------------------ the editor

  const examples = {};
  const firstQuery = pageConfig.defaultQuery || undefined;

  yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    autofocus: false,
    tabName: "Query",
    // Offer only this endpoint (the default catalogue lists third-party services).
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: {
      // The class/property completers call a third-party vocabulary service; a query page
      // that promises "nothing leaves this origin" keeps only the local ones.
      autocompleters: ["prefixes", "variables"],
      value: firstQuery,
      editorHeight: "22rem",
      extraKeys: {
                // Esc leaves the editor for what follows it; Shift-Tab for what precedes it.
        Esc: function (cm) {
          const next = nextFocusable(cm.getWrapperElement());
          if (next) {
            next.focus();
          } else {
            cm.getInputField().blur();
          }
        },
        "Shift-Tab": false,
      },
    },
    yasr: { prefixes: pageConfig.prefixes, pluginOrder: ["table", "chart", "response"] },
    // ?query=...&tabTitle=... opens (and runs) a query: that is what the permalinks use.
    populateFromUrl: true,
    persistenceId: "pactgraph",
  });
  window.pactgraphYasgui = yasgui; // handy from the browser console

  // The `# title:` line of a query names its tab, and the browser's tab follows the active one.
  function titleOf(query) {
    const m = /^\s*#\s*title:\s*(.+)$/im.exec(query || "");
    return m ? m[1].trim() : null;
  }

  function showTitle(tab, results) {
    const name = tab ? tab.getName() : "";
    const count = results === undefined ? "" : " (" + results + " result" + (results === 1 ? "" : "s") + ")";
    document.title = (name ? name + count + " — " : "") + "pactgraph SPARQL query";
  }

  yasgui.on("query", function (instance, tab) {
    const title = titleOf(tab.getQuery());
    if (title && title !== tab.getName()) {
      tab.setName(title);
    }
  });
  yasgui.on("queryResponse", function (instance, tab) {
    // YASR draws the response just after this event.
    window.setTimeout(function () {
      const yasr = tab.getYasr();
      const results = yasr && yasr.results;
      const bindings = results && !results.hasError() && results.getBindings();
      showTitle(tab, bindings ? bindings.length : undefined);
      repair(tab.rootEl);
      document.body.dataset.lastRun = tab.getName();
    }, 0);
  });
  yasgui.on("tabSelect", function (instance, id) {
    window.setTimeout(function () { showTitle(yasgui.getTab(id)); repair(); }, 0);
  });
  repair();
  showTitle(yasgui.getTab());

  function openExample(name) {
    const ex = examples[name];
    if (!ex) {
      return;
    }
    const tab = yasgui.addTab(
      true,
      { name: ex.title, yasqe: { value: ex.query }, requestConfig: { endpoint: endpoint } },
      { avoidDuplicateTabs: true }
    );
    tab.show();
    tab.setQuery(ex.query);
    repair();
    tab.query();
  }

  fetch("/ui/examples.json", { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("examples: HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (list) {
      list.forEach(function (ex) {
        examples[ex.name] = ex;
      });
      document.querySelectorAll("button.example-open").forEach(function (button) {
        button.addEventListener("click", function () {
          openExample(button.dataset.name);
        });
        button.disabled = false;
      });
      document.body.dataset.examplesReady = "true";
    })
    .catch(function (error) {
      console.error(error);
    });
})();
