// django-celery-beat's periodic task form (its inline script, which the Content-Security-Policy blocks):
// the chosen crontab's schedule in words under the crontab field.
(function () {
  "use strict";
  const script = document.currentScript;
  function start() {
    const data = document.getElementById("readable-crontabs");
    const select = document.getElementById("id_crontab");
    const help = document.querySelector(".field-crontab .help");
    document.querySelectorAll(".field-crontab_translation").forEach((row) => { row.hidden = true; });
    if (!data || !select || !help) return;
    const readable = JSON.parse(data.textContent);
    const original = script.dataset.crontabHelp || "";
    function update() {
      help.textContent = original;
      const words = readable[select.value];
      if (words) {
        help.appendChild(document.createElement("br"));
        help.appendChild(document.createTextNode("Translation: " + words));
      }
    }
    select.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
