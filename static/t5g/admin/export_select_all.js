// django-import-export's "Select all" on the export form: its onchange="…" attribute is an inline handler,
// which the Content-Security-Policy blocks. The attribute goes (so nothing is refused) and a listener does its job.
(function () {
  "use strict";
  function start() {
    document.querySelectorAll("input.select-toggle").forEach((toggle) => {
      toggle.removeAttribute("onchange");
      toggle.addEventListener("change", () => {
        document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]').forEach((box) => {
          box.checked = toggle.checked;
        });
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
