// T5G's only script: draws the charts whose Chart.js configuration a page embeds with json_script
// (<canvas data-chart="ID"> reads <script id="ID" type="application/json">). No inline scripts: the
// Content-Security-Policy forbids them.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    // Text and grid lines in the page's colours (light or dark), not Chart.js's fixed greys.
    var style = getComputedStyle(document.body);
    window.Chart.defaults.color = style.color;
    window.Chart.defaults.borderColor = style.getPropertyValue("--line").trim() || window.Chart.defaults.borderColor;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      canvas.dataset.drawn = "1";
      var config = JSON.parse(source.textContent);
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      var chart = new window.Chart(canvas, config);
      if (multiSeries(config)) addShowHide(canvas, chart);
    });
  }
  // A chart of several series (lines, bars) gets "Hide all" / "Show all": with eleven series, reading one
  // means hiding ten. A pie's slices are one series.
  function multiSeries(config) {
    var sliced = ["pie", "doughnut", "polarArea"];
    return sliced.indexOf(config.type) < 0 && config.data && (config.data.datasets || []).length > 1;
  }
  function addShowHide(canvas, chart) {
    var tools = document.createElement("div");
    tools.className = "chart-tools";
    [["Hide all", false], ["Show all", true]].forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = choice[0];
      button.addEventListener("click", function () {
        chart.data.datasets.forEach(function (_, i) { chart.setDatasetVisibility(i, choice[1]); });
        chart.update();
      });
      tools.appendChild(button);
    });
    var box = canvas.closest(".chart") || canvas;
    box.parentNode.insertBefore(tools, box);
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
        main.dispatchEvent(new CustomEvent("t5g:updated", { bubbles: true, detail: { page: page } }));
        window.scrollTo(0, y);
        note();
        soon();
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
  // A page given a view's previous copy (its new one is being built, or is due in a few seconds: t5g/cache.py) says
  // so and asks again in a moment.
  function soon() {
    if (body.dataset.generation !== "old") return;
    var el = document.getElementById("live-note");
    if (el) {
      el.textContent = "updating…";
      el.title = "This page shows the data of a few seconds ago: it updates itself in a moment";
    }
    setTimeout(poll, 2000);
  }
  soon();
  setInterval(poll, every);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") poll(); });
})();

// ---- Cases table: shift-click on a column header adds it to the sort --------------------------------
// A plain click follows the header's link (sort by that column alone); with Shift, its data-sort-add URL:
// the column appended as the next sort key, or its direction turned when it is one already. The server
// answers with the canonical URL (HX-Push-Url), so the address bar keeps every key.
(function () {
  document.addEventListener("click", function (event) {
    var link = event.shiftKey && event.target.closest && event.target.closest("a[data-sort-add]");
    if (!link || !window.htmx) return;
    // Captured before htmx's own handler on the link, and before the browser opens a new window.
    event.preventDefault();
    event.stopPropagation();
    window.htmx.ajax("GET", link.getAttribute("data-sort-add"), { source: link, target: "#cases" });
  }, true);
})();

