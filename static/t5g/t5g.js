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
  document.addEventListener("t5g:updated", function (event) { draw(event.target); });
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
  document.addEventListener("t5g:updated", function (event) { showTools(event.target); });
})();

// ---- Pages that update themselves (t5g/live.py) --------------------------------------------------
// Every data-poll seconds, while the tab is visible, the page asks /changes/ whether the data it was rendered
// from (data-generation) changed: 204 while not. When it did, the page fetches itself and swaps <main> in place,
// keeping the scroll position, the address (filters, sort) and the expanded rows (shown at once, then re-read),
// and says so quietly in the header. Not while the user is typing in a field of the page: it waits for the next.
(function () {
  var body = document.body;
  if (!body || !body.dataset.live || !window.fetch) return;
  var every = Math.max(5, parseInt(body.dataset.poll, 10) || 15) * 1000;
  var busy = false;

  function typing(main) {
    var el = document.activeElement;
    return el && main.contains(el) && el.matches("input, select, textarea") && el.type !== "checkbox";
  }
  function note() {
    var el = document.getElementById("live-note");
    if (!el) return;
    var now = new Date();
    el.textContent = "updated " + String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
    el.title = "The data on this page changed and it updated itself at " + now.toLocaleTimeString();
  }
  function update(main) {
    var open = Array.prototype.map.call(main.querySelectorAll("[data-expand][aria-expanded='true']"), function (link) {
      var row = link.closest("tr"), detail = row && row.nextElementSibling;
      return { url: link.getAttribute("hx-get"), detail: detail && detail.classList.contains("case-detail") ? detail : null };
    });
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store", headers: { "X-T5G-Live": "1" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (!html || typing(main)) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("main");
        if (!fresh) return;
        var y = window.scrollY;
        main.innerHTML = fresh.innerHTML;
        if (page.body.dataset.generation) body.dataset.generation = page.body.dataset.generation;
        open.forEach(function (was) {
          var link = main.querySelector('[data-expand][hx-get="' + CSS.escape(was.url) + '"]');
          var row = link && link.closest("tr");
          if (!row || !was.detail) return;
          row.after(was.detail);
          link.setAttribute("aria-expanded", "true");
          link.textContent = "\u25be";
          if (window.htmx) window.htmx.ajax("GET", was.url, { target: was.detail, swap: "outerHTML" });
        });
        if (window.htmx) window.htmx.process(main);
        main.dispatchEvent(new CustomEvent("t5g:updated", { bubbles: true }));
        window.scrollTo(0, y);
        note();
      });
  }
  function poll() {
    var main = document.querySelector("main");
    if (busy || document.visibilityState !== "visible" || !main) return;
    busy = true;
    var url = body.dataset.live + "?since=" + encodeURIComponent(body.dataset.generation || "");
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status !== 200 || typing(main)) return null;
        return update(main);
      })
      .catch(function () { /* offline or signed out: try again next time */ })
      .then(function () { busy = false; });
  }
  // A refresh that just ended (its widget's last poll): show its data now, not at the next poll.
  document.addEventListener("t5g:refreshed", function () {
    var main = document.querySelector("main");
    if (main && !busy) { busy = true; update(main).catch(function () {}).then(function () { busy = false; }); }
  });
  setInterval(poll, every);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") poll(); });
})();
