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

// A draft of what is typed into a form marked data-draft (the rulebook's keep_draft: a
// recommendation, a decision, a question...), kept in this browser tab (sessionStorage)
// under the form's address and its person, so a session that timed out, or a page left
// by mistake, loses nothing: the form is filled in again from it when the page shows it
// empty. Sending the form (or confirming it) and then landing on a page that says it was
// done clears the draft; a form the server shows again holding the input is not touched.
// Logging out with the header's button clears every draft of the tab.
(function () {
  "use strict";

  var PENDING = "draft-pending";
  var SKIP = { csrfmiddlewaretoken: 1, next: 1, query: 1, confirmed: 1, back: 1 };

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null; // storage turned off: no drafts
    }
  }

  function keyOf(address) {
    return "draft:" + address;
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && !SKIP[field.name] && field.type !== "hidden" && field.type !== "file";
    });
  }

  function save(form) {
    var store = storage();
    if (!store) {
      return;
    }
    var values = {};
    fields(form).forEach(function (field) {
      if (field.type === "checkbox") {
        values[field.name] = field.checked;
      } else if (field.multiple) {
        values[field.name] = Array.prototype.filter
          .call(field.options, function (option) { return option.selected; })
          .map(function (option) { return option.value; });
      } else {
        values[field.name] = field.value;
      }
    });
    var draft = { person: form.getAttribute("data-draft"), values: values };
    store.setItem(keyOf(form.getAttribute("action")), JSON.stringify(draft));
  }

  function restore(form) {
    var store = storage();
    var saved = store && store.getItem(keyOf(form.getAttribute("action")));
    if (!saved) {
      return;
    }
    var draft;
    try {
      draft = JSON.parse(saved);
    } catch (error) {
      return;
    }
    if (!draft || draft.person !== form.getAttribute("data-draft")) {
      return; // someone else's, in this tab before: never shown to another person
    }
    fields(form).forEach(function (field) {
      if (!(field.name in draft.values)) {
        return;
      }
      var value = draft.values[field.name];
      if (field.type === "checkbox") {
        field.checked = !!value;
      } else if (field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = value.indexOf(option.value) !== -1;
        });
      } else {
        field.value = value;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (!store) {
      return;
    }
    var pending = store.getItem(PENDING);
    if (pending) {
      store.removeItem(PENDING);
      if (document.querySelector(".messages .success")) {
        store.removeItem(keyOf(pending)); // sent and done
      }
    }
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), function (form) {
      // Shown again by the server (an error, "No, go back"): it holds the input already.
      if (form.hasAttribute("data-returned") || form.querySelector(".errorlist")) {
        save(form);
      } else {
        restore(form);
      }
    });
  });

  function changed(event) {
    var form = event.target instanceof Element && event.target.closest("form[data-draft]");
    if (form) {
      save(form);
    }
  }
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var store = storage();
    if (!store || !(form instanceof HTMLFormElement)) {
      return;
    }
    if (form.matches(".site-nav form")) {
      // Logging out on purpose: no draft stays behind in this tab for whoever comes next.
      Object.keys(store)
        .filter(function (key) { return key.indexOf("draft:") === 0; })
        .forEach(function (key) { store.removeItem(key); });
      return;
    }
    var confirming = form.id === "confirm-form" && event.submitter && event.submitter.id === "confirm";
    if (form.hasAttribute("data-draft") || confirming) {
      store.setItem(PENDING, form.getAttribute("action"));
    }
  });
})();
