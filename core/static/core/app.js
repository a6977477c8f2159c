/* SI-Gouvernance: keeps the keyboard focus where it was after an htmx swap.
   The button pressed (e.g. "Marquer comme lue") may leave with the swapped content:
   the focus goes to the first link or button of what replaced it, never to <body>. */
(function () {
  "use strict";
  let refocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const inside = target && target.id && target.contains(document.activeElement);
    refocus = inside ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (refocus === null) return;
    const swapped = document.getElementById(refocus);
    refocus = null;
    const next = swapped && swapped.querySelector("a[href], button");
    if (next) next.focus();
  });
})();

/* A "copy" button (data-copy-from: the id of the field to copy), hidden until the
   browser can copy; without it the field stays, to select and copy by hand. Its
   data-copied text is said in the live region "<button id>-status". */
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    const field = document.getElementById(button.dataset.copyFrom);
    if (!field) return;
    const status = document.getElementById(button.id + "-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = button.dataset.copied || "";
      }, function () {
        field.select();
      });
    });
  });
})();
