// The pages' behaviour. A file, not inline script: the Content-Security-Policy
// (script-src 'self') runs no inline <script> and no onsubmit="..." attribute.
// Loaded in <head> without defer, and every handler is delegated from the
// document, so it is in place before the first form can be submitted.
(function () {
  "use strict";

  // The draft form's "Add another good": a new row from the formset's empty form.
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("#add-good");
    if (!button) {
      return;
    }
    var total = document.getElementById("id_goods-TOTAL_FORMS");
    var html = document.getElementById("empty-good").innerHTML.replace(/__prefix__/g, total.value);
    document.getElementById("good-rows").insertAdjacentHTML("beforeend", html);
    total.value = parseInt(total.value, 10) + 1;
  });
})();