// ---- Copy buttons: <button class="copy" data-copy="text"> or data-copy-target="#selector" ----------------
// The Clipboard API where the page is a secure context (https, localhost), else the older execCommand on a
// hidden text area. A target is copied as text and as HTML (links survive a paste into mail). The buttons
// stay hidden without JavaScript; "Copied" shows beside the button and is announced to screen readers.
(function () {
  function viaTextArea(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  function copy(text, html) {
    var clipboard = window.isSecureContext && navigator.clipboard;
    if (!clipboard) return viaTextArea(text);
    var written;
    if (html && window.ClipboardItem && clipboard.write) {
      written = clipboard.write([new window.ClipboardItem({
        "text/plain": new Blob([text], { type: "text/plain" }),
        "text/html": new Blob([html], { type: "text/html" }),
      })]);
    } else {
      written = clipboard.writeText(text);
    }
    return written.catch(function () { return viaTextArea(text); });
  }
  function announce(button, message, ok) {
    var status = document.getElementById("copy-status");
    if (!status) {
      status = document.createElement("span");
      status.id = "copy-status";
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      document.body.appendChild(status);
    }
    status.textContent = message;
    // Inside the button, placed beside it (CSS): the table's columns do not move.
    var note = button.querySelector(".copy-note");
    if (!note) {
      note = document.createElement("span");
      note.className = "copy-note";
      note.setAttribute("aria-hidden", "true");
      button.appendChild(note);
    }
    note.textContent = message;
    note.classList.toggle("failed", !ok);
    clearTimeout(note.timer);
    note.timer = setTimeout(function () { note.remove(); status.textContent = ""; }, ok ? 2000 : 6000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy");
    if (!button) return;
    var text = button.getAttribute("data-copy"), html = null;
    var selector = button.getAttribute("data-copy-target");
    if (selector) {
      var target = document.querySelector(selector);
      if (!target) return;
      text = target.innerText.trim();
      html = target.innerHTML;
    }
    copy(text, html).then(
      function () { announce(button, "Copied", true); },
      function () { announce(button, "Could not copy: select the text and press Ctrl+C", false); }
    );
  });
  function show(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("button.copy[hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { show(document); });
  document.addEventListener("htmx:afterSettle", function (event) { show(event.target); });
  document.addEventListener("t5g:updated", function (event) { show(event.target); });
})();

// ---- The header's "data as of" (templates/t5g/_as_of.html) -------------------------------------------
// A page that updated itself (above) swapped only <main>: the header's line comes from the same fresh page.
document.addEventListener("t5g:updated", function (event) {
  var fresh = event.detail && event.detail.page && event.detail.page.querySelector(".as-of");
  var shown = document.querySelector(".as-of");
  if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
});

// ---- Cases table: columns, density, the facets drawer (issue 16) ---------------------------------------------
// The "Columns" menu lists the table's columns; the ones hidden (and the density) are remembered in this browser,
// for the signed-in user. By default Crit sit (its facet shows it) and Last updated are hidden, so every default
// column fits a laptop. Below ~1100 px the "Filters" button opens the facets drawer.
(function () {
  var KEY = "t5g.cases." + ((document.querySelector(".tools .user") || {}).textContent || "").trim();
  var DEFAULT_HIDDEN = [5, 15];
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function save(prefs) {
    try { localStorage.setItem(KEY, JSON.stringify(prefs)); } catch (e) { /* private mode: not remembered */ }
  }
  function apply(table, prefs) {
    var hidden = prefs.hidden || DEFAULT_HIDDEN;
    for (var n = 3; n <= 15; n++) table.classList.toggle("hide-c" + n, hidden.indexOf(n) >= 0);
    table.classList.toggle("comfortable", prefs.density === "comfortable");
  }
  function tools(root) {
    var table = (root.querySelector ? root : document).querySelector(".case-table");
    var slot = (root.querySelector ? root : document).querySelector("[data-table-tools]");
    if (!table) return;
    var prefs = load();
    apply(table, prefs);
    if (!slot || slot.dataset.built) return;
    slot.dataset.built = "1";
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "Columns";
    var menu = document.createElement("div");
    table.querySelectorAll("thead th").forEach(function (th, i) {
      var n = i + 1;
      if (n < 3) return;
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = !table.classList.contains("hide-c" + n);
      box.addEventListener("change", function () {
        var now = load();
        var hidden = (now.hidden || DEFAULT_HIDDEN).filter(function (h) { return h !== n; });
        if (!box.checked) hidden.push(n);
        now.hidden = hidden;
        save(now);
        apply(table, now);
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + th.textContent.replace(/[▲▼]\d*/g, "").trim()));
      menu.appendChild(label);
    });
    details.appendChild(summary);
    details.appendChild(menu);
    var density = document.createElement("button");
    density.type = "button";
    function label() { density.textContent = table.classList.contains("comfortable") ? "Compact rows" : "Comfortable rows"; }
    label();
    density.addEventListener("click", function () {
      var now = load();
      now.density = table.classList.contains("comfortable") ? "compact" : "comfortable";
      save(now);
      apply(table, now);
      label();
    });
    slot.appendChild(details);
    slot.appendChild(density);
    slot.hidden = false;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-facets-toggle]");
    if (!button) return;
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) return;
    var open = panel.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("DOMContentLoaded", function () { tools(document); });
  document.addEventListener("htmx:afterSettle", function (event) { tools(event.target); });
  document.addEventListener("t5g:updated", function (event) { tools(event.target); });
})();
