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

// The idle timeout warning, after GOV.UK's timeout warning pattern. Staff are logged out
// after data-idle-timeout seconds without a request (the server may notice a request up to
// data-idle-touch seconds late). Shortly before that, ask /session/ how long is left
// (asking is not activity, so another tab's work counts); with two minutes or less left,
// say so in a dialog with a countdown: "Stay logged in" keeps the session, "Log out" logs
// out; when the time is up, go to the login page, which comes back to this page.
(function () {
  "use strict";

  var WARN_SECONDS = 120;

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var timeout = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
    if (!timeout) {
      return;
    }
    var touch = parseInt(body.getAttribute("data-idle-touch") || "0", 10);
    var statusUrl = body.getAttribute("data-session-url");
    var loginUrl = body.getAttribute("data-login-url");
    var warnAt = Math.min(WARN_SECONDS, Math.floor(timeout / 2));
    var timer = null;
    var ticker = null;
    var dialog = null;

    function csrfToken() {
      var field = document.querySelector(".site-nav form input[name=csrfmiddlewaretoken]");
      return field ? field.value : "";
    }

    function schedule(seconds) {
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(seconds, 1) * 1000);
    }

    function ask(method) {
      var options = { method: method, credentials: "same-origin", headers: {} };
      if (method === "POST") {
        options.headers["X-CSRFToken"] = csrfToken();
      }
      return fetch(statusUrl, options).then(function (response) {
        if (!response.ok) {
          return { remaining: 0 };
        }
        return response.json();
      });
    }

    function loggedOut() {
      var here = window.location.pathname + window.location.search;
      window.location.assign(loginUrl + "?next=" + encodeURIComponent(here));
    }

    function check() {
      ask("GET").then(
        function (answer) {
          var left = answer.remaining;
          if (left === null || left === undefined) {
            return; // no longer timed out (another role): nothing to warn of
          }
          if (left <= 0) {
            loggedOut();
          } else if (left <= warnAt + 1) {
            warn(left);
          } else {
            close();
            schedule(left - warnAt);
          }
        },
        function () {
          schedule(30); // the network failed: ask again shortly
        }
      );
    }

    function words(seconds) {
      var minutes = Math.floor(seconds / 60);
      var rest = seconds % 60;
      var parts = [];
      if (minutes) {
        parts.push(minutes + (minutes === 1 ? " minute" : " minutes"));
      }
      if (rest || !minutes) {
        parts.push(rest + (rest === 1 ? " second" : " seconds"));
      }
      return parts.join(" ");
    }

    function build() {
      dialog = document.createElement("dialog");
      dialog.id = "timeout-warning";
      dialog.className = "timeout-warning";
      dialog.setAttribute("aria-labelledby", "timeout-title");
      dialog.setAttribute("aria-describedby", "timeout-text");
      dialog.innerHTML =
        '<h2 id="timeout-title">You are about to be logged out</h2>' +
        '<p id="timeout-text">For your security, you will be logged out in ' +
        '<strong id="timeout-countdown"></strong> without activity.</p>' +
        '<p class="timeout-buttons"><button type="button" id="timeout-stay">Stay logged in</button> ' +
        '<button type="button" id="timeout-logout" class="secondary">Log out</button></p>';
      document.body.appendChild(dialog);
      dialog.addEventListener("cancel", function (event) {
        event.preventDefault(); // Escape means "stay", as the button
        stay();
      });
      dialog.querySelector("#timeout-stay").addEventListener("click", stay);
      dialog.querySelector("#timeout-logout").addEventListener("click", function () {
        var form = document.querySelector(".site-nav form");
        if (form) {
          form.submit();
        }
      });
    }

    function warn(left) {
      if (!dialog) {
        build();
      }
      var ends = Date.now() + left * 1000;
      var countdown = dialog.querySelector("#timeout-countdown");
      function tick() {
        var seconds = Math.max(Math.ceil((ends - Date.now()) / 1000), 0);
        countdown.textContent = words(seconds);
        if (seconds <= 0) {
          clearInterval(ticker);
          check(); // ended, unless another tab kept the session
        }
      }
      clearInterval(ticker);
      tick();
      ticker = setInterval(tick, 1000);
      if (!dialog.open) {
        dialog.showModal();
        dialog.querySelector("#timeout-stay").focus();
      }
    }

    function close() {
      clearInterval(ticker);
      if (dialog && dialog.open) {
        dialog.close();
      }
    }

    function stay() {
      ask("POST").then(function (answer) {
        if (!answer.remaining) {
          loggedOut();
          return;
        }
        close();
        schedule(answer.remaining - warnAt);
      }, loggedOut);
    }

    // The server's clock started at this page's request, or up to `touch` seconds before.
    schedule(timeout - touch - warnAt);
  });
})();
