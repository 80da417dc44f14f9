// T5G's only script: draws the charts whose Chart.js configuration a page embeds with json_script
// (<canvas data-chart="ID"> reads <script id="ID" type="application/json">). No inline scripts: the
// Content-Security-Policy forbids them.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      canvas.dataset.drawn = "1";
      var config = JSON.parse(source.textContent);
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      new window.Chart(canvas, config);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();

// ---- Cases table (/cases/): expandable rows ------------------------------------------------------
// Each row's [data-expand] link fetches its detail row with htmx (hx-get, inserted after the row).
// Here: a second click collapses it instead of fetching again, and "expand all" / "collapse all".
// Without JavaScript the link opens the case's detail page and these buttons stay hidden.
(function () {
  function detailRow(link) {
    var row = link.closest("tr");
    var next = row && row.nextElementSibling;
    return next && next.classList.contains("case-detail") ? next : null;
  }
  function collapse(link) {
    var child = detailRow(link);
    if (child) child.remove();
    link.setAttribute("aria-expanded", "false");
    link.textContent = "▸";
  }
  function showTools(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".expand-tools[hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    if (!link.matches || !link.matches("[data-expand]")) return;
    if (detailRow(link)) {
      event.preventDefault();
      collapse(link);
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var link = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (link && link.matches && link.matches("[data-expand]") && detailRow(link)) {
      link.setAttribute("aria-expanded", "true");
      link.textContent = "▾";
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-expand-all], [data-collapse-all]");
    if (!button || !window.htmx) return;
    var table = document.querySelector(".case-table");
    if (!table) return;
    table.querySelectorAll("[data-expand]").forEach(function (link) {
      if (button.hasAttribute("data-collapse-all")) collapse(link);
      else if (!detailRow(link)) link.click();
    });
  });
  document.addEventListener("DOMContentLoaded", function () { showTools(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showTools(event.target); });
})();
