// The forms' behaviour (a file of its own beside site.js; the Content-Security-Policy
// runs no inline script): a page whose form failed moves the focus to its error
// summary, so a screen reader reads it first and the keyboard starts there; a form
// shown again by "No, go back" gets the focus itself.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      return;
    }
    // "No, go back" on a confirmation: the form again, holding what was typed; start there.
    var returned = document.querySelector("form[data-returned]");
    var first = returned && returned.querySelector("select, textarea, input:not([type=hidden])");
    if (first) {
      first.scrollIntoView({ block: "center" });
      first.focus();
    }
  });

  // A summary's link moves the focus to its field, not only the view.
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("#error-summary a");
    if (!link) {
      return;
    }
    var hash = link.getAttribute("href");
    if (hash.charAt(0) !== "#") {
      return;
    }
    var field = document.getElementById(hash.slice(1));
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
      history.replaceState(null, "", hash);
    }
  });
})();
