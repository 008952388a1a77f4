// pactgraph query page: YASGUI bound to this service's /sparql, plus the example questions.
// YASGUI itself is served from /ui/vendor/ (installed by npm ci, never from a CDN).
(function () {
  "use strict";

  const root = document.getElementById("yasgui");
  if (!root || typeof Yasgui === "undefined") {
    return; // the page already explains how to install the editor
  }
  const endpoint = new URL("/sparql", window.location.href).href;

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

  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    // Offer only this endpoint (the default catalogue lists third-party services).
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    // The class/property completers call a third-party vocabulary service; a query page that
    // promises "nothing leaves this origin" keeps only the local ones.
    yasqe: { autocompleters: ["prefixes", "variables"] },
    // ?query=...&tabTitle=... opens (and runs) a query: that is what the permalinks use.
    populateFromUrl: true,
    persistenceId: "pactgraph",
  });
  window.pactgraphYasgui = yasgui; // handy from the browser console

  let examples = {};

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
