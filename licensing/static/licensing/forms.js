// The forms' behaviour (a file of its own beside site.js; the Content-Security-Policy
// runs no inline script): a page whose form failed moves the focus to its error
// summary, so a screen reader reads it first and the keyboard starts there.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
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
